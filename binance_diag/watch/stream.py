"""The held stream's figures, per stream and for the connection: messages, rate, gaps,
server ping cadence, pong lateness, closes. Fed by the hold's listener; times are
`time.perf_counter()` seconds. Pure, and bounded: distributions, never lists of samples."""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field

from ..figures.distribution import Distribution
from ..model import JSON
from ..probe.sansio.servertime import ClockOffset


@dataclass
class StreamFigures:
    """One stream (`btcusdt@aggTrade`) across every connection of the watch."""

    name: str
    messages: int = 0
    gaps: Distribution = field(default_factory=Distribution)
    last_at: float | None = None
    lag_ms: Distribution = field(default_factory=Distribution)
    """Receipt time minus the event time `E` (this machine's clock against Binance's)."""
    latency_ms: Distribution = field(default_factory=Distribution)
    """The same lag read on Binance's clock (plus the measured offset): event-to-receipt
    latency, ± the offset's bound; only while the clock is measured."""

    def add(self, at: float, lag_ms: float | None, offset_ms: float | None = None) -> None:
        if self.last_at is not None:
            self.gaps.add(at - self.last_at)
        self.last_at = at
        self.messages += 1
        if lag_ms is not None:
            self.lag_ms.add(max(lag_ms, 0.0))
            if offset_ms is not None:
                self.latency_ms.add(lag_ms + offset_ms)

    def to_dict(self, elapsed: float) -> dict[str, JSON]:
        gaps = self.gaps.summary(scale=1000)
        latency = self.latency_ms.summary()
        measured: dict[str, JSON] = {"event_latency_p50_ms": latency["p50"],
                                     "event_latency_p99_ms": latency["p99"]}
        return {"messages": self.messages,
                "rate_per_s": round(self.messages / elapsed, 2) if elapsed > 0 else 0.0,
                "gap_median_ms": gaps["p50"], "gap_p99_ms": gaps["p99"],
                "gap_largest_ms": gaps["max"],
                "event_lag_p50_ms": self.lag_ms.summary()["p50"],
                **(measured if self.latency_ms.count else {})}


@dataclass
class HeldStreamStats:
    """Everything the held connections saw, since the watch started."""

    started: float
    streams: dict[str, StreamFigures] = field(default_factory=dict)
    gaps: Distribution = field(default_factory=Distribution)
    """Gaps between two messages of any stream, on one connection: what a stall breaks."""
    last_message_at: float | None = None
    ping_intervals: Distribution = field(default_factory=Distribution)
    pong_lateness: Distribution = field(default_factory=Distribution)
    """Seconds from a server ping to our pong on the wire."""
    pings: int = 0
    pongs: int = 0
    closes: Counter[str] = field(default_factory=Counter)
    connections: int = 0
    clock: ClockOffset | None = None
    """This machine's offset against Binance's server time, once measured (watch/clock.py)."""
    _last_ping_at: float | None = None
    _unanswered: deque[float] = field(default_factory=lambda: deque(maxlen=1024))

    def connected(self) -> None:
        """A new held connection: gaps and ping intervals do not span two connections."""
        self.connections += 1
        self.last_message_at = None
        self._last_ping_at = None
        self._unanswered.clear()

    def message(self, stream: str, at: float, lag_ms: float | None) -> None:
        figures = self.streams.get(stream)
        if figures is None:
            figures = self.streams[stream] = StreamFigures(stream)
        figures.add(at, lag_ms, self.clock.offset_ms if self.clock is not None else None)
        if self.last_message_at is not None:
            self.gaps.add(at - self.last_message_at)
        self.last_message_at = at

    def ping(self, at: float) -> None:
        self.pings += 1
        if self._last_ping_at is not None:
            self.ping_intervals.add(at - self._last_ping_at)
        self._last_ping_at = at
        self._unanswered.append(at)

    def pongs_sent(self, at: float, count: int) -> None:
        self.pongs += count
        for _ in range(min(count, len(self._unanswered))):
            self.pong_lateness.add(at - self._unanswered.popleft())

    def closed(self, code: int | None) -> None:
        self.closes["none" if code is None else str(code)] += 1

    @property
    def messages(self) -> int:
        return sum(f.messages for f in self.streams.values())

    def silence(self, now: float) -> float | None:
        """Seconds since the last message on this connection (None before the first)."""
        return None if self.last_message_at is None else now - self.last_message_at

    def median_gap(self) -> float | None:
        return self.gaps.quantile(0.5)

    def to_dict(self, now: float) -> dict[str, JSON]:
        elapsed = now - self.started
        gaps = self.gaps.summary(scale=1000)
        late = self.pong_lateness.summary(scale=1000, digits=3)
        cadence = self.ping_intervals.summary(digits=3)
        return {
            "messages": self.messages,
            "rate_per_s": round(self.messages / elapsed, 2) if elapsed > 0 else 0.0,
            "gap_median_ms": gaps["p50"], "gap_p99_ms": gaps["p99"],
            "gap_largest_ms": gaps["max"],
            "pings": self.pings, "pongs": self.pongs,
            "ping_interval_median_s": cadence["p50"],
            "pong_lateness_p99_ms": late["p99"], "pong_lateness_max_ms": late["max"],
            "connections": self.connections, "closes": dict(self.closes),
            **({"clock_offset_ms": round(self.clock.offset_ms, 1),
                "clock_bound_ms": round(self.clock.bound_ms, 1)} if self.clock else {}),
            "streams": {name: figures.to_dict(elapsed)
                        for name, figures in sorted(self.streams.items())},
        }
