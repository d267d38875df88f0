"""The ws_upgrade stage (probe/upgrade.py), called directly over a real connection to the
simulator: the 101 recorded, a refusal kept with its status and body, a silent or trickling
server bounded by the stage budget."""

from __future__ import annotations

import time
from dataclasses import replace

from binance_diag.model import ErrorKind, StageName, StageStatus
from binance_diag.probe.dns import resolve_addresses
from binance_diag.probe.tcp import connect_tcp
from binance_diag.probe.upgrade import upgrade_websocket
from binance_diag.simulate.certs import CertificateAuthority
from binance_diag.simulate.scenario import start_fault
from binance_diag.simulate.server import ServerOptions
from binance_diag.timing import format_seconds
from tests.probe.helpers import FAST, config_for, probe, run_stages
from tests.utils import MS

TO_UPGRADE = (resolve_addresses, connect_tcp, upgrade_websocket)
"""Plain ws:// peers: no TLS stage in the way."""


def test_a_101_is_recorded_with_the_request_that_got_it() -> None:
    before = time.perf_counter()
    with start_fault("healthy", tls=False) as scenario:
        chain = run_stages(config_for(scenario), TO_UPGRADE)
        assert scenario.server is not None
        (request,) = scenario.server.requests
    upgrade = chain.last
    assert upgrade.status is StageStatus.OK, upgrade.error
    assert upgrade.details["status"] == 101
    assert upgrade.details["path"] == request.path == "/ws/btcusdt@aggTrade"
    assert upgrade.details["user_agent"] == request.header("User-Agent") == "binance-diag"
    headers = {name.lower(): value for name, value in upgrade.details["headers"].items()}
    assert headers["upgrade"].lower() == "websocket"
    assert "body_excerpt" not in upgrade.details
    assert chain.state.upgraded_at is not None and chain.state.upgraded_at > before
    assert chain.events[-2:] == ["HTTP upgrade request sent: GET /ws/btcusdt@aggTrade",
                                 "HTTP 101 Switching Protocols"]


def test_a_refusal_keeps_status_headers_and_body() -> None:
    with start_fault("http-403", tls=False) as scenario:
        chain = run_stages(config_for(scenario), TO_UPGRADE)
    upgrade = chain.last
    assert upgrade.error is not None and upgrade.error.kind is ErrorKind.HTTP_STATUS
    assert upgrade.details["status"] == 403 and upgrade.details["body_excerpt"]
    assert chain.state.upgraded_at is None
    assert chain.events[-1].startswith("upgrade refused: ")


def test_a_bad_accept_header_is_an_invalid_handshake() -> None:
    with start_fault("bad-accept", tls=False) as scenario:
        chain = run_stages(config_for(scenario), TO_UPGRADE)
    assert chain.last.error is not None
    assert chain.last.error.kind is ErrorKind.INVALID_HANDSHAKE
    assert chain.last.details["status"] == 101


def test_an_unanswered_request_times_out_on_the_stage_budget() -> None:
    budget = 300 * MS
    with start_fault("upgrade-hang", tls=False) as scenario:
        config = replace(config_for(scenario), timeouts=replace(FAST, ws_upgrade=budget))
        started = time.perf_counter()
        chain = run_stages(config, TO_UPGRADE)
        took = time.perf_counter() - started
    upgrade = chain.last
    assert upgrade.status is StageStatus.TIMEOUT and upgrade.error is not None
    assert upgrade.error.message == f"no HTTP response in {format_seconds(budget)}"
    assert upgrade.details["bytes_received"] == 0
    assert chain.events[-1] == "upgrade timeout fired"
    assert budget <= took < budget + 500 * MS


def test_a_trickled_response_says_how_much_came() -> None:
    budget = 300 * MS
    options = ServerOptions(trickle_interval=50 * MS)
    with start_fault("trickle", tls=False, options=options) as scenario:
        config = replace(config_for(scenario), timeouts=replace(FAST, ws_upgrade=budget))
        chain = run_stages(config, TO_UPGRADE)
    upgrade = chain.last
    assert upgrade.error is not None and upgrade.error.kind is ErrorKind.TIMEOUT
    got = upgrade.details["bytes_received"]
    assert got >= 2
    assert upgrade.error.message == (
        f"response incomplete after {format_seconds(budget)} ({got} bytes received)")


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
