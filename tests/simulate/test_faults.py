"""The catalogue is a contract: every fault runs, and yields the outcome it promises."""

from __future__ import annotations

import pytest

from binance_diag.model import ErrorKind, StageName
from binance_diag.simulate.certs import CertificateAuthority
from binance_diag.simulate.dns_server import DnsMode
from binance_diag.simulate.faults import FAULTS, get_fault
from binance_diag.simulate.scenario import start_fault
from binance_diag.simulate.server import ServerOptions
from tests.simulate.observe import observe
from tests.utils import MS

CATALOGUE = [
    "healthy",
    "dns-nxdomain", "dns-timeout", "dns-servfail", "dns-refused",
    "tcp-refused", "tcp-blackhole",
    "tls-hang", "tls-reset-after-hello", "tls-eof", "tls-untrusted", "tls-expired",
    "tls-not-yet-valid", "tls-wrong-host",
    "path-mtu-blackhole", "sni-filter", "sni-reset", "proxy-dead-tunnel",
    "http-451", "http-403", "http-429", "http-418", "http-503",
    "http-403-filter", "http-403-location", "http-503-maintenance", "captive-portal",
    "bad-accept", "http-1.0", "unsolicited-extension", "header-flood", "endless-header",
    "upgrade-hang", "trickle",
    "silent-stream", "close-1008", "close-1011", "wrong-payload", "invalid-payload",
    "nested-payload", "fragmented", "bad-close-code", "oversized-frame", "ping-flood",
    "stale-reply", "reply-flood", "nested-reply", "event-flood", "fragment-flood",
    "surrogate-payload", "control-close", "control-reason", "deaf-peer",
    "slow-first-message", "server-shutdown", "stall-after", "ping-timeout",
    "clock-skew", "late-delivery",
    "stall-held", "stall-all", "market-quiet", "pong-lost", "maintenance", "daily-disconnect",
]  # fmt: skip
STAGE_TIMEOUT = 300 * MS
MESSAGE_TIMEOUT = 800 * MS
OPTIONS = ServerOptions(delay=200 * MS)
"""slow-first-message's delay inside the message timeout, as its note requires."""


def test_names_are_the_cli_catalogue() -> None:
    assert list(FAULTS) == CATALOGUE


def test_entries_are_consistent() -> None:
    for fault in FAULTS.values():
        assert (fault.stage is None) == (fault.error is None), fault.name
        assert fault.description and len(fault.description) < 90, fault.name
        assert (fault.peer == "dns") == (fault.stage is StageName.DNS), fault.name
        if fault.peer == "dns":
            assert fault.dns_mode is not None and DnsMode(fault.dns_mode)
        assert fault.requires_tls == (fault.stage is StageName.TLS), fault.name
    assert get_fault("tls-hang").expected == (StageName.TLS, ErrorKind.TIMEOUT)
    assert get_fault("healthy").expected is None
    with pytest.raises(KeyError, match="known: healthy"):
        get_fault("tls-nope")


@pytest.mark.timeout(10)
@pytest.mark.parametrize("name", CATALOGUE)
def test_fault_gives_its_expected_outcome(name: str, certs: CertificateAuthority) -> None:
    with start_fault(name, certs=certs, options=OPTIONS) as scenario:
        outcome = observe(scenario, stage_timeout=STAGE_TIMEOUT, message_timeout=MESSAGE_TIMEOUT)
        if scenario.server is not None:
            assert scenario.server.errors == []
    assert outcome == FAULTS[name].expected


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    "name", ["healthy", "tls-hang", "http-451", "silent-stream", "close-1008", "wrong-payload"]
)
def test_outcome_is_the_same_over_plain_ws_and_through_dns(
    name: str, certs: CertificateAuthority
) -> None:
    expected = FAULTS[name].expected
    if FAULTS[name].requires_tls:
        with pytest.raises(ValueError, match="needs tls=True"):
            start_fault(name, tls=False).__enter__()
    else:
        with start_fault(name, tls=False) as plain:
            assert plain.ca_bundle is None
            assert observe(plain, stage_timeout=STAGE_TIMEOUT, message_timeout=MESSAGE_TIMEOUT) \
                == expected
    with start_fault(name, dns=True, certs=certs) as resolved:
        assert observe(resolved, stage_timeout=STAGE_TIMEOUT, message_timeout=MESSAGE_TIMEOUT) \
            == expected
        assert resolved.dns is not None and resolved.dns.query_count == 1


@pytest.mark.timeout(10)
def test_slow_first_message_times_out_a_shorter_budget(certs: CertificateAuthority) -> None:
    with start_fault("slow-first-message", certs=certs, options=OPTIONS) as scenario:
        outcome = observe(scenario, stage_timeout=STAGE_TIMEOUT, message_timeout=100 * MS)
    assert outcome == (StageName.FIRST_MESSAGE, ErrorKind.TIMEOUT)


def test_several_symbols_use_a_combined_stream(certs: CertificateAuthority) -> None:
    with start_fault("healthy", certs=certs) as scenario:
        outcome = observe(scenario, ("BTCUSDT", "ETHUSDT"), stage_timeout=1, message_timeout=1)
        assert scenario.server is not None
        assert scenario.server.requests[0].path.startswith("/stream?streams=btcusdt@aggTrade/")
    assert outcome is None
