"""GitHub Actions: the verdict as a workflow annotation (`::error title=...::...`).

Pure; run/deliver.py prints the line and appends the Markdown report to the file GitHub
names in GITHUB_STEP_SUMMARY. Workflow-command escaping follows actions/toolkit's `command.ts`.
"""

from __future__ import annotations

from ..diagnose.describe import STAGE_ACTIONS, failure_phrase
from ..diagnose.matrix import EndpointMatrix
from ..exitcodes import ExitCode, exit_code_for
from ..model import ProbeReport
from .markup import plain


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(report: ProbeReport) -> str | None:
    """`::error title=...::...` for a failure, `::warning` when degraded, None when OK."""
    code = exit_code_for(report)
    if code is ExitCode.OK:
        return None
    command = "error" if code is ExitCode.CRITICAL else "warning"
    top = report.findings[0] if report.findings else None
    failed = report.failed_stage
    if failed is not None:
        title = f"binance-diag: {failed.name.value} failed"
        message = f"{STAGE_ACTIONS[failed.name]} {failure_phrase(failed)}"
    else:
        title = f"binance-diag: {report.status.value}"
        message = ""
    if top is not None:
        message = f"{message}: {plain(top.title)} ({top.id})" if message else \
            f"{plain(top.title)} ({top.id})"
    message += f" — {report.target.url}"
    return f"::{command} title={escape_property(title)}::{escape_data(message)}"


def matrix_annotation(matrix: EndpointMatrix) -> str | None:
    """The endpoint matrix's verdict as an annotation; None when every endpoint is OK."""
    code = matrix.verdict.exit_code
    if code is ExitCode.OK:
        return None
    command = "error" if code is ExitCode.CRITICAL else "warning"
    title = escape_property("binance-diag: endpoint matrix")
    return f"::{command} title={title}::{escape_data(matrix.verdict.text)}"
