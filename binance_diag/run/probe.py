"""Running one probe for the CLI: the guard, the live progress, the report delivered.

Kept apart from the commands so the CLI stays wiring and this stays importable without typer.
"""

from __future__ import annotations

import dataclasses
import gc
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ..config.guard import DEFAULT_SETTINGS, GuardSettings
from ..config.probe import ProbeConfig
from ..exitcodes import ExitCode, exit_code_for
from ..model import ProbeReport, StageName, Thresholds
from ..probe.base import Tracer
from ..probe.budget import run_budget
from ..probe.guard import ProbeGuard
from ..probe.runner import STAGES, ProbeProgress, StagePlan, interrupted_report, run_probe
from ..render.formats import OutputFormat
from ..watchdog.supervise import run_abandoning
from .deliver import Publication, deliver, publishing_within
from .interrupt import StopSignals, until_stopped
from .outfile import check_output

if TYPE_CHECKING:
    from ..render.base import Formatter
    from ..render.progress import StageProgress


def run_probe_command(
    config: ProbeConfig, output_format: OutputFormat, output: Path | None, command: str,
    thresholds: Thresholds | None = None, guard: GuardSettings = DEFAULT_SETTINGS, *,
    tracer: Tracer | None = None, stages: StagePlan = STAGES, quiet: bool = False,
    verbose: bool = False,
) -> ExitCode:
    """Probe under the loop watchdog and publish the report; the exit code (DESIGN.md §5).

    Whichever finishes first publishes: the run, or the hard deadline (from its own thread,
    when the loop is stuck), which then ends the process itself with the report's exit code.
    `quiet` (`-q`): stdout gets the verdict line only, files the whole report; `verbose`
    (`-v`): the wire-level trace on stderr (run/trace.py). Neither shows the live spinner.
    """
    check_output(output)
    if verbose:
        from .trace import VerboseTracer

        tracer = VerboseTracer()
        stages = tracer.traced(stages)
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
        return publish(report, output_format, output, quiet=quiet)

    publication = Publication(publish_report, "report", before=stop_display)
    watch = ProbeGuard(progress, tracer, publication.from_deadline, guard)

    def partial(signal_name: str) -> ProbeReport:
        return interrupted_report(progress, tracer, watch.stats(), signal_name)

    # Ctrl-C / SIGTERM: the partial report, then exit 130 / 143 (run/interrupt.py).
    stop = StopSignals(
        escalate=lambda signum: publication.from_deadline(
            partial(stop.signal_name), exit_code=stop.exit_code, last_line=stop.last_line),
        on_signal=lambda signum: tracer.event(f"{stop.signal_name} received: the run stops "
                                              "here, the report is partial"))
    display = None if quiet or verbose else _live_progress(tracer, watch.loop_lag_ms,
                                                                 config.timeouts.for_stage)
    started = time.monotonic()
    with stop:
        try:
            with watch:
                report = run_abandoning(until_stopped(
                    run_probe(config, tracer, command, stages, progress, loop=watch.stats),
                    stop, partial))
        finally:
            stop_display()
        # Rendering and writing stay inside the run's budget too (run/deliver.py).
        with publishing_within(run_budget(config, guard.grace) - (time.monotonic() - started),
                               output):
            code = publication.from_run(report)
    stop.reraise()
    return code


def _live_progress(tracer: Tracer, loop_lag: Callable[[], float | None] | None = None,
                   budgets: Callable[[StageName], float] | None = None,
                   ) -> StageProgress | None:
    """A spinner per stage on stderr, only when stderr is a terminal."""
    if not sys.stderr.isatty():
        return None
    from rich.console import Console

    from ..render.progress import StageProgress
    from ..render.terminal import no_color

    progress = StageProgress(Console(stderr=True, color_system=None if no_color() else "auto"),
                             loop_lag, budgets=budgets)
    tracer.listeners.append(progress)
    tracer.hold_watchers.append(progress)
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


@dataclasses.dataclass(frozen=True)
class VerdictDelivery(ReportDelivery):
    """`-q`: the terminal (or pipe) gets the verdict line alone; files get the report."""

    def show(self, formatter: Formatter, stream: TextIO) -> None:
        print(verdict_line(self.report), file=stream, flush=True)


def verdict_line(report: ProbeReport) -> str:
    """`CRITICAL: tls handshake timed out after 5.00s [tls.handshake_timeout]`: the Nagios
    line's state and text, without perfdata."""
    from ..render.nagios import STATES, summary

    code = exit_code_for(report)
    return f"{STATES[code]}: {' '.join(summary(report, code).split())}"


def publish(
    report: ProbeReport, output_format: OutputFormat, output: Path | None,
    stdout: TextIO | None = None, stderr: TextIO | None = None,
    environ: Mapping[str, str] | None = None, *, quiet: bool = False,
) -> ExitCode:
    """Diagnose a finished report and deliver it everywhere it was asked for (`deliver`)."""
    from ..diagnose import diagnose_report

    delivery = VerdictDelivery if quiet else ReportDelivery
    return deliver(delivery(diagnose_report(report)), output_format, output,
                   stdout, stderr, environ)
