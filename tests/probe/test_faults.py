"""The real probe against every catalogued fault of the simulator (one catalogue for all).

Each fault must be diagnosed at the stage and with the error kind the catalogue promises, and
the run must end within its budget whatever the peer does.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from binance_diag.model import ErrorKind, StageName, StageStatus
from binance_diag.probe.budget import SUPERVISION_MARGIN
from binance_diag.simulate.certs import CertificateAuthority
from binance_diag.simulate.faults import FAULTS
from binance_diag.simulate.scenario import Scenario, start_fault
from tests.probe.helpers import FAST, config_for, make_config, probe
from tests.utils import MS

GRACE = 0.5


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
            # A busy machine may run the loop late; the supervisor's margin is the claim.
            assert failed.duration_ms < (failed.timeout_s + SUPERVISION_MARGIN + 150 * MS) * 1000
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


def test_through_dns_server_scenario(certs: CertificateAuthority) -> None:
    with start_fault("healthy", certs=certs, dns=True) as scenario:
        report = probe(config_for(scenario))
    assert report.failed_stage is None
    dns = report.stage(StageName.DNS)
    assert dns is not None and dns.details["addresses"] == ["127.0.0.1"]


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
