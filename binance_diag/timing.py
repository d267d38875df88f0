"""Clocks for measuring stages: absolute deadlines and wall-clock timestamps.

Durations come from `time.perf_counter` (monotonic, sub-microsecond); timestamps shown to
people come from the wall clock in UTC. A deadline is absolute so that a peer trickling one
byte at a time cannot stretch a stage: every read waits only for what is left.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


class Deadline:
    """A point on the monotonic clock after which a stage has run out of time."""

    def __init__(self, seconds: float) -> None:
        self.budget = seconds
        self.started = time.perf_counter()
        self.at = self.started + seconds

    def remaining(self) -> float:
        """Seconds left, never negative."""
        return max(0.0, self.at - time.perf_counter())

    @property
    def expired(self) -> bool:
        return time.perf_counter() >= self.at

    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000


def format_ms(ms: float) -> str:
    """Human duration: `12.3 ms` under a second, `5.00 s` above."""
    if ms < 1000:
        return f"{ms:.1f} ms"
    return f"{ms / 1000:.2f} s"


def format_seconds(seconds: float) -> str:
    """A budget as format_ms shows it: `199.0 ms` (not `0.20 s`) for a sub-second one."""
    return format_ms(seconds * 1000)
