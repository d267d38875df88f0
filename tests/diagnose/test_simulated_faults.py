"""End to end: the real probe against every simulated fault, then the diagnosis.

Loopback only: the simulator binds 127.0.0.1, and the Binance host names reach it through
`--resolve` or the simulator's own DNS server.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from binance_diag.diagnose import diagnose_report
from binance_diag.render.markdown import render_markdown
from binance_diag.simulate.certs import CertificateAuthority
from binance_diag.simulate.faults import FAULTS
from binance_diag.simulate.proxy_server import HttpConnectProxy
from binance_diag.simulate.scenario import Scenario, start_fault
from binance_diag.simulate.tcp import RefusingPort
from tests.probe.helpers import make_config, probe
from tests.schema_check import validated_json

EXPECTED = {
    "healthy": "probe.healthy",
    "dns-nxdomain": "dns.blocked_nxdomain",
    "dns-timeout": "dns.timeout",
    "dns-servfail": "dns.servfail",
    "dns-refused": "dns.refused",
    "tcp-refused": "tcp.refused",
    "tcp-blackhole": "tcp.timeout",
    "tls-hang": "tls.handshake_timeout",
    "tls-reset-after-hello": "tls.reset_after_hello",
    "tls-eof": "tls.closed_after_hello",
    "tls-untrusted": "tls.interception",
    "tls-expired": "tls.cert_expired",
    "tls-not-yet-valid": "tls.cert_not_yet_valid",
    "tls-wrong-host": "tls.hostname_mismatch",
    "path-mtu-blackhole": "tls.handshake_timeout",
    "sni-filter": "tls.handshake_timeout",
    "sni-reset": "tls.reset_after_hello",
    "proxy-dead-tunnel": "tls.handshake_timeout",
    "http-403-filter": "upgrade.forbidden",
    "http-403-location": "upgrade.forbidden",
    "http-503-maintenance": "upgrade.server_error",
    "http-451": "upgrade.restricted_location",
    "http-403": "upgrade.forbidden",
    "http-429": "upgrade.rate_limited",
    "http-418": "upgrade.ip_banned",
    "http-503": "upgrade.server_error",
    "captive-portal": "upgrade.captive_portal",
    "bad-accept": "upgrade.bad_accept",
    "http-1.0": "upgrade.protocol_violation",
    "unsolicited-extension": "upgrade.protocol_violation",
    "header-flood": "upgrade.protocol_violation",
    "endless-header": "upgrade.protocol_violation",
    "upgrade-hang": "upgrade.no_response",
    "trickle": "upgrade.stalled_response",
    "silent-stream": "message.silent_stream",
    "close-1008": "message.closed_policy",
    "close-1011": "message.closed_server_error",
    "wrong-payload": "message.wrong_stream",
    "invalid-payload": "message.invalid_payload",
    "nested-payload": "message.invalid_payload",
    "fragmented": "probe.healthy",
    "bad-close-code": "message.protocol_violation",
    "oversized-frame": "message.protocol_violation",
    "ping-flood": "message.silent_stream",
    "stale-reply": "message.link_stalled",
    "deaf-peer": "probe.healthy",
    "slow-first-message": "probe.healthy",
    "server-shutdown": "message.server_shutdown",
    "stall-after": "probe.healthy",
    "ping-timeout": "probe.healthy",
    "reply-flood": "message.link_stalled",
    "nested-reply": "message.invalid_payload",
    "event-flood": "probe.healthy",
    "fragment-flood": "message.protocol_violation",
    "surrogate-payload": "message.wrong_stream",
    "control-close": "message.closed_policy",
    "control-reason": "upgrade.forbidden",
    "clock-skew": "message.clock_skew",
    "late-delivery": "message.clock_skew",
}
"""The root cause a probe without experiments names for each fault a probe can see; the
faults the catalogue marks `for_watch` strike after the first message, so a probe passes
them (`expected_finding`)."""


def expected_finding(name: str) -> str:
    """The top finding of a probe (experiments off) against fault `name`."""
    return "probe.healthy" if FAULTS[name].for_watch else EXPECTED[name]


@pytest.fixture(scope="module")
def certs() -> CertificateAuthority:
    return CertificateAuthority()


@pytest.fixture
def scenario(request: pytest.FixtureRequest, certs: CertificateAuthority) -> Iterator[Scenario]:
    with start_fault(request.param, certs=certs) as running:
        yield running


def test_every_fault_has_an_expected_diagnosis() -> None:
    assert sorted(EXPECTED) == sorted(name for name, f in FAULTS.items() if not f.for_watch)


def test_a_fault_for_watch_is_one_a_probe_passes() -> None:
    watched = [fault for fault in FAULTS.values() if fault.for_watch]
    assert watched and all(fault.expected is None and not fault.confirmed for fault in watched)


@pytest.mark.timeout(20)
@pytest.mark.parametrize("scenario", sorted(FAULTS), indirect=True)
def test_fault_gets_the_right_root_cause(scenario: Scenario) -> None:
    config = make_config(scenario.url_base, resolve=scenario.resolve,
                         resolvers=scenario.nameservers, ca_bundle=scenario.ca_bundle,
                         proxy=scenario.proxy_url)
    report = diagnose_report(probe(config))
    validated_json(report)
    top = report.findings[0]
    assert top.id == expected_finding(scenario.fault.name), [f.id for f in report.findings]
    assert top.actions and report.analysis


HOST = "stream.binance.com"


@pytest.mark.timeout(20)
def test_healthy_through_a_proxy(certs: CertificateAuthority) -> None:
    with start_fault("healthy", certs=certs) as scenario, HttpConnectProxy(
            hosts={HOST: "127.0.0.1"}) as proxy:
        report = diagnose_report(probe(make_config(
            scenario.url_base, ca_bundle=scenario.ca_bundle, proxy=proxy.url)))
    assert [f.id for f in report.findings] == ["probe.healthy"]
    markdown = render_markdown(report)
    assert f"- Proxy: tunnel to `{HOST}:{scenario.port}` through `{proxy.url}`" in markdown
    assert "- DNS: not used (the http proxy resolves stream.binance.com)" in markdown


@pytest.mark.timeout(20)
def test_proxy_failures() -> None:
    with HttpConnectProxy(username="alice", password="s3cret") as proxy:
        anonymous = proxy.url.replace("alice:s3cret@", "")
        auth = diagnose_report(probe(make_config(f"wss://{HOST}:9443", proxy=anonymous)))
    with HttpConnectProxy() as proxy:  # no hosts table: it refuses to leave loopback
        acl = diagnose_report(probe(make_config(f"wss://{HOST}:9443", proxy=proxy.url)))
    with RefusingPort() as closed:
        down = diagnose_report(probe(make_config(
            f"wss://{HOST}:9443", proxy=f"http://127.0.0.1:{closed.port}")))
    assert auth.findings[0].id == "proxy.auth_required"
    assert acl.findings[0].id == "proxy.rejected"
    assert any("--endpoint spot-443" in a for a in acl.findings[0].actions)
    assert down.findings[0].id == "proxy.refused"
