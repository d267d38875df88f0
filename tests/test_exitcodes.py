"""exitcodes.py: the Nagios convention from a report's status and findings (DESIGN.md §5)."""

from __future__ import annotations

from dataclasses import replace

from binance_diag.exitcodes import ExitCode, exit_code_for
from binance_diag.model import ErrorKind, OverallStatus, Severity, StageName
from tests.reports import make_report


def test_the_codes_are_nagios_numbers() -> None:
    assert [int(c) for c in ExitCode] == [0, 1, 2, 3]


def test_healthy_is_ok_and_a_failed_stage_is_critical() -> None:
    assert exit_code_for(make_report()) is ExitCode.OK
    assert exit_code_for(make_report(fail=StageName.TCP, kind=ErrorKind.REFUSED)) is \
        ExitCode.CRITICAL


def test_degraded_is_a_warning_unless_a_finding_is_critical() -> None:
    healthy = make_report()
    warning = replace(healthy.findings[0], severity=Severity.WARNING)
    degraded = replace(healthy, findings=(warning,))
    assert degraded.status is OverallStatus.DEGRADED
    assert exit_code_for(degraded) is ExitCode.WARNING
    critical = replace(warning, severity=Severity.CRITICAL)
    assert exit_code_for(replace(healthy, findings=(critical,))) is ExitCode.CRITICAL
