"""Deadlines the event loop cannot miss: a timer thread that acts when an operation outlives
its timeout plus a grace, and a faulthandler backstop that needs no Python thread at all.

Theory of operation: an asyncio timeout is a callback of the loop it guards, so a blocked loop
cannot fire it, and a task that swallows its cancellation defeats it (`asyncio.wait_for` and
`asyncio.timeout` then wait forever). `HardDeadline` runs on its own thread. At `timeout` it
schedules a ping into the loop; at `timeout + grace` it calls `on_expiry` from its thread with
the verdict: the ping never ran (the loop was blocked: here is the loop thread's stack), or it
did (the loop ran, so the operation ignored its cancellation: here is where the task waits,
when the caller named the `task`). The probe's callback writes the report from what is known
and ends the process with the report's exit code (`supervise.exit_now`).

`Backstop` is the last resort behind it: `faulthandler.dump_traceback_later(exit=True)` runs
on a C thread, so even a C call that holds the GIL cannot keep the process alive past it. It
dumps every thread's stack to stderr and exits with status 1, which faulthandler hard-codes.
Its timer is process-global: arming one backstop replaces any other.
"""

from __future__ import annotations

import asyncio
import faulthandler
import logging
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, Self

from ..timing import format_ms
from .stacks import (
    DEFAULT_MAX_FRAMES,
    Frames,
    find_trap,
    format_stack,
    task_frames,
    thread_frames,
    trim_loop_machinery,
    where,
)

if TYPE_CHECKING:
    from .loop import LoopWatchdog, StageLabel

LOGGER = logging.getLogger("binance_diag.hard_deadline")  # name kept from before the move


class ExpiryCause(StrEnum):
    """Why the loop's own timeout could not end the operation."""

    LOOP_BLOCKED = "loop_blocked"
    CANCELLATION_IGNORED = "cancellation_ignored"
    LOOP_NOT_RUNNING = "loop_not_running"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class DeadlineExpiry:
    """What a hard deadline knew when it fired."""

    cause: ExpiryCause
    reason: str
    label: StageLabel | None
    timeout_s: float
    grace_s: float
    blocked_for_s: float | None = None
    """How long the loop had been blocked (a lower bound), when it was."""
    stack: tuple[str, ...] = ()
    """The loop thread's stack if the loop was blocked, else where the task is suspended."""
    where: str | None = None
    hint: str | None = None


ExpiryCallback = Callable[[DeadlineExpiry], None]


