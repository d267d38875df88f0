"""The first_message stage (probe/message.py), called directly after a real upgrade on the
simulator: the first event per stream with its latency, and silence, closes and wrong
payloads each told apart."""

from __future__ import annotations

from dataclasses import replace

import pytest

from binance_diag.model import ErrorKind, StageName, StageStatus
from binance_diag.probe.dns import resolve_addresses
from binance_diag.probe.message import receive_first_message
from binance_diag.probe.tcp import connect_tcp
from binance_diag.probe.upgrade import upgrade_websocket
from binance_diag.simulate.certs import CertificateAuthority
from binance_diag.simulate.scenario import start_fault
from tests.probe.helpers import FAST, config_for, probe, run_stages
from tests.utils import MS

TO_MESSAGE = (resolve_addresses, connect_tcp, upgrade_websocket, receive_first_message)


def test_the_first_event_is_recorded_with_its_latency() -> None:
    with start_fault("healthy", tls=False) as scenario:
        chain = run_stages(config_for(scenario), TO_MESSAGE)
    message = chain.last
    assert message.status is StageStatus.OK, message.error
    first = message.details["streams"]["btcusdt@aggTrade"]
    assert 0 <= first["latency_ms"] < 1000 and first["event_time"] > 0
    assert first["price"] and first["quantity"]
    assert message.details["waiting_for"] == []
    assert message.details["list_subscriptions"] == {"sent": False, "answered": False}
    assert chain.events[-1].startswith("first aggTrade for BTCUSDT after ")


@pytest.mark.parametrize(
    ("fault", "kind"),
    [("wrong-payload", ErrorKind.WRONG_STREAM), ("invalid-payload", ErrorKind.INVALID_PAYLOAD)],
)
def test_an_unexpected_first_message_is_classified(fault: str, kind: ErrorKind) -> None:
    with start_fault(fault, tls=False) as scenario:
        chain = run_stages(config_for(scenario), TO_MESSAGE)
    message = chain.last
    assert message.error is not None and message.error.kind is kind
    assert message.details["waiting_for"] == ["BTCUSDT"]
    assert chain.events[-1].startswith("unexpected first message: ")


def test_silence_sends_list_subscriptions_halfway_and_says_the_link_is_alive() -> None:
    budget = 400 * MS
    with start_fault("silent-stream", tls=False) as scenario:
        config = replace(config_for(scenario), timeouts=replace(FAST, first_message=budget))
        chain = run_stages(config, TO_MESSAGE)
    message = chain.last
    assert message.status is StageStatus.TIMEOUT and message.error is not None
    assert message.error.extra == {"missing": ["BTCUSDT"], "link_alive": True}
    assert message.error.message.endswith(
        "; the link is alive (LIST_SUBSCRIPTIONS answered ['btcusdt@aggTrade'])")
    assert "no data yet: LIST_SUBSCRIPTIONS sent" in chain.events
    assert chain.events[-1] == "first-message timeout fired"


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


@pytest.mark.parametrize(("fault", "code"), [("close-1008", 1008), ("close-1011", 1011)])
def test_close_code_and_reason_are_kept(certs: CertificateAuthority, fault: str,
                                        code: int) -> None:
    with start_fault(fault, certs=certs) as scenario:
        report = probe(config_for(scenario))
    failed = report.failed_stage
    assert failed is not None and failed.error is not None
    assert failed.error.extra["code"] == code
    assert failed.error.extra["reason"]


@pytest.mark.parametrize("fault", ["ping-flood", "stale-reply"])
def test_list_subscriptions_is_sent_halfway_and_only_its_own_answer_counts(fault: str) -> None:
    """A ping flood must not postpone the check; a reply to nothing we sent is no answer."""
    with start_fault(fault, tls=False) as scenario:
        chain = run_stages(config_for(scenario), TO_MESSAGE)
    message = chain.last
    assert message.error is not None and message.error.kind is ErrorKind.TIMEOUT
    probe_ = message.details["list_subscriptions"]
    assert probe_["sent"] is True
    assert probe_["answered"] is (fault == "ping-flood")
    assert message.error.extra["link_alive"] is (fault == "ping-flood")
    if fault == "stale-reply":
        assert probe_["unsolicited_replies"] == 1
        assert "LIST_SUBSCRIPTIONS answered" not in message.error.message


@pytest.mark.parametrize(("fault", "code"), [("bad-close-code", 1002),
                                             ("oversized-frame", 1009)])
def test_a_protocol_violation_is_the_peers_not_an_internal_error(fault: str, code: int) -> None:
    with start_fault(fault, tls=False) as scenario:
        chain = run_stages(config_for(scenario), TO_MESSAGE)
    message = chain.last
    assert message.error is not None and message.error.kind is ErrorKind.PROTOCOL_ERROR
    assert message.error.extra["code"] == code
