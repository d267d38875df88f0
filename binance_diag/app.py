"""Running a probe for the CLI: event loop, rendering, writing the output, the exit code.

Kept apart from cli.py so the CLI stays wiring and this stays importable without typer.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from .config import ProbeConfig
from .exitcodes import ExitCode, exit_code_for
from .model import ProbeReport, Thresholds
from .probe.base import Tracer
from .probe.guard import DEFAULT_SETTINGS, GuardSettings, ProbeGuard
from .probe.runner import STAGES, ProbeProgress, StagePlan, run_probe
from .supervise import run_abandoning

if TYPE_CHECKING:
    from .render.progress import StageProgress

EXPIRY_WAIT = 10.0
"""How long the main thread waits for the hard deadline's report and exit, if it lost the race."""


def render(report: ProbeReport, output_format: str) -> str:
    """The report in one `--format` (`rich` gives plain text: the terminal view, uncoloured)."""
    from .render.base import formatter_for

    return formatter_for(output_format).format(report)


def write_atomically(path: Path, text: str) -> None:
    """Write to a temporary file beside `path`, then rename: readers never see half a report."""
    directory = path.parent if str(path.parent) else Path(".")
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def run_probe_command(
    config: ProbeConfig, output_format: str, output: Path | None, command: str,
    thresholds: Thresholds | None = None, guard: GuardSettings = DEFAULT_SETTINGS, *,
    tracer: Tracer | None = None, stages: StagePlan = STAGES,
) -> ExitCode:
    """Probe under the loop watchdog and publish the report; the exit code (DESIGN.md §5).

    Whichever finishes first publishes: the run, or the hard deadline (from its own thread,
    when the loop is stuck), which then ends the process itself with the report's exit code.
    """
    tracer = tracer or Tracer()
    progress = ProbeProgress(config, command)
    claim = threading.Lock()

    def with_thresholds(report: ProbeReport) -> ProbeReport:
        return dataclasses.replace(report, thresholds=thresholds) if thresholds else report

    def on_expiry(report: ProbeReport) -> None:
        if not claim.acquire(blocking=False):
            return  # the run finished meanwhile and is publishing
        if display is not None:
            display.stop()
        code = publish(with_thresholds(report), output_format, output)
        _exit_now(int(code))

    watch = ProbeGuard(progress, tracer, on_expiry, guard)
    display = _live_progress(tracer, watch.loop_lag_ms)
    try:
        with watch:
            report = run_abandoning(
                run_probe(config, tracer, command, stages, progress, loop=watch.stats))
    finally:
        if display is not None:
            display.stop()
    if not claim.acquire(blocking=False):
        threading.Event().wait(EXPIRY_WAIT)  # the deadline's thread is publishing and exits
    return publish(with_thresholds(report), output_format, output)


def _exit_now(code: int) -> None:
    """End the process from a non-main thread, without waiting for the stuck loop thread."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def _live_progress(tracer: Tracer, loop_lag: Callable[[], float | None] | None = None
                   ) -> StageProgress | None:
    """A spinner per stage on stderr, only when stderr is a terminal."""
    if not sys.stderr.isatty():
        return None
    from rich.console import Console

    from .render.progress import StageProgress

    progress = StageProgress(Console(stderr=True), loop_lag)
    tracer.listeners.append(progress)
    progress.start()
    return progress


def publish(
    report: ProbeReport, output_format: str, output: Path | None,
    stdout: TextIO | None = None, stderr: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
) -> ExitCode:
    """Diagnose a finished report and deliver it everywhere it was asked for.

    `--output FILE` gets the chosen format while a terminal on stdout keeps the rich view;
    stdout that is not a terminal gets the chosen format. With GITHUB_STEP_SUMMARY set, the
    Markdown report is appended there and the verdict becomes a workflow annotation.
    """
    from .diagnose import diagnose_report
    from .render.base import MACHINE_FORMATS, formatter_for
    from .render.github import annotation, append_step_summary

    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    environ = os.environ if environ is None else environ
    report = diagnose_report(report)
    shown = output_format
    if output is not None:
        write_atomically(output, render(report, output_format))
        if stdout.isatty():
            shown = "rich"
    formatter_for(shown).show(report, stdout)
    summary = environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        try:
            append_step_summary(Path(summary), report)
        except OSError as exc:
            print(f"binance-diag: warning: cannot append to GITHUB_STEP_SUMMARY: {exc}",
                  file=stderr)
        line = annotation(report)
        if line is not None:
            print(line, file=stderr if shown in MACHINE_FORMATS else stdout, flush=True)
    return exit_code_for(report)
