"""The loopwatch report: what the program's watchdogs said, and how the program ended.

Pure. `EventLog` folds the agent's events (several snapshots per blockage, stats per thread)
into the final picture; `LoopwatchReport` is what every format renders.

Why not `model.LoopStats` / `model.Blockage`: those describe one probe's loop, by stage. A
watched program has loops in several threads, blockages without stages, and a known trap
worth naming with its title; the JSON keeps the same field names where they mean the same.
"""

from __future__ import annotations

import signal
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from ..watchdog.stacks import KNOWN_TRAPS, KnownTrap
from .wire import (
    MAX_LINE_BYTES,
    AgentError,
    Bye,
    Event,
    Hello,
    LoopSeen,
    ThreadStats,
    WatchedBlockage,
)

SCHEMA_ID = "binance-diag/loopwatch/1"
TRAPS: dict[str, KnownTrap] = {trap.id: trap for trap in KNOWN_TRAPS}


@dataclass(frozen=True)
class ExitStatus:
    """How the program ended: an exit code, or the signal that killed it."""

    code: int | None
    signal: int | None = None

    @classmethod
    def from_returncode(cls, returncode: int) -> ExitStatus:
        """`subprocess` reports a death by signal N as -N."""
        if returncode < 0:
            return cls(None, -returncode)
        return cls(returncode)

    @property
    def status(self) -> int:
        """The exit status loopwatch passes on: the code, or 128 + N as a shell does."""
        if self.signal is not None:
            return 128 + self.signal
        return self.code if self.code is not None else 0

    @property
    def signal_name(self) -> str | None:
        if self.signal is None:
            return None
        try:
            return signal.Signals(self.signal).name
        except ValueError:
            return f"signal {self.signal}"

    def describe(self) -> str:
        if self.signal is not None:
            return f"was killed by {self.signal_name}"
        return f"exited with code {self.code}"


@dataclass
class EventLog:
    """Everything the agent sent, folded as it arrives (one reader thread feeds it), and
    what the reader saw of the pipe itself."""

    hello: Hello | None = None
    loops: dict[str, int] = field(default_factory=dict)
    stats: dict[str, ThreadStats] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    bye: bool = False
    """The agent said goodbye: the pipe closed because the program exited normally."""
    unreadable_lines: int = 0
    dropped_lines: int = 0
    """Lines of MAX_LINE_BYTES or more, dropped unread."""
    closed_at: float | None = None
    """When the pipe closed (time.monotonic()), None while open."""
    _blockages: dict[str, WatchedBlockage] = field(default_factory=dict)

    def add(self, event: Event) -> None:
        if isinstance(event, WatchedBlockage):
            self._blockages[event.key] = event  # a later snapshot replaces the earlier one
        elif isinstance(event, Hello):
            self.hello = event
        elif isinstance(event, LoopSeen):
            self.loops[event.thread] = max(self.loops.get(event.thread, 0), event.loops)
        elif isinstance(event, ThreadStats):
            self.stats[event.thread] = event
        elif isinstance(event, AgentError):
            self.errors.append(event.message)
        elif isinstance(event, Bye):
            self.bye = True

    def extend(self, events: Iterable[Event]) -> None:
        for event in events:
            self.add(event)

    @property
    def blockages(self) -> tuple[WatchedBlockage, ...]:
        return tuple(sorted(self._blockages.values(), key=lambda b: b.started_at))


@dataclass(frozen=True)
class ThreadSummary:
    """One thread's loops; the figures are None when the program died before sending them."""

    thread: str
    loops: int
    max_lag_ms: float | None
    p99_lag_ms: float | None
    heartbeats: int | None


@dataclass(frozen=True)
class LoopwatchReport:
    command: tuple[str, ...]
    runs: str
    started_at: datetime
    duration_s: float
    exit: ExitStatus
    threshold_ms: float
    interval_ms: float
    attached: bool
    pid: int | None
    python: str | None
    threads: tuple[ThreadSummary, ...]
    blockages: tuple[WatchedBlockage, ...]
    errors: tuple[str, ...]
    tool_version: str
    generated_at: datetime
    pipe_closed_after_s: float | None = None
    """Seconds after the start at which the program closed the reporting pipe (None: it
    stayed open to the end): nothing the program did after that is known."""

    @property
    def max_lag_ms(self) -> float | None:
        """The worst lag over every loop (a blockage counts even if stats never came)."""
        lags = [t.max_lag_ms for t in self.threads if t.max_lag_ms is not None]
        lags += [b.duration_ms for b in self.blockages]
        return max(lags) if lags else None

    @property
    def p99_lag_ms(self) -> float | None:
        lags = [t.p99_lag_ms for t in self.threads if t.p99_lag_ms is not None]
        return max(lags) if lags else None

    @property
    def heartbeats(self) -> int | None:
        beats = [t.heartbeats for t in self.threads if t.heartbeats is not None]
        return sum(beats) if beats else None

    @property
    def loops(self) -> int:
        return sum(t.loops for t in self.threads)

    @property
    def blocked_ms(self) -> float:
        return sum(b.duration_ms for b in self.blockages)


