"""probe/experiments/view.py: where an experiment may go without a DNS question the run did
not ask, and how long one attempt waits."""

from __future__ import annotations

from binance_diag.model import ErrorKind, StageError, StageName, StageResult, StageStatus
from binance_diag.probe.experiments.shell import Route
from binance_diag.probe.experiments.view import (
    ATTEMPT_FLOOR_S,
    ROUND_TRIPS,
    NoRoute,
    RunView,
    first_answered,
    other_port,
)
from tests.probe.helpers import make_config

BINANCE = "wss://stream.binance.com:9443"


def ok(name: StageName, **details: object) -> StageResult:
    return StageResult(name, StageStatus.OK, 5.0, duration_ms=10.0, details=details)


def test_the_failed_stage_is_the_first_failed_or_timed_out() -> None:
    stages = (ok(StageName.DNS), StageResult(StageName.TCP, StageStatus.TIMEOUT, 5.0,
                                             error=StageError(ErrorKind.TIMEOUT, "t")),
              StageResult(StageName.TLS, StageStatus.SKIPPED, 5.0))
    view = RunView(make_config(BINANCE), stages)
    assert view.failed is stages[1]
    assert view.stage(StageName.TLS) is stages[2] and view.stage(StageName.PROXY) is None
    assert RunView(make_config(BINANCE), stages[:1]).failed is None


def test_a_pin_is_for_its_port_only() -> None:
    config = make_config(BINANCE, resolve=["stream.binance.com:9443:127.0.0.2"])
    view = RunView(config, (ok(StageName.DNS, source="resolve"),), addresses=("127.0.0.2",))
    assert view.target_route == Route("stream.binance.com", 9443, "127.0.0.2")
    # The pin says nothing of port 443: no address without asking DNS.
    other = view.route_to("stream.binance.com", 443)
    assert isinstance(other, NoRoute) and "without asking DNS" in other
    assert isinstance(view.route_to("data-stream.binance.vision", 443), NoRoute)


def test_a_dns_answer_holds_for_every_port_of_its_name() -> None:
    view = RunView(make_config(BINANCE), (ok(StageName.DNS, source="dns"),),
                   addresses=("127.0.0.3",))
    assert view.route_to("stream.binance.com", 443) == Route("stream.binance.com", 443,
                                                             "127.0.0.3")
    assert view.route_to("127.0.0.9", 80) == Route("127.0.0.9", 80, "127.0.0.9")


def test_the_main_connections_peer_comes_before_the_dns_list() -> None:
    view = RunView(make_config(BINANCE), (), addresses=("127.0.0.3", "127.0.0.4"),
                   peer=("127.0.0.4", 9443))
    assert view.address_of("stream.binance.com", 9443) == "127.0.0.4"


def test_a_proxy_that_resolves_names_is_reached_without_an_address() -> None:
    view = RunView(make_config(BINANCE, proxy="socks5h://127.0.0.1:1080"), ())
    route = view.route_to("data-stream.binance.vision", 443)
    assert isinstance(route, Route) and route.address is None and route.proxy is not None
    assert "through socks5h://127.0.0.1:1080" in route.describe()
    # direct=True drops the proxy, and with it the only way to the name.
    assert isinstance(view.route_to("data-stream.binance.vision", 443, direct=True), NoRoute)


def test_the_attempt_budget_is_round_trips_with_a_floor() -> None:
    config = make_config(BINANCE)
    assert RunView(config, ()).attempt_budget() == ATTEMPT_FLOOR_S
    fast = RunView(config, (ok(StageName.TCP, connect_ms=2.0),))
    assert fast.attempt_budget() == ATTEMPT_FLOOR_S
    slow = RunView(config, (ok(StageName.TCP, connect_ms=300.0),))
    assert slow.attempt_budget() == ROUND_TRIPS * 0.3
    # Through a proxy there is no connect_ms: the proxy stage's time stands in.
    proxied = RunView(config, (StageResult(StageName.PROXY, StageStatus.OK, 5.0,
                                           duration_ms=200.0),))
    assert proxied.attempt_budget() == ROUND_TRIPS * 0.2


def test_other_port_only_for_binance_hosts_on_their_ports() -> None:
    assert other_port(RunView(make_config(BINANCE), ())) == 443
    assert other_port(RunView(make_config("wss://stream.binance.com:443"), ())) == 9443
    assert other_port(RunView(make_config("wss://stream.binance.com:8443"), ())) is None
    assert other_port(RunView(make_config("wss://example.com:9443"), ())) is None


def test_first_answered() -> None:
    assert first_answered([("a", False), ("b", True), ("c", True)]) == "b"
    assert first_answered([("a", False)]) is None
