"""Running one probe for the CLI: the guard, the live progress, the report delivered.

Kept apart from the commands so the CLI stays wiring and this stays importable without typer.
"""

from __future__ import annotations

import dataclasses
import gc
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ..config.guard import DEFAULT_SETTINGS, GuardSettings
from ..config.probe import ProbeConfig
from ..exitcodes import ExitCode, exit_code_for
from ..model import ProbeReport, Thresholds
from ..probe.base import Tracer
from ..probe.guard import ProbeGuard
from ..probe.runner import STAGES, ProbeProgress, StagePlan, run_probe
from ..render.formats import OutputFormat
from ..watchdog.supervise import run_abandoning
from .deliver import Publication, deliver
from .outfile import check_output

if TYPE_CHECKING:
    from ..render.base import Formatter
    from ..render.progress import StageProgress


def run_probe_command(
    config: ProbeConfig, output_format: OutputFormat, output: Path | None, command: str,
    thresholds: Thresholds | None = None, guard: GuardSettings = DEFAULT_SETTINGS, *,
    tracer: Tracer | None = None, stages: StagePlan = STAGES,
) -> ExitCode:
    """Probe under the loop watchdog and publish the report; the exit code (DESIGN.md §5).

    Whichever finishes first publishes: the run, or the hard deadline (from its own thread,
    when the loop is stuck), which then ends the process itself with the report's exit code.
    """
    check_output(output)
    tracer = tracer or Tracer()
    gc.freeze()  # imports out of the collector's sight: see run/__init__.py
    progress = ProbeProgress(config, command)
    display: StageProgress | None = None

    def stop_display() -> None:
        if display is not None:
            display.stop()

    def publish_report(report: ProbeReport) -> ExitCode:
        if thresholds:
            report = dataclasses.replace(report, thresholds=thresholds)
        return publish(report, output_format, output)

    publication = Publication(publish_report, "report", before=stop_display)
    watch = ProbeGuard(progress, tracer, publication.from_deadline, guard)
    display = _live_progress(tracer, watch.loop_lag_ms)
    try:
        with watch:
            report = run_abandoning(
                run_probe(config, tracer, command, stages, progress, loop=watch.stats))
    finally:
        stop_display()
    return publication.from_run(report)


def _live_progress(tracer: Tracer, loop_lag: Callable[[], float | None] | None = None
                   ) -> StageProgress | None:
    """A spinner per stage on stderr, only when stderr is a terminal."""
    if not sys.stderr.isatty():
        return None
    from rich.console import Console

    from ..render.progress import StageProgress
    from ..render.terminal import no_color

    progress = StageProgress(Console(stderr=True, color_system=None if no_color() else "auto"),
                             loop_lag)
    tracer.listeners.append(progress)
    progress.start()
    return progress


@dataclasses.dataclass(frozen=True)
class ReportDelivery:
    """One diagnosed report, as `deliver` hands it out."""

    report: ProbeReport
    what: str = "report"

    @property
    def exit_code(self) -> ExitCode:
        return exit_code_for(self.report)

    def render(self, formatter: Formatter) -> str:
        return formatter.format(self.report)

    def show(self, formatter: Formatter, stream: TextIO) -> None:
        formatter.show(self.report, stream)

    def annotation(self) -> str | None:
        from ..render.github import annotation

        return annotation(self.report)


def publish(
    report: ProbeReport, output_format: OutputFormat, output: Path | None,
    stdout: TextIO | None = None, stderr: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
) -> ExitCode:
    """Diagnose a finished report and deliver it everywhere it was asked for (`deliver`)."""
    from ..diagnose import diagnose_report

    return deliver(ReportDelivery(diagnose_report(report)), output_format, output,
                   stdout, stderr, environ)
