"""The event-loop watchdog: a thread outside the loop that measures its lag and, when the loop
is stuck, records for how long, during which stage, and where (DESIGN.md §6).

Theory of operation: a heartbeat lives in the loop: a callback that reschedules itself every
`interval` with `call_later` and records how late it ran (the lag). The watchdog thread starts
it on each loop it watches (`call_soon_threadsafe`) and then only reads the time the next
heartbeat is due: one `threshold` past that, the loop is blocked, and the watchdog samples the
loop thread's stack at once (`sys._current_frames`). Detection therefore comes at most
`threshold + interval` after the blockage began (plus one 5 ms GIL switch interval when the
blocking code holds the GIL); the blockage's duration is kept current, every interval, until
the late heartbeat runs and reports its lag, the final duration. While the loop is healthy
the thread only wakes when the next heartbeat would be `threshold` late: about once per
threshold.

Why the heartbeat is not sent by the thread: a busy but healthy loop releases and retakes the
GIL around every `select(0)`, and CPython's GIL then starves the other threads (the "convoy
effect"): a thread-sent heartbeat at 10 ms got 4 samples in 2 s instead of 200. A blocked
loop, by contrast, holds the GIL in pure Python (the watchdog gets it within the 5 ms switch
interval) or releases it for good in a C call, so detection needs no more than a thread.

A blockage's duration counts from when the late heartbeat was due: a lower bound, short of
the truth by less than one interval. A loop that is stopped (between two
`run_until_complete`) is not blocked, and the heartbeat it runs late when restarted is not
counted.

Which loop: `attach(loop)` (or `async with LoopWatchdog()`) pins one loop. The synchronous
`with LoopWatchdog():` is meant to sit *around* `asyncio.run(main())`, before the loop exists,
so it follows the thread instead: whenever no watched loop is running, the watchdog looks at
that thread's stack for a `run_forever` / `_run_once` frame and watches its loop. That needs
no event-loop policy (deprecated in Python 3.14), catches loops however they were created
(`asyncio.run`, `Runner`, `new_event_loop`), and follows one `asyncio.run` after another. It
cannot see loops whose `run_forever` is not Python code (uvloop): call `attach()` from
inside those.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from types import TracebackType
from typing import Self

from ..model import Blockage, LoopStats, StageName
from ..timing import format_ms, utc_now
from .stacks import (
    DEFAULT_MAX_FRAMES,
    Frames,
    find_trap,
    format_stack,
    running_loop_of_thread,
    thread_frames,
    trim_loop_machinery,
    where,
)

LOGGER = logging.getLogger("binance_diag.watchdog")  # its name before the move: users configure it

StageLabel = StageName | str
"""What was running: a probe stage, or any label a program sets."""


@dataclass(frozen=True)
class LoopBlockage:
    """A stretch of time the loop could not run, as the watchdog saw it.

    Snapshots: while `ended` is false, a newer snapshot with a longer duration replaces this
    one in `LoopWatchdog.blockages`.
    """

    started_at: datetime
    duration_ms: float
    stage: StageLabel | None
    stack: tuple[str, ...] = ()
    """The loop thread's innermost frames when the blockage was detected, outermost first."""
    where: str | None = None
    """`file:line in function` of the innermost frame outside the standard library."""
    trap: str | None = None
    """The id of the known trap the stack sits in (`stacks.KNOWN_TRAPS`), if any."""
    hint: str | None = None
    ended: bool = False

    def to_model(self) -> Blockage:
        """The report's `Blockage` (a free-form stage label that is no stage is dropped)."""
        stage = self.stage if isinstance(self.stage, StageName) else _stage_named(self.stage)
        return Blockage(self.started_at, round(self.duration_ms, 3), stage, self.stack,
                        where=self.where, trap=self.trap, hint=self.hint)

    def describe(self) -> str:
        """One line for a log or a timeline."""
        during = f" during {self.stage}" if self.stage is not None else ""
        at = f" at {self.where}" if self.where else ""
        state = "blocked for" if self.ended else "blocked for at least"
        text = f"event loop {state} {format_ms(self.duration_ms)}{during}{at}"
        return f"{text} ({self.hint})" if self.hint else text


