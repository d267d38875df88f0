"""The watch's clock: this machine's offset against Binance's server time, measured when the
held stream first connects and every `clock_every` after, so that each event's lag becomes
an event-to-receipt latency ± a bound (probe/servertime.py, NTP-style).

Same rule as the probe's experiments: the REST host is reached only where the run's own
configuration says it is (a `--resolve` pin, the held stream's own address for a custom
endpoint, a proxy that resolves names); otherwise the clock is not measured, once, and
lags stay raw.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..config.probe import ProbeConfig
from ..model import JSON
from ..probe.base import ProbeState
from ..probe.experiments.clock import describe_offset, not_measured
from ..probe.experiments.view import NoRoute, RunView
from ..probe.sansio.servertime import ClockOffset
from ..probe.servertime import ClockMeasurement, measure_clock, rest_time_of
from ..timing import Deadline, utc_now

CLOCK_BUDGET = 5.0
"""Seconds one measurement may take (a connection, a handshake, four round trips)."""


@dataclass
class WatchClock:
    config: ProbeConfig
    measurement: ClockMeasurement | None = None
    measured_at: datetime | None = None
    reason: str = ""
    """Why the clock is not measured (empty while it is, or before the first try)."""
    measurements: int = 0
    history: list[float] = field(default_factory=list)
    """The offsets measured, newest last (bounded): a drift shows here."""

    @property
    def offset(self) -> ClockOffset | None:
        return self.measurement.offset if self.measurement is not None else None

    @property
    def final(self) -> bool:
        """Not measurable in this watch: trying again would ask the same question."""
        return self.reason.startswith("not measured")

    async def measure(self, state: ProbeState) -> str:
        """One measurement over the held connection's route; its timeline line."""
        target = self.config.target
        rest = rest_time_of(target)
        if rest is None:
            self.reason = f"not measured: no REST host known for {target.host}"
            return f"clock {self.reason}; event lags stay raw"
        connection = state.connection
        view = RunView(self.config, (), tuple(state.addresses),
                       connection.peer if connection is not None else None,
                       tls_context=state.tls_context)
        route = view.route_to(rest.host, rest.port)
        if isinstance(route, NoRoute):
            self.reason = not_measured(rest.host)
            return f"clock {self.reason}; event lags stay raw"
        measured = await measure_clock(route, rest, Deadline(CLOCK_BUDGET), state.tls_context)
        if measured.offset is None:
            self.reason = f"no server time from {rest.where}: {measured.error}"
            return f"clock: {self.reason}"
        self.measurement, self.measured_at, self.reason = measured, utc_now(), ""
        self.measurements += 1
        self.history = [*self.history[-19:], round(measured.offset.offset_ms, 1)]
        return f"clock: {describe_offset(measured.offset, rest)}"

    def to_dict(self) -> dict[str, JSON]:
        data: dict[str, JSON] = {"measurements": self.measurements,
                                 "offsets_ms": list(self.history)}
        if self.measurement is not None:
            data.update(self.measurement.to_dict())
        if self.measured_at is not None:
            data["measured_at"] = self.measured_at.isoformat(timespec="milliseconds")
        if self.reason:
            data["not_measured"] = self.reason
        return data


def clock_lines(clock: WatchClock, figures: Mapping[str, Any]) -> list[str]:
    """Event-to-receipt latency ± the clock's bound, per stream, once measured; or why the
    lags stay raw. `figures`: the held stream's `to_dict()`."""
    offset = clock.offset
    if offset is None:
        return [f"clock {clock.reason}"] if clock.reason else []
    streams = figures.get("streams") or {}
    latencies = ", ".join(f"{name} p50 {info['event_latency_p50_ms']} ms"
                          for name, info in streams.items() if "event_latency_p50_ms" in info)
    return [f"clock offset {offset.offset_ms:+.1f} ms ± {offset.bound_ms:.1f} ms; "
            f"event-to-receipt latency ± {offset.bound_ms:.1f} ms: {latencies or '-'}"]
