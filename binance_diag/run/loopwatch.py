"""Runs the user's program with the watchdog attached, relays what it reports, passes its
exit status on. The process and I/O shell around the pure modules of this package.

Signals, so that the program gets each one exactly once. At a terminal, where we are in the
foreground process group, the program joins our group: a Ctrl-C (Ctrl-\\) reaches it from the
terminal directly, so SIGINT and SIGQUIT are not forwarded (we just outlive the program to
write the summary), and its reads from the terminal work as usual. Anywhere else (CI, a
supervisor, `timeout`), the program gets a process group of its own: a signal sent to our group
reaches us alone, and we forward it. SIGTERM, SIGHUP, SIGUSR1 and SIGUSR2 are always forwarded.
SIGKILL cannot be: the program would outlive us.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from .. import __version__
from ..config.errors import ConfigError
from ..loopwatch.invocation import PythonCommand, parse_python_command
from ..loopwatch.live import LiveReporter
from ..loopwatch.rendering import ReportFormat, render, summary_lines
from ..loopwatch.report import (
    EventLog,
    ExitStatus,
    LoopwatchReport,
    build_report,
    closed_by_program,
)
from ..loopwatch.wire import ENV_VAR, LineSplitter, decode
from ..timing import utc_now
from .outfile import check_output, is_stdout, write_atomically

BOOT_DIR = Path(__file__).resolve().parents[1] / "loopwatch" / "boot"
PACKAGE_ROOT = Path(__file__).resolve().parents[2]
"""The directory holding `binance_diag`, for a child interpreter that lacks it."""

_FROM_TERMINAL = (signal.SIGINT, signal.SIGQUIT)
_FORWARDED = (signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2)
_READER_GRACE = 2.0
"""How long to wait for the last events after the program exits (its grandchildren could
hold the pipe open; the agent marks it non-inheritable, but a fork keeps it)."""
_CLOSED_MARGIN = 0.25
"""A pipe that closed without the agent's goodbye this long before the program ended was
closed by the program; closer to the end, the program died (a signal, os._exit)."""


@dataclass(frozen=True)
class LoopwatchRequest:
    command: tuple[str, ...]
    threshold: float
    """Seconds."""
    interval: float
    report_path: Path | None = None
    """`-` for stdout."""
    report_format: ReportFormat = ReportFormat.TEXT


MAX_SECONDS = 3600.0


def check_request(request: LoopwatchRequest) -> PythonCommand:
    """Everything that can be wrong with the request, as one ConfigError, before starting."""
    for name, value in (("--threshold", request.threshold), ("--interval", request.interval)):
        if not 0 < value <= MAX_SECONDS:
            raise ConfigError(f"{name} must be more than 0 ms and at most 1 hour")
    command = parse_python_command(request.command)
    check_output(request.report_path, "--report")
    if shutil.which(command.argv[0]) is None:
        raise ConfigError(f"{command.argv[0]!r}: command not found")
    return command


def child_environment(
    base: Mapping[str, str], fd: int, threshold: float, interval: float,
    code: str | None = None,
) -> dict[str, str]:
    """The program's environment: ours, with the bootstrap first on PYTHONPATH."""
    env = dict(base)
    original = env.get("PYTHONPATH")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(BOOT_DIR), original) if p)
    env[ENV_VAR] = json.dumps({
        "fd": fd, "threshold": threshold, "interval": interval,
        "root": str(PACKAGE_ROOT), "pythonpath": original, "code": code,
    })
    return env