BlockageCallback = Callable[[LoopBlockage], None]


class LoopWatchdog:
    """Measures an asyncio loop's lag from a daemon thread and records where it blocks.

    `on_blockage` and `logger` are called from the watchdog thread: once when a blockage is
    detected (`ended` false) and once when the loop runs again (`ended` true, final duration).
    Keep the callback short; the watchdog does not measure while it runs.
    """

    def __init__(
        self,
        threshold: float = 0.1,
        interval: float = 0.05,
        *,
        on_blockage: BlockageCallback | None = None,
        logger: logging.Logger | None = LOGGER,
        sample_size: int = 4096,
        max_frames: int = DEFAULT_MAX_FRAMES,
    ) -> None:
        if threshold <= 0 or interval <= 0:
            raise ValueError("threshold and interval must be positive")
        self.threshold = threshold
        self.interval = interval
        self.on_blockage = on_blockage
        self.logger = logger
        self.max_frames = max_frames
        self.stage: StageLabel | None = None
        """What is running now; set it from the loop as stages change."""
        self.deadline_enforced = False
        """Set when a hard deadline had to act because the loop could not."""
        self._lock = threading.Lock()
        self._lags: deque[float] = deque(maxlen=sample_size)
        self._beats = 0
        self._max_lag = 0.0
        self._blockages: list[LoopBlockage] = []
        self._ongoing: int | None = None
        """Index in `_blockages` of the blockage in progress, whose heartbeat was due at:"""
        self._ongoing_due = 0.0
        self._pinned: asyncio.AbstractEventLoop | None = None
        self._followed_thread: int | None = None
        self._watched: asyncio.AbstractEventLoop | None = None
        self._loop_thread_id: int | None = None
        # Shared with the heartbeat (loop thread); single assignments, atomic under the GIL.
        self._chain: object | None = None
        self._chain_loop: asyncio.AbstractEventLoop | None = None
        self._due = 0.0
        """When the next heartbeat should run (time.monotonic)."""
        self._stale = False
        self._late: deque[tuple[float, float]] = deque()
        """(due, lag) of heartbeats at least `threshold` late, for the thread to account for."""
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # -- what to watch -----------------------------------------------------------------------

    def attach(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Watch this loop (default: the running one) until it closes or another is attached.

        Called from inside the loop, the heartbeat starts at once, without waiting for the
        watchdog thread (which a busy loop can keep waiting for the GIL).
        """
        if loop is None:
            loop = asyncio.get_running_loop()
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        self._pinned = loop
        self._followed_thread = None
        if running is loop:
            self._loop_thread_id = threading.get_ident()
            self._start_heartbeat(loop)
        self.start()

    def follow_thread(self, thread_id: int | None = None) -> None:
        """Watch whichever asyncio loop runs in this thread (default: the calling thread)."""
        self._followed_thread = threading.get_ident() if thread_id is None else thread_id
        self._pinned = None
        self.start()

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        """The loop being watched, if one is."""
        return self._watched

    @property
    def loop_thread_id(self) -> int | None:
        return self._loop_thread_id

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._run, name="binance-diag-watchdog", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop measuring; what was measured stays readable."""
        self._stopping.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=1.0)

    def __enter__(self) -> Self:
        try:
            self.attach(asyncio.get_running_loop())
        except RuntimeError:
            self.follow_thread()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        self.attach(asyncio.get_running_loop())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what was measured -------------------------------------------------------------------

    @property
    def blockages(self) -> tuple[LoopBlockage, ...]:
        with self._lock:
            return tuple(self._blockages)

    def current_blockage(self) -> LoopBlockage | None:
        """The blockage in progress, with its duration up to now, if the loop is stuck."""
        with self._lock:
            index, due = self._ongoing, self._ongoing_due
            if index is None:
                return None
            latest = self._blockages[index]
        return replace(latest, duration_ms=(time.monotonic() - due) * 1000)

    @property
    def max_lag_ms(self) -> float:
        """The worst lag seen, counting a blockage still in progress."""
        with self._lock:
            worst = self._max_lag
            if self._ongoing is not None:
                worst = max(worst, time.monotonic() - self._ongoing_due)
        return worst * 1000

    @property
    def p99_lag_ms(self) -> float:
        """The 99th percentile of the last `sample_size` heartbeats' lags."""
        with self._lock:
            lags = sorted(self._lags)
        if not lags:
            return 0.0
        return lags[max(0, -(-len(lags) * 99 // 100) - 1)] * 1000

    def stats(self) -> LoopStats:
        return LoopStats(
            max_lag_ms=round(self.max_lag_ms, 3),
            p99_lag_ms=round(self.p99_lag_ms, 3),
            blockages=tuple(blockage.to_model() for blockage in self.blockages),
            deadline_enforced_by_watchdog=self.deadline_enforced,
            monitored=True,
            interval_ms=self.interval * 1000,
            threshold_ms=self.threshold * 1000,
            heartbeats=self.heartbeats,
        )

    @property
    def heartbeats(self) -> int:
        """Heartbeats that ran and were measured: zero means the loop was never seen running."""
        with self._lock:
            return self._beats

    # -- the heartbeat, in the loop ---------------------------------------------------------

    def _heartbeat(self, loop: asyncio.AbstractEventLoop, chain: object) -> None:
        now = time.monotonic()
        if chain is not self._chain:
            return  # retired: the watchdog stopped or moved to another loop
        lag = max(0.0, now - self._due)
        if self._stale:  # the loop was stopped while this beat waited: not lag
            self._stale = False
        else:
            with self._lock:
                self._beats += 1
                self._lags.append(lag)
                self._max_lag = max(self._max_lag, lag)
            if lag >= self.threshold:
                self._late.append((self._due, lag))
        self._loop_thread_id = threading.get_ident()
        if self._stopping.is_set():
            self._chain, self._chain_loop = None, None
            return
        self._due = now + self.interval
        loop.call_later(self.interval, self._heartbeat, loop, chain)

    # -- the watchdog thread -----------------------------------------------------------------

    def _run(self) -> None:
        while not self._stopping.is_set():
            loop = self._loop_to_watch()
            if loop is None or loop is not self._chain_loop:
                self._stale = True
                if self._ongoing is not None:
                    self._end_blockage(time.monotonic() - self._ongoing_due)
            if loop is None:
                self._stopping.wait(self.interval)
                continue
            if loop is not self._chain_loop and not self._start_heartbeat(loop):
                continue
            self._stopping.wait(self._check(loop))

    def _start_heartbeat(self, loop: asyncio.AbstractEventLoop) -> bool:
        """Start the heartbeat in `loop`, from any thread; False if the loop is closed."""
        chain = object()
        self._chain, self._chain_loop = chain, loop
        self._due = time.monotonic()  # the first beat is due now: a loop blocked already shows
        self._stale = False
        try:
            loop.call_soon_threadsafe(self._heartbeat, loop, chain)
        except RuntimeError:  # closed since we looked
            self._forget(loop)
            return False
        return True

    def _check(self, loop: asyncio.AbstractEventLoop) -> float:
        """Look at the loop once; return how long to wait before looking again."""
        self._drain_late()
        now = time.monotonic()
        due = self._due
        overdue = now - due
        if not loop.is_running():
            self._stale = True
            if self._ongoing is not None:
                self._end_blockage(overdue)
            return self.interval
        if self._ongoing is not None:
            if due == self._ongoing_due:
                self._update_blockage(overdue)
            else:  # the loop moved on but its late heartbeat was not counted (stale)
                self._end_blockage(None)
            return self.interval
        if overdue >= self.threshold:
            self._begin_blockage(due, overdue)
            return self.interval
        # Healthy: nothing to see before this heartbeat is `threshold` late. A blockage that
        # starts later holds back a heartbeat due at most one interval after it starts, and a
        # later look will find that one. So the thread wakes about once per threshold.
        return due + self.threshold - now

    def _loop_to_watch(self) -> asyncio.AbstractEventLoop | None:
        pinned = self._pinned
        if pinned is not None:
            if pinned.is_closed():
                self._forget(pinned)
                return None
            self._watched = pinned
            return pinned
        thread_id = self._followed_thread
        if thread_id is None:
            return None
        watched = self._watched
        if watched is not None and watched.is_running():
            return watched
        found = running_loop_of_thread(thread_id)
        if found is not None:
            self._watched = found
            self._loop_thread_id = thread_id
        return found

    def _forget(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._pinned is loop:
            self._pinned = None
        if self._watched is loop:
            self._watched = None
        if self._chain_loop is loop:
            self._chain, self._chain_loop = None, None

    # -- blockages ---------------------------------------------------------------------------

    def _drain_late(self) -> None:
        """Late heartbeats end the blockage in progress, or are ones the thread never saw."""
        while self._late:
            due, lag = self._late.popleft()
            if self._ongoing is not None and due == self._ongoing_due:
                self._end_blockage(lag)
            else:
                # Over before the watchdog looked (it was itself held up): no stack, counted.
                self._ongoing = self._record(self._new_blockage(due, lag, []))
                self._ongoing_due = due
                self._end_blockage(lag)

    def _begin_blockage(self, due: float, overdue: float) -> None:
        thread_id = self._loop_thread_id
        if thread_id is None:
            thread_id = getattr(self._chain_loop, "_thread_id", None)
        frames = thread_frames(thread_id) if thread_id is not None else []
        if self._due != due:
            frames = []  # the loop moved on while we sampled: the stack is not the blockage's
        blockage = self._new_blockage(due, overdue, trim_loop_machinery(frames))
        self._ongoing, self._ongoing_due = self._record(blockage), due
        self._notify(blockage)

    def _new_blockage(self, due: float, duration: float, frames: Frames) -> LoopBlockage:
        trap = find_trap(frames)
        return LoopBlockage(
            started_at=utc_now() - timedelta(seconds=time.monotonic() - due),
            duration_ms=duration * 1000,
            stage=self.stage,
            stack=format_stack(frames, self.max_frames),
            where=where(frames),
            trap=trap.id if trap else None,
            hint=trap.hint if trap else None,
        )

    def _record(self, blockage: LoopBlockage) -> int:
        with self._lock:
            self._blockages.append(blockage)
            return len(self._blockages) - 1

    def _update_blockage(self, duration: float) -> None:
        index = self._ongoing
        if index is not None:
            with self._lock:
                self._blockages[index] = replace(
                    self._blockages[index], duration_ms=duration * 1000
                )

    def _end_blockage(self, duration: float | None) -> None:
        """End the blockage in progress; with no duration, the last one measured stands."""
        index = self._ongoing
        if index is None:
            return
        with self._lock:
            latest = self._blockages[index]
            if duration is None:
                duration = latest.duration_ms / 1000
            ended = replace(latest, duration_ms=duration * 1000, ended=True)
            self._blockages[index] = ended
            self._max_lag = max(self._max_lag, duration)
            self._ongoing = None
        self._notify(ended)

    def _notify(self, blockage: LoopBlockage) -> None:
        if self.logger is not None:
            level = logging.INFO if blockage.ended else logging.WARNING
            self.logger.log(level, "%s", blockage.describe())
        if self.on_blockage is not None:
            try:
                self.on_blockage(blockage)
            except Exception:  # a broken callback must not stop the measuring
                LOGGER.exception("on_blockage callback failed")


def _stage_named(label: str | None) -> StageName | None:
    try:
        return StageName(label) if label is not None else None
    except ValueError:
        return None
