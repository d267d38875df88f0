"""Delivering a result: `--output FILE`, stdout, GitHub's step summary and annotation.

One path for a single report and for the endpoint matrix, so that both treat a file, a
pipe, a terminal and a CI job alike. `Publication` settles the race between a run that
finishes and the hard deadline that gives up on it: exactly one of them publishes.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Generic, Protocol, TextIO, TypeVar

from ..exitcodes import ExitCode
from ..render.formats import OutputFormat, formatter_for
from ..safety.sanitize import sink_text, write_workflow_command
from .outfile import READER_WAIT, WRITE_STALL, append_guarded, is_stdout, write_atomically

if TYPE_CHECKING:
    from ..render.base import Formatter

EXPIRY_WAIT = 10.0
"""How long the run waits for the hard deadline's publication and exit, if it lost the race."""

T = TypeVar("T")


class Deliverable(Protocol):
    """A finished, diagnosed result in every format: one report, or the endpoint matrix."""

    @property
    def what(self) -> str:
        """What it is called in messages ("report", "matrix")."""

    @property
    def exit_code(self) -> ExitCode:
        """The exit code of DESIGN.md §5 for this result."""

    def render(self, formatter: Formatter) -> str:
        """The whole result in one format, as a file gets it."""

    def show(self, formatter: Formatter, stream: TextIO) -> None:
        """Write it to stdout in one format (`rich`: coloured on a terminal)."""

    def annotation(self) -> str | None:
        """The `::error ...::` workflow command for the verdict; None when all is well."""


def deliver(
    result: Deliverable, output_format: OutputFormat, output: Path | None,
    stdout: TextIO | None = None, stderr: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
) -> ExitCode:
    """Deliver `result` everywhere it was asked for; its exit code.

    `--output FILE` gets the chosen format while a terminal on stdout keeps the rich view;
    stdout that is not a terminal gets the chosen format. With GITHUB_STEP_SUMMARY set, the
    Markdown version is appended there and the verdict becomes a workflow annotation (on
    stderr when stdout carries a format other programs parse).
    """
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    environ = os.environ if environ is None else environ
    shown = output_format
    undelivered = False
    if output is not None and not is_stdout(output):
        try:
            write_atomically(output, sink_text(result.render(formatter_for(output_format))))
        except OSError as exc:  # checked before probing; a full disk still happens
            undelivered = True
            print(f"binance-diag: error: cannot write --output {output}: "
                  f"{exc.strerror or exc}; the {result.what} follows on stdout (exit "
                  f"{int(ExitCode.UNKNOWN)})", file=stderr)
        else:
            if stdout.isatty():
                shown = OutputFormat.RICH
    shown_formatter = formatter_for(shown)
    result.show(shown_formatter, stdout)
    summary = environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        try:
            append_guarded(Path(summary),
                           sink_text(result.render(formatter_for(OutputFormat.MARKDOWN))) + "\n")
        except OSError as exc:
            print(f"binance-diag: warning: cannot append to GITHUB_STEP_SUMMARY: {exc}",
                  file=stderr)
        line = result.annotation()
        if line is not None:
            # The one line that may start with `::` (stdout and stderr defuse any other).
            write_workflow_command(stderr if shown_formatter.for_programs else stdout, line)
    # A file that was asked for and not written must not pass for a healthy run in CI.
    return ExitCode.UNKNOWN if undelivered else result.exit_code


@contextmanager
def publishing_within(seconds_left: float, output: Path | None,
                      environ: Mapping[str, str] | None = None) -> Iterator[None]:
    """Rendering and writing stay inside the run's budget: what a peer sent is capped where
    it is kept (probe/base.py, message.py, hold.py), and this backstop ends the process
    should a report still take longer than the budget left (at least REPORT_ALLOWANCE), plus
    what a slow reader of a FIFO may take when a file or the step summary is written."""
    from ..probe.budget import BACKSTOP_MARGIN, REPORT_ALLOWANCE
    from ..watchdog.hard_deadline import Backstop

    environ = os.environ if environ is None else environ
    files = output is not None or bool(environ.get("GITHUB_STEP_SUMMARY"))
    slow_reader = READER_WAIT + WRITE_STALL if files else 0.0
    backstop = Backstop(max(seconds_left, REPORT_ALLOWANCE) + BACKSTOP_MARGIN + slow_reader)
    backstop.arm()
    try:
        yield
    finally:
        backstop.disarm()


class Publication(Generic[T]):
    """Whichever finishes first publishes: the run, or the hard deadline from its thread.

    The deadline's side (`from_deadline`) ends the process itself, with the exit code of
    what it published, even if publishing fails. The run's side (`from_run`) returns the
    exit code, unless the deadline got there first: then it waits for that exit.
    """

    def __init__(self, publish: Callable[[T], ExitCode], what: str,
                 before: Callable[[], None] | None = None) -> None:
        self._publish = publish
        self._what = what
        self._before = before
        self._claim = threading.Lock()

    def from_deadline(self, result: T, exit_code: int | None = None,
                      last_line: str | None = None) -> None:
        """Publish what the hard deadline salvaged, then end the process (never returns).

        `exit_code`, when given, is the process's instead of the result's (a signal's
        130 or 143), and `last_line` is printed on stderr after the result."""
        from ..watchdog.supervise import exit_now

        if not self._claim.acquire(blocking=False):
            return  # the run finished meanwhile and is publishing
        # Whatever happens below, the process ends from here.
        code: int = ExitCode.CRITICAL if exit_code is None else exit_code
        try:
            if self._before is not None:
                self._before()
            code = self._publish(result)
            code = code if exit_code is None else exit_code
        except BaseException as exc:  # noqa: BLE001 - say it, then still exit
            print(f"binance-diag: error: the watchdog could not publish the {self._what}: "
                  f"{exc!r}", file=sys.stderr)
        finally:
            if last_line is not None:
                print(last_line, file=sys.stderr)
            exit_now(int(code))

    def from_run(self, result: T) -> ExitCode:
        """Publish the finished run's result, unless the deadline is already doing so."""
        if not self._claim.acquire(blocking=False):
            threading.Event().wait(EXPIRY_WAIT)  # the deadline's thread publishes and exits
        return self._publish(result)