def run_loopwatch(request: LoopwatchRequest, stderr: TextIO = sys.stderr) -> int:
    """Run the program to its end; return the exit status to pass on."""
    command = check_request(request)
    log = EventLog()
    cwd = os.getcwd()
    live = LiveReporter(cwd=cwd)

    def say(lines: list[str]) -> None:
        try:
            for line in lines:
                print(line, file=stderr, flush=True)
        except (OSError, ValueError):  # stderr closed: the pipe must still be drained
            pass

    at_terminal = _in_terminal_foreground()
    read_fd, write_fd = os.pipe()
    started_at, started = utc_now(), time.monotonic()
    with SignalForwarder(forward_terminal_signals=not at_terminal) as forwarder:
        try:
            child = subprocess.Popen(
                command.argv, pass_fds=(write_fd,), process_group=None if at_terminal else 0,
                env=child_environment(os.environ, write_fd, request.threshold,
                                      request.interval, command.code),
            )
        except OSError as exc:
            os.close(read_fd)
            raise ConfigError(f"cannot run {command.argv[0]!r}: {exc.strerror or exc}"
                              ) from None
        finally:
            os.close(write_fd)
        forwarder.deliver_to(child)
        give_up = threading.Event()
        reader = threading.Thread(target=_read_events,
                                  args=(read_fd, log, live, say, give_up),
                                  name="loopwatch-reader", daemon=True)
        reader.start()
        returncode = child.wait()
    ended = time.monotonic()
    reader.join(_READER_GRACE)
    give_up.set()  # a grandchild holds the pipe open: what came is what we report
    reader.join()
    say(live.flush(time.monotonic()))
    report = build_report(
        command=command.argv, runs=command.runs, started_at=started_at,
        duration_s=ended - started, exit_status=ExitStatus.from_returncode(returncode),
        threshold_ms=request.threshold * 1000, interval_ms=request.interval * 1000,
        log=log, tool_version=__version__, generated_at=utc_now(),
        pipe_closed_after_s=closed_by_program(log, started, ended, _CLOSED_MARGIN),
    )
    say(summary_lines(report, cwd))
    if request.report_path is not None:
        _write_report(report, request.report_path, request.report_format, stderr)
    return report.exit.status


def _read_events(fd: int, log: EventLog, live: LiveReporter,
                 say: Callable[[list[str]], None], give_up: threading.Event) -> None:
    """Until the pipe closes: fold each event, print what the live reporter says to.

    Whatever the program writes on the pipe, this thread reads on: a line that is no event
    is counted, one too long dropped (LineSplitter), so the program never blocks on us.
    """
    splitter = LineSplitter()
    try:
        while not give_up.is_set():
            ready, _, _ = select.select([fd], [], [], 0.1)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    log.closed_at = time.monotonic()
                    break
                for line in splitter.feed(chunk):
                    event = decode(line)
                    if event is None:
                        log.unreadable_lines += 1
                        continue
                    log.add(event)
                    say(live.feed(event, time.monotonic()))
            say(live.tick(time.monotonic()))
    finally:
        log.dropped_lines = splitter.dropped
        os.close(fd)


class SignalForwarder:
    """While the program runs, our handlers pass signals on instead of stopping us.

    Installed before the program starts, so that a signal arriving in between is kept and
    delivered as soon as there is a program to deliver it to.
    """

    def __init__(self, *, forward_terminal_signals: bool) -> None:
        self.signals = (*(_FROM_TERMINAL if forward_terminal_signals else ()), *_FORWARDED)
        self._ignored = () if forward_terminal_signals else _FROM_TERMINAL
        self._child: subprocess.Popen[bytes] | None = None
        self._pending: list[int] = []
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> SignalForwarder:
        for signum in self.signals:
            self._previous[signum] = signal.signal(signum, self._forward)
        for signum in self._ignored:  # the terminal sent it to the program too
            self._previous[signum] = signal.signal(signum, self._keep_running)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)

    def deliver_to(self, child: subprocess.Popen[bytes]) -> None:
        self._child = child
        while self._pending:
            self._send(self._pending.pop(0))

    def _forward(self, signum: int, frame: FrameType | None) -> None:
        if self._child is None:
            self._pending.append(signum)
        else:
            self._send(signum)

    def _keep_running(self, signum: int, frame: FrameType | None) -> None:
        """Not SIG_IGN: an ignored signal stays ignored in the program we start."""

    def _send(self, signum: int) -> None:
        if self._child is not None:
            try:
                self._child.send_signal(signum)
            except ProcessLookupError:
                pass


def _in_terminal_foreground() -> bool:
    """True when our process group is the foreground one of the terminal we run in."""
    for stream in (sys.stdin, sys.stdout, sys.stderr):
        try:
            if os.isatty(stream.fileno()):
                return os.tcgetpgrp(stream.fileno()) == os.getpgrp()
        except (OSError, ValueError, AttributeError):
            continue
    return False


def _write_report(report: LoopwatchReport, path: Path, report_format: ReportFormat,
                  stderr: TextIO) -> None:
    text = render(report, report_format)
    if is_stdout(path):
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        write_atomically(path, text)
    except OSError as exc:
        print(f"binance-diag loopwatch: cannot write the report to {path}: "
              f"{exc.strerror or exc}", file=stderr)
        return
    print(f"binance-diag loopwatch: report written to {path}", file=stderr)
