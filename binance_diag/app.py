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

from .config import DEFAULT_SETTINGS, GuardSettings, ProbeConfig
from .exitcodes import ExitCode, exit_code_for
from .model import ProbeReport, Thresholds
from .probe.base import Tracer
from .probe.guard import ProbeGuard
from .probe.runner import STAGES, ProbeProgress, StagePlan, run_probe
from .supervise import exit_now, run_abandoning

if TYPE_CHECKING:
    from .render.progress import StageProgress

EXPIRY_WAIT = 10.0
"""How long the main thread waits for the hard deadline's report and exit, if it lost the race."""


def render(report: ProbeReport, output_format: str) -> str:
    """The report in one `--format` (`rich` gives plain text: the terminal view, uncoloured)."""
    from .render.base import formatter_for

    return formatter_for(output_format).format(report)


def check_output(path: Path | None) -> None:
    """Refuse an `--output` the report could not be written to, before probing (exit 3)."""
    if path is None:
        return
    from .config import ConfigError

    if str(path) in ("", ".") or path.is_dir():
        raise ConfigError(f"--output {str(path)!r}: a directory, not a file name")
    target = Path(os.path.realpath(path))
    if target.exists() and not target.is_file():
        if not os.access(target, os.W_OK):
            raise ConfigError(f"--output {path}: not writable")
        return  # a FIFO, a device, /dev/stdout: written in place
    parent = target.parent
    if not parent.is_dir():
        raise ConfigError(f"--output {path}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(f"--output {path}: directory {parent} is not writable")


def write_atomically(path: Path, text: str) -> None:
    """Write to a temporary file beside `path`, then rename: readers never see half a report.

    Through a symlink, the file it points to is replaced, not the link; a target that is not
    a regular file (a FIFO, a device, /dev/stdout) is written in place. The file gets the
    mode it had, or the one the umask gives a new file (mkstemp's 0600 would hide it).
    """
    target = Path(os.path.realpath(path))
    if target.exists() and not target.is_file():
        with target.open("w", encoding="utf-8") as handle:
            handle.write(text)
        return
    try:
        mode = target.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temp, mode)
        os.replace(temp, target)
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
    check_output(output)
    tracer = tracer or Tracer()
    progress = ProbeProgress(config, command)
    claim = threading.Lock()

    def with_thresholds(report: ProbeReport) -> ProbeReport:
        return dataclasses.replace(report, thresholds=thresholds) if thresholds else report

    def on_expiry(report: ProbeReport) -> None:
        if not claim.acquire(blocking=False):
            return  # the run finished meanwhile and is publishing
        code = ExitCode.CRITICAL  # whatever happens below, the process ends from here
        try:
            if display is not None:
                display.stop()
            code = publish(with_thresholds(report), output_format, output)
        except BaseException as exc:  # noqa: BLE001 - say it, then still exit
            print(f"binance-diag: error: the watchdog could not publish the report: {exc!r}",
                  file=sys.stderr)
        finally:
            exit_now(int(code))

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


def _live_progress(tracer: Tracer, loop_lag: Callable[[], float | None] | None = None
                   ) -> StageProgress | None:
    """A spinner per stage on stderr, only when stderr is a terminal."""
    if not sys.stderr.isatty():
        return None
    from rich.console import Console

    from .render.progress import StageProgress
    from .render.terminal import no_color

    progress = StageProgress(Console(stderr=True, color_system=None if no_color() else "auto"),
                             loop_lag)
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
        try:
            write_atomically(output, render(report, output_format))
        except OSError as exc:  # checked before probing; a full disk still happens
            print(f"binance-diag: error: cannot write --output {output}: "
                  f"{exc.strerror or exc}; the report follows on stdout", file=stderr)
        else:
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