class HardDeadline:
    """Calls `on_expiry` from its own thread if not cancelled within `timeout + grace`.

    `loop` defaults to the watchdog's loop, else to the loop running where `start()` is
    called. `task`, if given, is the operation: its stack is reported when it ignored its
    cancellation. With a `watchdog`, a blocked loop's duration is the watchdog's measure and
    the watchdog's stats record that the deadline had to be enforced.
    """

    def __init__(
        self,
        timeout: float,
        on_expiry: ExpiryCallback,
        *,
        grace: float = 0.5,
        label: StageLabel | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        task: asyncio.Future[Any] | None = None,
        watchdog: LoopWatchdog | None = None,
        max_frames: int = DEFAULT_MAX_FRAMES,
    ) -> None:
        self.timeout = timeout
        self.grace = grace
        self.on_expiry = on_expiry
        self.label = label
        self.loop = loop
        self.task = task
        self.watchdog = watchdog
        self.max_frames = max_frames
        self.expired = False
        self._loop_thread_id: int | None = None
        self._cancelled = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        if self._thread is not None:
            raise RuntimeError("a HardDeadline can be started once")
        if self.loop is None and self.watchdog is not None:
            self.loop = self.watchdog.loop
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if self.loop is None:
            self.loop = running
        if running is not None and running is self.loop:
            self._loop_thread_id = threading.get_ident()
        self._thread = threading.Thread(
            target=self._run, name=f"binance-diag-deadline-{self.label or ''}", daemon=True
        )
        self._thread.start()
        return self

    def cancel(self) -> None:
        """The operation finished: stand down (a no-op once the callback has started)."""
        self._cancelled.set()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.cancel()

    def _run(self) -> None:
        if self._cancelled.wait(self.timeout):
            return
        pinged_at = time.perf_counter()
        ping = self._ping()
        if self._cancelled.wait(self.grace):
            return
        expiry = self._diagnose(ping, pinged_at)
        self.expired = True
        if self.watchdog is not None:
            self.watchdog.deadline_enforced = True
        try:
            self.on_expiry(expiry)
        except Exception:  # the callback usually exits the process; if it raises, say so
            LOGGER.exception("hard deadline callback failed")

    def _ping(self) -> threading.Event | None:
        """Ask the loop to show it is alive; the answer is read one grace later."""
        loop = self.loop
        if loop is None:
            return None
        answered = threading.Event()
        try:
            loop.call_soon_threadsafe(answered.set)
        except RuntimeError:  # closed
            return None
        return answered

    def _diagnose(self, ping: threading.Event | None, pinged_at: float) -> DeadlineExpiry:
        loop = self.loop
        what = str(self.label) if self.label is not None else "the operation"
        budget = f"{self.timeout:g} s + {self.grace:g} s grace"
        if loop is None or ping is None:
            return self._expiry(
                ExpiryCause.UNKNOWN, f"{what} outlived its deadline ({budget}); no loop to inspect"
            )
        if not ping.is_set():
            if not loop.is_running():
                return self._expiry(
                    ExpiryCause.LOOP_NOT_RUNNING,
                    f"{what} outlived its deadline ({budget}): the event loop is not running",
                )
            frames = trim_loop_machinery(self._loop_frames(loop))
            blocked_for = time.perf_counter() - pinged_at
            current = self.watchdog.current_blockage() if self.watchdog else None
            if current is not None:
                blocked_for = max(blocked_for, current.duration_ms / 1000)
            at = where(frames) or "an unknown place (no Python frame)"
            return self._expiry(
                ExpiryCause.LOOP_BLOCKED,
                f"{what} outlived its deadline ({budget}) and its timeout could not fire: "
                f"the event loop was blocked for at least {format_ms(blocked_for * 1000)} "
                f"at {at}",
                frames,
                blocked_for,
            )
        frames = task_frames(self.task) if self.task is not None else []
        at = f" at {where(frames)}" if frames else ""
        return self._expiry(
            ExpiryCause.CANCELLATION_IGNORED,
            f"{what} outlived its deadline ({budget}): the event loop was running, but "
            f"the task ignored its cancellation{at}",
            frames,
        )

    def _loop_frames(self, loop: asyncio.AbstractEventLoop) -> Frames:
        thread_id = self._loop_thread_id
        if thread_id is None and self.watchdog is not None:
            thread_id = self.watchdog.loop_thread_id
        if thread_id is None:
            thread_id = getattr(loop, "_thread_id", None)
        return thread_frames(thread_id) if thread_id is not None else []

    def _expiry(
        self,
        cause: ExpiryCause,
        reason: str,
        frames: Frames = (),
        blocked_for: float | None = None,
    ) -> DeadlineExpiry:
        trap = find_trap(frames) if cause is ExpiryCause.LOOP_BLOCKED else None
        return DeadlineExpiry(
            cause=cause,
            reason=f"{reason} ({trap.title})" if trap else reason,
            label=self.label,
            timeout_s=self.timeout,
            grace_s=self.grace,
            blocked_for_s=blocked_for,
            stack=format_stack(frames, self.max_frames),
            where=where(frames),
            hint=trap.hint if trap else None,
        )


class Backstop:
    """Kill the process at `seconds` from `arm()`, whatever holds the GIL, with every thread's
    stack dumped to `file` (default: stderr) and exit status 1.

    faulthandler keeps one such timer per process: arming a backstop replaces the one armed
    before, and `disarm()` only cancels the timer if this backstop still owns it.
    """

    _owner: Backstop | None = None
    _lock = threading.Lock()

    def __init__(self, seconds: float, *, file: IO[str] | None = None) -> None:
        self.seconds = seconds
        self.file = file

    @property
    def armed(self) -> bool:
        return Backstop._owner is self

    def arm(self) -> Self:
        with Backstop._lock:
            faulthandler.dump_traceback_later(self.seconds, exit=True, file=self._target())
            Backstop._owner = self
        return self

    def _target(self) -> IO[str] | int:
        """A stream with a real file descriptor: faulthandler writes to the fd from C.
        (Under pytest's capture or a redirected `sys.stderr` there may be none: use fd 2.)"""
        for stream in (self.file, sys.stderr, sys.__stderr__):
            try:
                if stream is not None:
                    stream.fileno()
                    return stream
            except (OSError, ValueError, AttributeError):
                continue
        return 2

    def disarm(self) -> None:
        with Backstop._lock:
            if Backstop._owner is self:
                faulthandler.cancel_dump_traceback_later()
                Backstop._owner = None

    def __enter__(self) -> Self:
        return self.arm()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.disarm()
