"""`binance-diag loopwatch -- python bot.py`: run a program with the loop watchdog attached."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from ..loopwatch.rendering import ReportFormat


def loopwatch(
    command: Annotated[
        list[str] | None,
        typer.Argument(metavar="PROGRAM",
                       help="The Python program to run, after --: python bot.py ARGS, "
                       "python -m module ARGS.", show_default=False),
    ] = None,
    threshold: Annotated[
        float, typer.Option("--threshold", help="Report the loop blocked this long (ms).",
                            metavar="MS")
    ] = 100.0,
    interval: Annotated[
        float, typer.Option("--interval", help="Heartbeat interval: how often lag is "
                            "measured (ms).", metavar="MS")
    ] = 50.0,
    report: Annotated[
        Path | None, typer.Option("--report", help="Write the full report to this file "
                                  "(- for stdout) when the program ends.", metavar="FILE")
    ] = None,
    report_format: Annotated[
        str | None, typer.Option("--format", help="Report format: text, json or markdown "
                                 "(default: from the --report file's suffix, else text).",
                                 metavar="text|json|markdown")
    ] = None,
) -> None:
    """Run a Python asyncio program unmodified and report every event-loop blockage:
    where (file:line, code) and why (known traps), as it happens and at exit."""
    from ..config.errors import ConfigError
    from ..run.loopwatch import LoopwatchRequest, run_loopwatch

    if command and "--" not in sys.argv[1:]:
        raise ConfigError("put the program after --, so that its options stay its own: "
                          "binance-diag loopwatch [OPTIONS] -- python bot.py")
    request = LoopwatchRequest(
        command=tuple(command or ()), threshold=threshold / 1000, interval=interval / 1000,
        report_path=report, report_format=_report_format(report_format, report),
    )
    raise typer.Exit(run_loopwatch(request))


def _report_format(name: str | None, report: Path | None) -> ReportFormat:
    from ..config.errors import ConfigError
    from ..loopwatch.rendering import ReportFormat

    if name is None:
        suffix = report.suffix.lower() if report else ""
        return {".json": ReportFormat.JSON, ".md": ReportFormat.MARKDOWN}.get(
            suffix, ReportFormat.TEXT)
    if report is None:
        raise ConfigError("--format needs --report FILE (or --report - for stdout)")
    try:
        return ReportFormat(name.lower())
    except ValueError:
        raise ConfigError(f"--format {name!r}: choose text, json or markdown") from None
