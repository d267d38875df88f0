"""What stages share: their outcome type, the state handed down the chain, and the trace.

A stage returns a `StageOutcome` and never raises for a network failure; the runner times it
and turns it into a `StageResult`. The `Tracer` is the single hook (httpcore's `_trace.py`
idea) that feeds the timeline and any live progress display.
"""

from __future__ import annotations

import ssl
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from ..model import JSON, ErrorKind, StageError, StageName, StageStatus, TimelineEvent
from ..safety.sanitize import peer_text
from ..timing import utc_now
from .connection import Connection
from .sansio.handshake import WebSocketExchange


@dataclass
class StageOutcome:
    status: StageStatus
    error: StageError | None = None
    details: dict[str, JSON] = field(default_factory=dict)


def passed(**details: JSON) -> StageOutcome:
    return StageOutcome(StageStatus.OK, None, dict(details))


def failed(kind: ErrorKind, message: str, extra: dict[str, JSON] | None = None,
           **details: JSON) -> StageOutcome:
    status = StageStatus.TIMEOUT if kind is ErrorKind.TIMEOUT else StageStatus.FAILED
    return StageOutcome(status, StageError(kind, message, extra or {}), dict(details))


@dataclass
class ProbeState:
    """What one stage leaves for the next: addresses, the open connection, the exchange."""

    addresses: list[str] = field(default_factory=list)
    connection: Connection | None = None
    exchange: WebSocketExchange | None = None
    upgraded_at: float | None = None
    """perf_counter() when the 101 arrived: the first message's latency is measured from it."""
    tls_context: ssl.SSLContext | None = None
    """Made before the stages run: loading a trust store (certifi: ~150 certificates) is this
    process's CPU time, not the handshake's."""

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


EVENT_LIMIT = 1000
"""Characters of one timeline event: ours are one sentence; more came from a peer."""

class HoldWatcher(Protocol):
    """What follows a hold as it happens (render/progress.py's StageProgress)."""

    def hold_started(self, duration_s: float) -> None: ...

    def hold_event(self, kind: str, at: float, detail: object) -> None: ...


StageListener = Callable[[StageName, str, float | None], None]
"""Called with (stage, "start" | "ok" | "failed" | "timeout" | "skipped", duration_ms)."""


TIMELINE_HEAD = 300
"""Timeline events kept from the start of a run: how it began, every stage's start and end."""
TIMELINE_TAIL = 200
"""Timeline events kept from the end: how it ended. Those in between are counted, not kept."""


@dataclass
class Tracer:
    """Collects timeline events and tells listeners (progress display) as stages move.

    The timeline is bounded whatever a peer sends (a flood of replies adds an event each):
    the first `head` events and the last `tail` are kept, the rest counted, and `events`
    says so where they were left out. Every event's text is `peer_text`: one printable line.
    """

    listeners: list[StageListener] = field(default_factory=list)
    hold_watchers: list[HoldWatcher] = field(default_factory=list)
    """Told when a `--duration` hold starts and of each of its events (the live line)."""
    stage: StageName | None = None
    head: int = TIMELINE_HEAD
    tail: int = TIMELINE_TAIL
    _first: list[TimelineEvent] = field(default_factory=list, init=False, repr=False)
    _last: deque[TimelineEvent] = field(default_factory=deque, init=False, repr=False)
    dropped: int = field(default=0, init=False)
    """Events not kept (counted in the timeline's own "not kept" event)."""
    _dropped_at: datetime | None = field(default=None, init=False, repr=False)

    def event(self, text: str) -> None:
        event = TimelineEvent(utc_now(), peer_text(text, limit=EVENT_LIMIT), self.stage)
        if len(self._first) < self.head:
            self._first.append(event)
            return
        if len(self._last) >= self.tail:
            gone = self._last.popleft() if self.tail else event
            self.dropped += 1
            self._dropped_at = self._dropped_at or gone.at
        if self.tail:
            self._last.append(event)

    @property
    def events(self) -> list[TimelineEvent]:
        """The timeline as kept, with an event where the middle was left out."""
        if not self.dropped:
            return [*self._first, *self._last]
        assert self._dropped_at is not None
        gap = TimelineEvent(self._dropped_at,
                            f"… {self.dropped} events not kept (timeline cap "
                            f"{self.head + self.tail}: the first {self.head} and the last "
                            f"{self.tail} are)", None)
        return [*self._first, gap, *self._last]

    def stage_changed(self, stage: StageName, what: str, duration_ms: float | None) -> None:
        self.stage = stage if what == "start" else self.stage
        for listener in self.listeners:
            listener(stage, what, duration_ms)
