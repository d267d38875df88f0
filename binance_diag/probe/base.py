"""What stages share: their outcome type, the state handed down the chain, and the trace.

A stage returns a `StageOutcome` and never raises for a network failure; the runner times it
and turns it into a `StageResult`. The `Tracer` is the single hook (httpcore's `_trace.py`
idea) that feeds the timeline and any live progress display.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from dataclasses import dataclass, field

from ..model import JSON, ErrorKind, StageError, StageName, StageStatus, TimelineEvent
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


StageListener = Callable[[StageName, str, float | None], None]
"""Called with (stage, "start" | "ok" | "failed" | "timeout" | "skipped", duration_ms)."""


@dataclass
class Tracer:
    """Collects timeline events and tells listeners (progress display) as stages move."""

    events: list[TimelineEvent] = field(default_factory=list)
    listeners: list[StageListener] = field(default_factory=list)
    stage: StageName | None = None

    def event(self, text: str) -> None:
        self.events.append(TimelineEvent(utc_now(), text, self.stage))

    def stage_changed(self, stage: StageName, what: str, duration_ms: float | None) -> None:
        self.stage = stage if what == "start" else self.stage
        for listener in self.listeners:
            listener(stage, what, duration_ms)