@dataclass(frozen=True)
class BlockageGroup:
    """Blockages at one place: a program that blocks once usually blocks there again."""

    where: str
    trap: str | None
    code: str | None
    count: int
    total_ms: float
    max_ms: float


def group_blockages(blockages: Iterable[WatchedBlockage]) -> tuple[BlockageGroup, ...]:
    """By place, the costliest first."""
    groups: dict[tuple[str, str | None], list[WatchedBlockage]] = {}
    for blockage in blockages:
        place = blockage.where or "(no Python frame: blocked in C code or already over)"
        groups.setdefault((place, blockage.trap), []).append(blockage)
    result = []
    for (place, trap), members in groups.items():
        culprit = members[0].culprit
        durations = [b.duration_ms for b in members]
        result.append(BlockageGroup(place, trap, culprit.code if culprit else None,
                                    len(members), sum(durations), max(durations)))
    return tuple(sorted(result, key=lambda g: (-g.total_ms, g.where)))


def build_report(
    *,
    command: tuple[str, ...],
    runs: str,
    started_at: datetime,
    duration_s: float,
    exit_status: ExitStatus,
    threshold_ms: float,
    interval_ms: float,
    log: EventLog,
    tool_version: str,
    generated_at: datetime,
    pipe_closed_after_s: float | None = None,
) -> LoopwatchReport:
    """The report; a blockage never seen to end lasted, at least, until the program ended.

    What went wrong on the pipe is said among the watchdog's errors, where every format
    (and the JSON schema) already has a place for it.
    """
    ended_at = started_at + timedelta(seconds=duration_s)
    blockages = tuple(
        b if b.ended else replace(b, duration_ms=round(max(
            b.duration_ms, (ended_at - b.started_at).total_seconds() * 1000), 3))
        for b in log.blockages
    )
    threads = []
    for name in dict.fromkeys([*log.loops, *log.stats]):
        stats = log.stats.get(name)
        loops = max(log.loops.get(name, 0), stats.loops if stats else 0)
        # A blockage is lag too: a program killed before its stats came still has it.
        lags = [b.duration_ms for b in blockages if b.thread == name]
        if stats and stats.max_lag_ms is not None:
            lags.append(stats.max_lag_ms)
        threads.append(ThreadSummary(
            name, loops,
            max(lags) if lags else None,
            stats.p99_lag_ms if stats else None,
            stats.heartbeats if stats else None,
        ))
    return LoopwatchReport(
        command=command, runs=runs, started_at=started_at, duration_s=duration_s,
        exit=exit_status, threshold_ms=threshold_ms, interval_ms=interval_ms,
        attached=log.hello is not None, pid=log.hello.pid if log.hello else None,
        python=log.hello.python if log.hello else None, threads=tuple(threads),
        blockages=blockages, errors=(*log.errors, *pipe_errors(log, pipe_closed_after_s)),
        tool_version=tool_version, generated_at=generated_at,
        pipe_closed_after_s=pipe_closed_after_s,
    )


def pipe_errors(log: EventLog, closed_after_s: float | None) -> list[str]:
    errors = []
    if closed_after_s is not None:
        errors.append(f"the program closed the reporting pipe {closed_after_s:.2f} s after it "
                      "started: nothing it did after that is known")
    if log.unreadable_lines:
        errors.append(f"{log.unreadable_lines} unreadable {_lines(log.unreadable_lines)} on "
                      "the reporting pipe, ignored")
    if log.dropped_lines:
        mib = MAX_LINE_BYTES // (1024 * 1024)
        errors.append(f"{log.dropped_lines} {_lines(log.dropped_lines)} of {mib} MiB or more "
                      "on the reporting pipe, dropped unread")
    return errors


def _lines(count: int) -> str:
    return "line" if count == 1 else "lines"


def closed_by_program(log: EventLog, started_at: float, ended_at: float,
                      margin: float) -> float | None:
    """When the program closed the pipe, in seconds after `started_at` (monotonic), or None.

    Closed by the program: without the agent's goodbye, and while the program ran on for more
    than `margin` seconds (one killed or ended by os._exit closes it as it dies).
    """
    closed_at = log.closed_at
    if log.bye or closed_at is None or ended_at - closed_at <= margin:
        return None
    return closed_at - started_at


def trap_title(trap_id: str | None) -> str | None:
    trap = TRAPS.get(trap_id) if trap_id else None
    return trap.title if trap else trap_id


def trap_hint(trap_id: str | None) -> str | None:
    trap = TRAPS.get(trap_id) if trap_id else None
    return trap.hint if trap else None
