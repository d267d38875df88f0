"""A stage that passed but was slow: where did the time go?

Three TCP connects give the path's round-trip time; the slow stage is then done once more
on a new connection. Fast the second time: a one-off (a SYN retransmitted, a cold cache).
Slow again and a few round trips long: the path's latency. Slow again with a short round
trip: the peer (or a middlebox in front of it) takes the time.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from ...model import StageName, StageResult
from ...timing import Deadline
from .base import Planned, Verdict, attempt_details
from .catalogue import REPEAT
from .shell import Hello, Route, tcp_connect_ms, tls_attempt
from .view import NoRoute, RunView

SLOW_FLOOR_MS = 500.0
"""As the diagnosis (rules/runtime.py): a stage faster than this is never slow..."""
SLOW_FACTOR = 10.0
"""...and a slow one takes this many times the TCP connect, or NEAR_TIMEOUT of its budget."""
NEAR_TIMEOUT = 0.75
ONCE = 1 / 3
"""A repeat faster than this share of the original: the delay did not recur."""
ROUND_TRIPS = 4
"""A TLS 1.2 handshake is 2 round trips, 1.3 one: more than this many is not the path's."""
RTT_SAMPLES = 3


def slow_stage(view: RunView) -> StageResult | None:
    """The passed tcp or tls stage that was slow, if any (the first)."""
    tcp = view.details(StageName.TCP).get("connect_ms")
    for stage in view.stages:
        if stage.name not in (StageName.TCP, StageName.TLS) or not stage.passed \
                or stage.duration_ms is None:
            continue
        took = stage.duration_ms - stage.loop_blocked_ms
        if stage.name is StageName.TCP and isinstance(tcp, int | float):
            took = float(tcp)
        if took >= NEAR_TIMEOUT * stage.timeout_s * 1000:
            return stage
        reference = float(tcp) if isinstance(tcp, int | float) and stage.name is not \
            StageName.TCP else None
        if took >= SLOW_FLOOR_MS and (reference is None or took >= SLOW_FACTOR *
                                      max(reference, 1.0)):
            return stage
    return None


def plan(view: RunView) -> list[Planned]:
    stage = slow_stage(view)
    if stage is None or view.proxy is not None:
        return []
    route = view.target_route
    action = (f"{RTT_SAMPLES} TCP connects and the {stage.name.value} stage once more, "
              "on new connections")
    if isinstance(route, NoRoute):
        return [Planned(REPEAT, action, None, str(route))]
    took = stage.duration_ms or 0.0
    if stage.name is StageName.TCP:
        connect = view.details(StageName.TCP).get("connect_ms")
        took = float(connect) if isinstance(connect, int | float) else took

    async def run(deadline: Deadline) -> Verdict:
        budget = Deadline(min(deadline.remaining(), max(view.attempt_budget(),
                                                        2 * took / 1000)))
        rtts = [ms for ms in [await tcp_connect_ms(route, budget)
                              for _ in range(RTT_SAMPLES)] if ms is not None]
        again: float | None = None
        details = {}
        if stage.name is StageName.TLS and view.config.target.secure:
            attempt = await tls_attempt(route, Hello(route.host), budget, view.tls_context)
            details = attempt_details("repeat", attempt)
            if attempt.outcome == "handshake_ok" and attempt.connect_ms is not None:
                again = attempt.elapsed_ms - attempt.connect_ms
        elif rtts:
            again = min(rtts)
        return decide(stage.name, took, rtts, again, details)

    return [Planned(REPEAT, f"{action} ({_where(route)})", run)]


def _where(route: Route) -> str:
    return route.describe()


def decide(stage: StageName, took_ms: float, rtts: Sequence[float], again_ms: float | None,
           details: dict[str, object] | None = None) -> Verdict:
    evidence = {"stage": stage.value, "original_ms": round(took_ms, 3),
                "rtt_ms": [round(r, 3) for r in rtts],
                "repeat_ms": round(again_ms, 3) if again_ms is not None else None,
                **({"repeat": details} if details else {})}
    if not rtts or again_ms is None:
        return Verdict("inconclusive", "the repeat did not complete", evidence)
    rtt = statistics.median(rtts)
    said = (f"{stage.value} took {took_ms:.1f} ms, {again_ms:.1f} ms again; "
            f"TCP round trip {rtt:.1f} ms")
    if again_ms <= took_ms * ONCE:
        return Verdict("once", f"{said}: the delay did not recur (a one-off)", evidence)
    if again_ms <= ROUND_TRIPS * rtt + 5:
        return Verdict("round_trips", f"{said}: the time is the path's round trips",
                       evidence)
    return Verdict("peer_slow", f"{said}: far more than the round trip, so the time is "
                   "spent at the peer (or a middlebox in front of it)", evidence)
