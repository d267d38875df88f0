"""The real probe against every catalogued fault of the simulator (one catalogue for all).

Each fault must be diagnosed at the stage and with the error kind the catalogue promises, and
the run must end within its budget whatever the peer does.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from binance_diag.model import ErrorKind, StageName, StageStatus
from binance_diag.probe.runner import SUPERVISION_MARGIN
from binance_diag.simulate.certs import CertificateAuthority
from binance_diag.simulate.faults import FAULTS
from binance_diag.simulate.scenario import Scenario, start_fault
from tests.probe.helpers import FAST, make_config, probe
from tests.utils import MS

GRACE = 0.5


@pytest.fixture(scope="module")
def certs() -> CertificateAuthority:
    return CertificateAuthority()


def config_for(scenario: Scenario, symbols: tuple[str, ...] = ("BTCUSDT",)):  # type: ignore[no-untyped-def]
    return make_config(
        scenario.url_base, symbols, resolve=scenario.resolve, resolvers=scenario.nameservers,
        ca_bundle=scenario.ca_bundle,
    )


@pytest.fixture
def scenario(request: pytest.FixtureRequest, certs: CertificateAuthority) -> Iterator[Scenario]:
    with start_fault(request.param, certs=certs) as running:
        yield running


@pytest.mark.timeout(20)
@pytest.mark.parametrize("scenario", sorted(FAULTS), indirect=True)
def test_fault_is_diagnosed_as_catalogued(scenario: Scenario) -> None:
    start = time.perf_counter()
    report = probe(config_for(scenario))
    took = time.perf_counter() - start
    expected = scenario.fault.expected
    failed = report.failed_stage
    if expected is None:
        assert failed is None, f"{scenario.fault.name}: {failed}"
        assert all(s.status is StageStatus.OK for s in report.stages)
    else:
        assert failed is not None and failed.error is not None, scenario.fault.name
        assert (failed.name, failed.error.kind) == expected, failed.error.message
        if failed.error.kind is ErrorKind.TIMEOUT:
            # The stage's own classified timeout, with its evidence, before the supervisor's.
            assert "stage cancelled" not in failed.error.message, failed.error.message
            assert failed.duration_ms is not None
            assert failed.duration_ms < (failed.timeout_s + SUPERVISION_MARGIN) * 1000
        after = report.stages[report.stages.index(failed) + 1:]
        assert all(s.status is StageStatus.SKIPPED for s in after)
    assert took < FAST.total + GRACE
    if scenario.server is not None:
        assert scenario.server.errors == []


def test_healthy_details(certs: CertificateAuthority) -> None:
    with start_fault("healthy", certs=certs) as scenario:
        report = probe(config_for(scenario))
        assert scenario.server is not None
        seen = scenario.server.requests
    tls = report.stage(StageName.TLS)
    assert tls is not None
    assert tls.details["version"] in ("TLSv1.2", "TLSv1.3")
    assert tls.details["alpn"] == "http/1.1"
    assert tls.details["sni"] == "stream.binance.com"
    cert = tls.details["certificate"]
    assert "stream.binance.com" in cert["sans"] and cert["days_left"] > 0
    upgrade = report.stage(StageName.WS_UPGRADE)
    assert upgrade is not None and upgrade.details["status"] == 101
    message = report.stage(StageName.FIRST_MESSAGE)
    assert message is not None
    first = message.details["streams"]["btcusdt@aggTrade"]
    assert 0 <= first["latency_ms"] < 1000
    assert abs(first["event_time_lag_ms"]) < 1000
    assert [r.path for r in seen] == ["/ws/btcusdt@aggTrade"]
    assert seen[0].header("User-Agent") == "binance-diag"
    for result in report.stages:
        assert result.duration_ms is not None and result.duration_ms < 1000


def test_combined_stream_reports_each_symbol(certs: CertificateAuthority) -> None:
    with start_fault("healthy", certs=certs) as scenario:
        report = probe(config_for(scenario, ("BTCUSDT", "ETHUSDT", "BNBUSDT")))
        assert scenario.server is not None
        assert scenario.server.requests[0].path == (
            "/stream?streams=btcusdt@aggTrade/ethusdt@aggTrade/bnbusdt@aggTrade")
    message = report.stage(StageName.FIRST_MESSAGE)
    assert message is not None and message.status is StageStatus.OK
    assert set(message.details["streams"]) == {
        "btcusdt@aggTrade", "ethusdt@aggTrade", "bnbusdt@aggTrade"}


def test_silent_stream_tells_a_live_link_from_a_dead_one(certs: CertificateAuthority) -> None:
    with start_fault("silent-stream", certs=certs) as scenario:
        report = probe(config_for(scenario))
        assert scenario.server is not None
        asked = scenario.server.client_messages
    message = report.stage(StageName.FIRST_MESSAGE)
    assert message is not None and message.error is not None
    assert message.error.extra["link_alive"] is True
    assert message.details["list_subscriptions"]["result"] == ["btcusdt@aggTrade"]
    assert any("LIST_SUBSCRIPTIONS" in text for text in asked)


def test_trickling_peer_cannot_stretch_the_upgrade(certs: CertificateAuthority) -> None:
    from binance_diag.simulate.server import ServerOptions

    budget = 600 * MS
    with start_fault("trickle", certs=certs,
                     options=ServerOptions(trickle_interval=100 * MS)) as scenario:
        config = config_for(scenario)
        from dataclasses import replace

        config = replace(config, timeouts=replace(FAST, ws_upgrade=budget))
        report = probe(config)
    upgrade = report.stage(StageName.WS_UPGRADE)
    assert upgrade is not None and upgrade.error is not None
    assert upgrade.error.kind.value == "timeout"
    assert upgrade.error.extra["bytes_received"] >= 3  # bytes did come, slowly
    assert upgrade.duration_ms is not None
    assert budget * 1000 <= upgrade.duration_ms < budget * 1000 + 100


@pytest.mark.parametrize(("fault", "code"), [("close-1008", 1008), ("close-1011", 1011)])
def test_close_code_and_reason_are_kept(certs: CertificateAuthority, fault: str,
                                        code: int) -> None:
    with start_fault(fault, certs=certs) as scenario:
        report = probe(config_for(scenario))
    failed = report.failed_stage
    assert failed is not None and failed.error is not None
    assert failed.error.extra["code"] == code
    assert failed.error.extra["reason"]


def test_untrusted_certificate_names_the_presented_issuer(certs: CertificateAuthority) -> None:
    with start_fault("tls-untrusted", certs=certs) as scenario:
        report = probe(config_for(scenario))
    failed = report.failed_stage
    assert failed is not None and failed.error is not None
    presented = failed.error.extra["presented"]
    assert "stream.binance.com" in presented["sans"]
    assert presented["issuer"] in failed.error.message


def test_http_451_keeps_binance_body(certs: CertificateAuthority) -> None:
    with start_fault("http-451", certs=certs) as scenario:
        report = probe(config_for(scenario))
    failed = report.failed_stage
    assert failed is not None and failed.error is not None
    assert failed.error.extra["status"] == 451
    assert "restricted location" in failed.error.extra["body_excerpt"]


def test_429_keeps_retry_after(certs: CertificateAuthority) -> None:
    with start_fault("http-429", certs=certs) as scenario:
        report = probe(config_for(scenario))
    failed = report.failed_stage
    assert failed is not None and failed.error is not None
    assert failed.error.extra["retry_after"] == "60"


def test_through_dns_server_scenario(certs: CertificateAuthority) -> None:
    with start_fault("healthy", certs=certs, dns=True) as scenario:
        report = probe(config_for(scenario))
    assert report.failed_stage is None
    dns = report.stage(StageName.DNS)
    assert dns is not None and dns.details["addresses"] == ["127.0.0.1"]


def test_duration_measures_rate_gaps_and_pings(certs: CertificateAuthority) -> None:
    from dataclasses import replace

    from binance_diag.simulate.server import ServerOptions

    options = ServerOptions(ping_interval=100 * MS, interval=50 * MS)
    with start_fault("ping-timeout", certs=certs, options=options) as scenario:
        config = replace(config_for(scenario), hold=800 * MS)
        report = probe(config)
    message = report.stage(StageName.FIRST_MESSAGE)
    assert message is not None and message.status is StageStatus.OK
    hold = message.details["hold"]
    assert hold["closed"] is None  # we answered every ping, so the server kept us
    assert hold["pings_seen"] >= 4
    assert hold["pongs_sent"] == hold["pings_seen"]
    assert 50 * MS <= hold["ping_interval_s"] < 200 * MS
    assert hold["messages"] >= 5
    assert hold["largest_gap_ms"] < 300
    assert 0 < hold["median_gap_ms"] <= hold["largest_gap_ms"]


def test_duration_sees_a_stall(certs: CertificateAuthority) -> None:
    from dataclasses import replace

    from binance_diag.simulate.server import ServerOptions

    options = ServerOptions(message_count=2, interval=50 * MS)
    with start_fault("stall-after", certs=certs, options=options) as scenario:
        report = probe(replace(config_for(scenario), hold=600 * MS))
    message = report.stage(StageName.FIRST_MESSAGE)
    assert message is not None
    hold = message.details["hold"]
    assert hold["messages"] == 1  # the second of two; the first was the stage's
    assert hold["largest_gap_ms"] >= 450


def test_a_stall_while_holding_is_diagnosed(certs: CertificateAuthority) -> None:
    from dataclasses import replace

    from binance_diag.diagnose import diagnose_report
    from binance_diag.simulate.server import ServerOptions

    options = ServerOptions(message_count=2, interval=50 * MS)
    with start_fault("stall-after", certs=certs, options=options) as scenario:
        report = diagnose_report(probe(replace(config_for(scenario), hold=5600 * MS)))
    assert "hold.stalled" in [finding.id for finding in report.findings]
    assert any(line.startswith("Held open, the stream then went silent for")
               for line in report.analysis)


def test_a_close_while_holding_is_diagnosed(certs: CertificateAuthority) -> None:
    from dataclasses import replace

    from binance_diag.diagnose import diagnose_report
    from binance_diag.simulate.server import ServerOptions

    options = ServerOptions(shutdown_after=3, interval=50 * MS)
    with start_fault("server-shutdown", certs=certs, options=options) as scenario:
        report = diagnose_report(probe(replace(config_for(scenario), hold=1000 * MS)))
    message = report.stage(StageName.FIRST_MESSAGE)
    assert message is not None and message.status is StageStatus.OK
    hold = message.details["hold"]
    assert hold["messages"] == 2 and hold["other_messages"] == 1  # the serverShutdown event
    assert hold["closed"] == {"code": 1001, "reason": "server shutdown"}
    assert hold["server_shutdown"] is True
    top = report.findings[0]
    assert top.id == "hold.closed"
    assert "after Binance's `serverShutdown` notice" in top.hypothesis
    assert any(line.startswith("Held open, the stream was then closed after")
               for line in report.analysis)
    from binance_diag.render.view import report_view

    assert report_view(report).not_working == (f"Holding the stream: {top.title}",)


def test_a_message_after_the_deadline_is_a_timeout(certs: CertificateAuthority) -> None:
    from dataclasses import replace

    from binance_diag.diagnose import diagnose_report
    from binance_diag.simulate.server import ServerOptions

    # Budgets around the 200 ms delay: whichever side of the edge each run lands on, a
    # stage that took longer than its budget never passes.
    delay = 200 * MS
    with start_fault("slow-first-message", certs=certs,
                     options=ServerOptions(delay=delay)) as scenario:
        for budget in (delay - 5 * MS, delay - 1 * MS, delay, delay + 1 * MS):
            config = replace(config_for(scenario),
                             timeouts=replace(FAST, first_message=budget))
            report = diagnose_report(probe(config))
            message = report.stage(StageName.FIRST_MESSAGE)
            assert message is not None and message.duration_ms is not None
            if message.duration_ms > budget * 1000:
                assert message.status is StageStatus.TIMEOUT, (budget, message)
            if message.error is not None and "completed_late_ms" in message.error.extra:
                # The answer came: not blamed on silence.
                assert report.findings[0].id == "stage.completed_late"
        # Far enough from the edge, it passes.
        config = replace(config_for(scenario), timeouts=replace(FAST, first_message=delay * 3))
        message = probe(config).stage(StageName.FIRST_MESSAGE)
        assert message is not None and message.status is StageStatus.OK


def test_a_shutdown_notice_is_reported_with_the_close_that_follows(
        certs: CertificateAuthority) -> None:
    from binance_diag.diagnose import diagnose_report

    with start_fault("server-shutdown", certs=certs) as scenario:
        report = diagnose_report(probe(config_for(scenario)))
    message = report.stage(StageName.FIRST_MESSAGE)
    assert message is not None and message.error is not None
    assert message.error.kind is ErrorKind.CLOSED
    assert dict(message.error.extra) == {"code": 1001, "reason": "server shutdown",
                                         "event": "serverShutdown"}
    assert message.error.message.endswith("then closed with 1001 'server shutdown'")
    assert report.findings[0].id == "message.server_shutdown"


def test_an_ip_endpoint_sends_no_sni_and_is_not_blamed_on_sni_filtering(
        certs: CertificateAuthority) -> None:
    from dataclasses import replace

    from binance_diag.diagnose import diagnose_report

    with start_fault("tls-hang", certs=certs) as scenario:
        config = make_config(f"wss://127.0.0.1:{scenario.port}", ca_bundle=scenario.ca_bundle,
                             timeouts=replace(FAST, tls=300 * MS))
        report = diagnose_report(probe(config))
    tls = report.stage(StageName.TLS)
    assert tls is not None and tls.status is StageStatus.TIMEOUT
    assert tls.details["sni"] is None
    assert report.findings[0].id == "tls.silent_without_sni"
    assert any("no SNI" in event.event for event in report.timeline)
