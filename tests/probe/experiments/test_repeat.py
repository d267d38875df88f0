"""probe/experiments/repeat.py: a slow stage found, and where its time went."""

from __future__ import annotations

import pytest

from binance_diag.model import StageName, StageResult, StageStatus
from binance_diag.probe.experiments.catalogue import REPEAT, SPECS
from binance_diag.probe.experiments.repeat import decide, plan, slow_stage
from binance_diag.probe.experiments.view import RunView
from tests.probe.helpers import make_config

PINNED = make_config("wss://stream.binance.com:9443",
                     resolve=["stream.binance.com:9443:127.0.0.1"])


@pytest.mark.parametrize(("took", "rtts", "again", "outcome"), [
    (3000.0, [20.0, 21.0, 19.0], 90.0, "once"),
    (3000.0, [300.0, 310.0, 290.0], 1100.0, "round_trips"),
    (3000.0, [2.0, 2.0, 3.0], 2900.0, "peer_slow"),
    (3000.0, [], 2900.0, "inconclusive"),
    (3000.0, [2.0], None, "inconclusive"),
])
def test_decide(took: float, rtts: list[float], again: float | None, outcome: str) -> None:
    verdict = decide(StageName.TLS, took, rtts, again)
    assert verdict.outcome == outcome
    assert outcome == "inconclusive" or outcome in SPECS[REPEAT].outcomes
    assert verdict.details["original_ms"] == took


def stage(name: StageName, took: float, timeout: float = 10.0, blocked: float = 0.0,
          **details: object) -> StageResult:
    return StageResult(name, StageStatus.OK, timeout, duration_ms=took, details=details,
                       loop_blocked_ms=blocked)


def test_a_tls_stage_ten_round_trips_long_is_slow() -> None:
    tcp = stage(StageName.TCP, 20.0, connect_ms=20.0)
    assert slow_stage(RunView(PINNED, (tcp, stage(StageName.TLS, 600.0)))) is not None
    assert slow_stage(RunView(PINNED, (tcp, stage(StageName.TLS, 150.0)))) is None
    # 600 ms is not slow over a 100 ms round trip (six round trips)...
    far = stage(StageName.TCP, 100.0, connect_ms=100.0)
    assert slow_stage(RunView(PINNED, (far, stage(StageName.TLS, 600.0)))) is None
    # ...but near its timeout it is, whatever the round trip.
    assert slow_stage(RunView(PINNED, (far, stage(StageName.TLS, 800.0, timeout=1.0))))


def test_time_the_loop_was_blocked_is_not_the_networks() -> None:
    tcp = stage(StageName.TCP, 2.0, connect_ms=2.0)
    assert slow_stage(RunView(PINNED, (tcp, stage(StageName.TLS, 900.0, blocked=800.0)))) \
        is None


def test_a_slow_tcp_connect_is_its_own_connect_time() -> None:
    slow = stage(StageName.TCP, 50.0, timeout=1.0, connect_ms=900.0)
    assert slow_stage(RunView(PINNED, (slow,))) is slow
    [planned] = plan(RunView(PINNED, (slow,)))
    assert planned.name == REPEAT and planned.run is not None
    assert "the tcp stage once more" in planned.action


def test_not_planned_through_a_proxy_or_without_a_slow_stage() -> None:
    slow = (stage(StageName.TCP, 2.0, connect_ms=2.0), stage(StageName.TLS, 900.0))
    proxied = make_config("wss://stream.binance.com:9443", proxy="http://127.0.0.1:3128")
    assert plan(RunView(proxied, slow)) == []
    assert plan(RunView(PINNED, slow[:1])) == []
