"""The held connection: opened by a full probe, then held with probe/hold.py for as long
as the watch runs, its every message, ping and pong told to the statistics.

The probe's own first_message stage opens it; the stage is wrapped to adopt the connection
instead of letting the runner close it, so the held stream starts with a complete report
of how it was reached (the report an incident about a failed reconnect shows).
The hold runs in segments (`SEGMENT`): what probe/hold.py keeps per call stays bounded
however long the watch.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from ..config.probe import ProbeConfig
from ..model import JSON, ProbeReport, StageName, StageStatus
from ..probe.base import ProbeState, StageOutcome, Tracer
from ..probe.connection import Connection
from ..probe.hold import hold_stream
from ..probe.runner import STAGES, StageFunction, run_probe
from ..probe.sansio.handshake import WebSocketExchange
from ..probe.sansio.payload import Event, Problem, Reply, list_subscriptions_request
from ..timing import Deadline
from .stream import HeldStreamStats

SEGMENT = 30.0
"""Seconds per call of hold_stream: it keeps every gap of a call, so a call must not last hours."""
POLL = 0.1
"""How soon a request queued on the held connection (stall forensics) goes on the wire."""
LIST_SUBSCRIPTIONS_ID = 4242
"""The id of the watch's own LIST_SUBSCRIPTIONS on the held connection."""


@dataclass(frozen=True)
class HoldEnd:
    """Why holding stopped (None: the watch asked it to)."""

    closed: dict[str, JSON] | None = None
    send_stalled: dict[str, JSON] | None = None
    error: str | None = None


class HeldConnection:
    """One held connection and what it has seen; `on_line` gets timeline lines."""

    def __init__(self, config: ProbeConfig, stats: HeldStreamStats,
                 on_line: Callable[[str], None], command: str = "") -> None:
        self.config = config
        self.stats = stats
        self.on_line = on_line
        self.command = command
        self.state = ProbeState()
        self.connected_at: float | None = None
        self.answered = False
        """The watch's LIST_SUBSCRIPTIONS was answered."""
        self.shutdown_notice = False
        """Binance's serverShutdown event came on this connection."""
        self.asked_at: float | None = None

    @property
    def open(self) -> bool:
        return self.state.connection is not None

    @property
    def bytes_in(self) -> int:
        return self.state.connection.bytes_in if self.state.connection else 0

    @property
    def age(self) -> float:
        return 0.0 if self.connected_at is None else time.perf_counter() - self.connected_at

    async def connect(self, tracer: Tracer | None = None) -> ProbeReport:
        """A full probe whose connection, if it gets its first message, stays open here."""
        plan = tuple((name, self._adopting(function) if name is StageName.FIRST_MESSAGE
                      else function) for name, function in STAGES)
        # The connection's age counts from before it was opened: Binance's lifetime starts at
        # its accept, and the first message, the report and a loaded machine come after.
        opened = time.perf_counter()
        report = await run_probe(self.config, tracer or Tracer(), self.command, plan)
        if report.failed_stage is not None:  # passed, but late: the runner's verdict holds
            self.close()
        elif self.open:
            self.connected_at = opened
            self.stats.connected()
        return report

    def _adopting(self, stage: StageFunction) -> StageFunction:
        async def first_message(config: ProbeConfig, state: ProbeState, tracer: Tracer,
                                deadline: Deadline) -> StageOutcome:
            outcome = await stage(config, state, tracer, deadline)
            if outcome.status is StageStatus.OK:
                # Ours now: the runner closes what is left in its state, which is nothing.
                self.state = replace(state)
                state.connection, state.exchange = None, None
            return outcome
        return first_message

    async def hold(self, until: float) -> HoldEnd | None:
        """Hold until `until` (perf_counter), a close, or a send that cannot go out."""
        while (remaining := until - time.perf_counter()) > 0:
            try:
                result = await hold_stream(self.config, self.state, min(SEGMENT, remaining),
                                           self._listen, poll=POLL)
            except (OSError, AssertionError) as exc:
                return HoldEnd(error=f"{type(exc).__name__}: {exc}")
            closed, stalled = result.get("closed"), result.get("send_stalled")
            if isinstance(closed, dict) or isinstance(stalled, dict):
                return HoldEnd(closed if isinstance(closed, dict) else None,
                               stalled if isinstance(stalled, dict) else None)
        return None

    def _listen(self, kind: str, at: float, detail: object) -> None:
        if kind == "event" and isinstance(detail, Event):
            lag = time.time() * 1000 - detail.event_time_ms
            self.stats.message(detail.stream, at, lag)
        elif kind == "ping":
            self.stats.ping(at)
        elif kind == "pongs_sent" and isinstance(detail, int):
            self.stats.pongs_sent(at, detail)
        elif kind == "other" and isinstance(detail, Reply):
            if detail.id == LIST_SUBSCRIPTIONS_ID and self.asked_at is not None:
                self.answered = True
                self.on_line(f"held connection answered LIST_SUBSCRIPTIONS: {detail.result}")
        elif kind == "other" and isinstance(detail, Problem):
            if detail.extra.get("event") == "serverShutdown":
                self.shutdown_notice = True
                self.on_line("serverShutdown event received on the held connection")

    def ask(self) -> bool:
        """Queue LIST_SUBSCRIPTIONS and a ping on the held connection (the hold sends them
        within `POLL`); False when it can no longer send."""
        exchange: WebSocketExchange | None = self.state.exchange
        if exchange is None or not exchange.send_text(
                list_subscriptions_request(LIST_SUBSCRIPTIONS_ID)):
            return False
        exchange.protocol.send_ping(b"binance-diag watch")
        self.asked_at = time.perf_counter()
        self.answered = False
        return True

    def close(self) -> None:
        """Drop the connection (no goodbye: it may be the stuck one)."""
        connection: Connection | None = self.state.connection
        if connection is not None:
            connection.close()
        self.state.connection, self.state.exchange = None, None
