"""probe/experiments/clock.py: the server time is asked only when the event lag looks wrong,
only where the run's configuration says the REST host is; the verdict is the offset read
against the lag."""

from __future__ import annotations

import pytest

from binance_diag.model import StageName, StageResult, StageStatus
from binance_diag.probe.experiments.catalogue import INCONCLUSIVE, SERVER_TIME, SPECS
from binance_diag.probe.experiments.clock import decide, plan
from binance_diag.probe.experiments.view import RunView
from binance_diag.probe.sansio.servertime import ClockOffset, judge_lag
from binance_diag.probe.servertime import ClockMeasurement, RestTime
from tests.probe.helpers import make_config


def first_message(lag_ms: float) -> StageResult:
    return StageResult(StageName.FIRST_MESSAGE, StageStatus.OK, 5.0, duration_ms=10.0,
                       details={"streams": {"btcusdt@aggTrade": {
                           "event_time": 1767516120000, "event_time_lag_ms": lag_ms}}})


def view(endpoint: str, lag_ms: float, resolve: tuple[str, ...] = ()) -> RunView:
    return RunView(make_config(endpoint, resolve=resolve), (first_message(lag_ms),))


def test_not_planned_while_the_lag_looks_right() -> None:
    assert plan(view("wss://127.0.0.1:8443", 150.0)) == []
    assert plan(view("wss://127.0.0.1:8443", -1500.0)) == []


def test_planned_to_the_streams_own_address_for_a_custom_endpoint() -> None:
    (planned,) = plan(view("wss://localhost:8443", 3000.0,
                           ("localhost:8443:127.0.0.1",)))
    assert planned.name == SERVER_TIME and planned.run is not None
    assert "localhost:8443 at 127.0.0.1" in planned.action


def test_a_pin_for_the_stream_host_is_no_address_for_the_rest_host() -> None:
    (planned,) = plan(view("spot", -4000.0, ("stream.binance.com:9443:127.0.0.1",)))
    assert planned.run is None
    assert planned.reason == ("not measured: no address for api.binance.com without asking "
                              "DNS a question the run did not ask")


def test_a_pin_for_the_rest_host_is_used() -> None:
    (planned,) = plan(view("spot", -4000.0, ("stream.binance.com:9443:127.0.0.1",
                                             "api.binance.com:443:127.0.0.1")))
    assert planned.run is not None and "api.binance.com:443 at 127.0.0.1" in planned.action


OFFSET = ClockOffset(5000.0, 1.5, 1.0, 4)


@pytest.mark.parametrize(("offset", "lag", "outcome"), [
    (ClockOffset(5000.0, 1.5, 1.0, 4), -4990.0, "clock_off"),
    (ClockOffset(-2.0, 1.5, 1.0, 4), 3000.0, "late_delivery"),
    (ClockOffset(-3000.0, 1.5, 1.0, 4), 6000.0, "clock_off_and_late"),
    (ClockOffset(0.0, 2500.0, 5000.0, 1), 2100.0, "not_separated"),
])
def test_judge(offset: ClockOffset, lag: float, outcome: str) -> None:
    assert judge_lag(offset, lag) == outcome
    assert outcome in SPECS[SERVER_TIME].outcomes


def test_decide_reports_latency_with_its_bound() -> None:
    rest = RestTime("api.binance.com", 443, "/api/v3/time")
    verdict = decide(ClockMeasurement(rest, OFFSET), {"btcusdt@aggTrade": -4990.0})
    assert verdict.outcome == "clock_off"
    assert verdict.result.startswith("this machine's clock is 5.00 s behind Binance's (± 1.5")
    assert verdict.result.endswith("event-to-receipt latency 10.0 ms ± 1.5 ms")
    assert verdict.details["streams"] == {"btcusdt@aggTrade": {
        "event_time_lag_ms": -4990.0, "latency_ms": 10.0, "bound_ms": 1.5}}
    failed = decide(ClockMeasurement(rest, None, "HTTP 451"), {"btcusdt@aggTrade": 3000.0})
    assert failed.outcome == INCONCLUSIVE and "HTTP 451" in failed.result
