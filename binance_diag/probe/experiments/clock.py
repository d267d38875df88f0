"""Is an event lag this machine's clock, or late delivery? Binance's server time, asked
NTP-style on the REST host of the same market (probe/servertime.py).

Planned only when the first events' times are further than SKEW_SUSPECT_MS from the local
clock - exactly when the skew rule would otherwise have to guess - so a healthy probe pays
nothing. The REST host of a Binance market is another host: it is reached only with an
address the run's own configuration gives (a `--resolve` pin for it, or a proxy that
resolves names itself), never with a new DNS question.
"""

from __future__ import annotations

from collections.abc import Mapping

from ...model import JSON, StageName, StageStatus
from ...timing import Deadline, format_ms
from ..sansio.servertime import SKEW_SUSPECT_MS, ClockOffset, event_lags, judge_lag
from ..servertime import SAMPLES, ClockMeasurement, RestTime, measure_clock, rest_time_of
from .base import Planned, Verdict, not_run
from .catalogue import INCONCLUSIVE, SERVER_TIME
from .view import NoRoute, RunView


def skew_suspected(lags: Mapping[str, float]) -> bool:
    return any(abs(lag) > SKEW_SUSPECT_MS for lag in lags.values())


def not_measured(host: str) -> str:
    return (f"not measured: no address for {host} without asking DNS a question the run "
            "did not ask")


def plan(view: RunView) -> list[Planned]:
    stage = view.stage(StageName.FIRST_MESSAGE)
    if stage is None or stage.status is not StageStatus.OK:
        return []
    lags = event_lags(stage.details.get("streams"))
    if not skew_suspected(lags):
        return []
    target = view.config.target
    rest = rest_time_of(target)
    if rest is None:
        return [not_run(SERVER_TIME, "GET the server time",
                        f"not measured: no REST host known for {target.host}")]
    action = f"{SAMPLES} GET {rest.path} on one connection to {rest.where}"
    route = view.route_to(rest.host, rest.port)
    if isinstance(route, NoRoute):
        return [not_run(SERVER_TIME, action, not_measured(rest.host))]

    async def run(deadline: Deadline) -> Verdict:
        measured = await measure_clock(route, rest, deadline, view.tls_context)
        return decide(measured, lags)

    return [Planned(SERVER_TIME, f"{action} ({route.describe()})", run)]


def decide(measured: ClockMeasurement, lags: Mapping[str, float]) -> Verdict:
    """The offset read against the worst lag: the clock, the delivery, both, or neither
    surely; each stream's latency ± bound as evidence."""
    details: dict[str, JSON] = {**measured.to_dict(), "streams": {}}
    offset = measured.offset
    if offset is None:
        return Verdict(INCONCLUSIVE, f"no server time from {measured.rest.where}: "
                       f"{measured.error}", details)
    details["streams"] = {name: latency_dict(offset, lag) for name, lag in lags.items()}
    worst = max(lags.values(), key=abs, default=0.0)
    outcome = judge_lag(offset, worst)
    return Verdict(outcome, f"{describe_offset(offset, measured.rest)}; event-to-receipt "
                   f"latency {describe_latency(offset, worst)}", details)


def latency_dict(offset: ClockOffset, lag_ms: float) -> dict[str, JSON]:
    return {"event_time_lag_ms": round(lag_ms, 1),
            "latency_ms": round(offset.latency_ms(lag_ms), 1),
            "bound_ms": round(offset.bound_ms, 1)}


def describe_offset(offset: ClockOffset, rest: RestTime) -> str:
    """`this machine's clock is 5.00 s behind Binance's (± 1.2 ms, ...)`."""
    side = "behind" if offset.offset_ms > 0 else "ahead of"
    return (f"this machine's clock is {format_ms(abs(offset.offset_ms))} {side} Binance's "
            f"(± {format_ms(offset.bound_ms)}; best of {offset.samples} round trips to "
            f"{rest.where}{rest.path}: {format_ms(offset.rtt_ms)})")


def describe_latency(offset: ClockOffset, lag_ms: float) -> str:
    return f"{format_ms(offset.latency_ms(lag_ms))} ± {format_ms(offset.bound_ms)}"
