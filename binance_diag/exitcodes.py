"""Exit codes, in one place (Nagios plugin convention, DESIGN.md §5)."""

from __future__ import annotations

from enum import IntEnum

from .model import OverallStatus, ProbeReport, Severity


class ExitCode(IntEnum):
    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3


def exit_code_for(report: ProbeReport) -> ExitCode:
    if report.status is OverallStatus.FAILED:
        return ExitCode.CRITICAL
    if any(f.severity is Severity.CRITICAL for f in report.findings):
        return ExitCode.CRITICAL
    if report.status is OverallStatus.DEGRADED:
        return ExitCode.WARNING
    return ExitCode.OK
