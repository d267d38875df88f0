"""Every rule fires from measurements, and every error kind of every stage is explained."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from binance_diag.diagnose import RULES, RULES_BY_ID, diagnose, match_rules
from binance_diag.diagnose.rule import Scope
from binance_diag.model import (
    Blockage,
    ErrorKind,
    LoopStats,
    ProbeReport,
    StageName,
    Thresholds,
)
from tests.reports import AT, CERTIFICATE, make_report

DNS, PROXY, TCP, TLS = StageName.DNS, StageName.PROXY, StageName.TCP, StageName.TLS
UPGRADE, MESSAGE = StageName.WS_UPGRADE, StageName.FIRST_MESSAGE
K = ErrorKind
LOCAL = "ws://127.0.0.1:9"


def blockage(stage: StageName | None, ms: float = 2300.0) -> Blockage:
    return Blockage(AT + timedelta(milliseconds=120), ms, stage,
                    ("/srv/bot/feed.py:42 in on_tick", "/srv/bot/model.py:88 in refit"))


def http(status: int, reason: str, **extra: Any) -> ProbeReport:
    return make_report(fail=UPGRADE, kind=K.HTTP_STATUS, message=f"HTTP {status} {reason}",
                       extra={"status": status, "reason": reason, **extra},
                       details={"status": status, "reason": reason,
                                "headers": {"server": "CloudFront", "x-amz-cf-pop": "NRT57-C1",
                                            **({"retry-after": extra["retry_after"]}
                                               if "retry_after" in extra else {})}})


def tls(kind: ErrorKind, received: int | None = None, **extra: Any) -> ProbeReport:
    evidence = {} if received is None else {"bytes_received": received}
    return make_report(fail=TLS, kind=kind, message=f"tls {kind.value}",
                       extra={**evidence, **extra}, details=evidence)


def cert(kind: ErrorKind, endpoint: str = "spot", **presented: Any) -> ProbeReport:
    return make_report(endpoint=endpoint, fail=TLS, kind=kind,
                       message="certificate verification failed",
                       extra={"verify_code": 20, "verify_message": "unable to get local issuer",
                              "presented": {**CERTIFICATE, **presented}})


def silence(**probe: Any) -> ProbeReport:
    alive = bool(probe.get("answered"))
    return make_report(fail=MESSAGE, kind=K.TIMEOUT, message="no aggTrade message",
                       extra={"missing": ["BTCUSDT"], "link_alive": alive},
                       details={"list_subscriptions": {"sent": True, **probe}, "pings_seen": 1})


def closed(code: int | None, reason: str = "") -> ProbeReport:
    return make_report(fail=MESSAGE, kind=K.CLOSED, message=f"server closed the stream: {code}",
                       extra={"code": code, "reason": reason})


def dns_override(**dns: Any) -> Callable[[], ProbeReport]:
    return lambda: make_report(overrides={DNS: dns})


CASES: dict[str, Callable[[], ProbeReport]] = {
    "loop.deadline_enforced": lambda: make_report(
        fail=TLS, kind=K.TIMEOUT, durations={TLS: 5400.0},
        loop=LoopStats(4800.0, 2.0, (blockage(TLS, 4800.0),), True)),
    "loop.blocked_during_timeout": lambda: make_report(
        fail=TLS, kind=K.TIMEOUT, extra={"bytes_received": 0},
        loop=LoopStats(2300.0, 1.0, (blockage(TLS),))),
    "dns.hosts_file_blackhole": dns_override(
        hosts_file={"path": "/etc/hosts", "addresses": ["0.0.0.0"]}),
    "dns.private_address": lambda: make_report(
        overrides={DNS: {"addresses": ["10.10.34.35"], "answers": [
            {"type": "A", "address": "10.10.34.35", "ttl": 300}]}},
        fail=TCP, kind=K.TIMEOUT, extra={"address": "10.10.34.35", "port": 9443}),
    "dns.blocked_nxdomain": lambda: make_report(fail=DNS, kind=K.NXDOMAIN),
    "dns.nxdomain": lambda: make_report(endpoint="wss://streams.example.invalid", fail=DNS,
                                        kind=K.NXDOMAIN),
    "dns.no_answer": lambda: make_report(fail=DNS, kind=K.NO_ANSWER),
    "dns.timeout": lambda: make_report(fail=DNS, kind=K.TIMEOUT),
    "dns.servfail": lambda: make_report(fail=DNS, kind=K.SERVFAIL),
    "dns.refused": lambda: make_report(fail=DNS, kind=K.REFUSED),
    "dns.no_nameservers": lambda: make_report(fail=DNS, kind=K.NO_NAMESERVERS),
    "proxy.refused": lambda: make_report(proxy=True, fail=PROXY, kind=K.REFUSED),
    "proxy.timeout": lambda: make_report(proxy=True, fail=PROXY, kind=K.TIMEOUT),
    "proxy.auth_required": lambda: make_report(proxy=True, fail=PROXY, kind=K.AUTH_REQUIRED,
                                               extra={"status": 407}),
    "proxy.rejected": lambda: make_report(proxy=True, fail=PROXY, kind=K.REJECTED,
                                          extra={"status": 403, "reason": "Forbidden"}),
    "tcp.port_blocked": lambda: make_report(fail=TCP, kind=K.TIMEOUT, details={"attempts": [
        {"family": "IPv4", "address": "52.199.12.133", "port": 9443, "result": "timeout",
         "time_ms": 2500.0}]}),
    "tcp.refused": lambda: make_report(endpoint=LOCAL, fail=TCP, kind=K.REFUSED,
                                       extra={"address": "127.0.0.1", "port": 9}),
    "tcp.timeout": lambda: make_report(endpoint="spot-443", fail=TCP, kind=K.TIMEOUT),
    "tcp.unreachable": lambda: make_report(fail=TCP, kind=K.UNREACHABLE,
                                           extra={"address": "2600:9000::1", "port": 9443}),
    "tcp.reset": lambda: make_report(endpoint="spot-443", fail=TCP, kind=K.RESET),
    "tls.handshake_stalled": lambda: tls(K.TIMEOUT, 1448),
    "tls.handshake_timeout": lambda: tls(K.TIMEOUT, 0),
    "tls.reset_after_hello": lambda: tls(K.RESET, 0),
    "stage.completed_late": lambda: make_report(
        fail=TLS, kind=K.TIMEOUT, extra={"completed_late_ms": 1.5}),
    "tls.silent_without_sni": lambda: make_report(
        endpoint="wss://127.0.0.1:9443", fail=TLS, kind=K.TIMEOUT, extra={"bytes_received": 0},
        details={"sni": None, "bytes_received": 0}),
    "tls.reset": lambda: tls(K.RESET, 517),
    "tls.closed_after_hello": lambda: tls(K.EOF, 0),
    "tls.closed": lambda: tls(K.EOF, 1200),
    "tls.interception": lambda: cert(K.CERT_UNTRUSTED, issuer="CN=FortiGate CA,O=Fortinet"),
    "tls.cert_untrusted": lambda: cert(K.CERT_UNTRUSTED, endpoint="wss://127.0.0.1:8443",
                                       issuer="CN=127.0.0.1"),
    "tls.cert_expired": lambda: cert(K.CERT_EXPIRED),
    "tls.cert_not_yet_valid": lambda: cert(K.CERT_NOT_YET_VALID),
    "tls.hostname_mismatch": lambda: cert(K.HOSTNAME_MISMATCH, subject="CN=login.hotel.example",
                                          sans=["login.hotel.example"]),
    "tls.not_tls": lambda: tls(K.HANDSHAKE_FAILURE, reason="WRONG_VERSION_NUMBER"),
    "tls.handshake_failure": lambda: tls(K.HANDSHAKE_FAILURE,
                                         reason="SSLV3_ALERT_HANDSHAKE_FAILURE"),
    "upgrade.restricted_location": lambda: http(451, "Unavailable For Legal Reasons"),
    "upgrade.forbidden": lambda: http(403, "Forbidden", body_excerpt="<html>Request blocked"),
    "upgrade.ip_banned": lambda: http(418, "I'm a teapot", retry_after="7200"),
    "upgrade.rate_limited": lambda: http(429, "Too Many Requests", retry_after="120"),
    "upgrade.server_error": lambda: http(503, "Service Unavailable"),
    "upgrade.redirect": lambda: http(302, "Found"),
    "upgrade.bad_request": lambda: http(404, "Not Found"),
    "upgrade.http_status": lambda: http(407, "Proxy Authentication Required"),
    "upgrade.captive_portal": lambda: make_report(
        fail=UPGRADE, kind=K.NOT_WEBSOCKET, message="HTTP 200 OK: a page was served",
        extra={"status": 200, "reason": "OK", "body_excerpt": "<html><title>Guest Wi-Fi"}),
    "upgrade.not_websocket": lambda: make_report(
        fail=UPGRADE, kind=K.NOT_WEBSOCKET, message="invalid 101 response: missing Upgrade",
        extra={"status": 101}),
    "upgrade.bad_accept": lambda: make_report(
        fail=UPGRADE, kind=K.INVALID_HANDSHAKE,
        message="invalid 101 response: invalid Sec-WebSocket-Accept", extra={"status": 101}),
    "upgrade.not_http": lambda: make_report(
        fail=UPGRADE, kind=K.INVALID_HANDSHAKE, message="not a valid HTTP response",
        extra={"bytes_received": 12}),
    "upgrade.stalled_response": lambda: make_report(
        fail=UPGRADE, kind=K.TIMEOUT, message="response incomplete",
        extra={"bytes_received": 96, "status": 101}),
    "upgrade.no_response": lambda: make_report(
        fail=UPGRADE, kind=K.TIMEOUT, message="no HTTP response in 5.00 s",
        extra={"bytes_received": 0}),
    "upgrade.closed": lambda: make_report(fail=UPGRADE, kind=K.EOF,
                                          message="connection closed before a response"),
    "message.futures_path_missing": lambda: make_report(
        endpoint="wss://fstream.binance.com", fail=MESSAGE, kind=K.TIMEOUT,
        extra={"missing": ["BTCUSDT"], "link_alive": True}),
    "message.silent_stream": lambda: silence(answered=True, result=["btcusdt@aggTrade"]),
    "message.link_stalled": lambda: silence(answered=False),
    "message.closed_policy": lambda: closed(1008, "Too many requests"),
    "message.closed_server_error": lambda: closed(1011, "internal error"),
    "message.server_shutdown": lambda: closed(None, "serverShutdown"),
    "message.closed": lambda: closed(1000),
    "message.wrong_stream": lambda: make_report(
        fail=MESSAGE, kind=K.WRONG_STREAM,
        message="expected an event of type 'aggTrade', got 'trade'",
        extra={"event": "trade", "excerpt": '{"e":"trade","s":"BTCUSDT"}'}),
    "message.invalid_payload": lambda: make_report(
        fail=MESSAGE, kind=K.INVALID_PAYLOAD, message="first message is not JSON",
        extra={"excerpt": "<html>"}),
    "runtime.internal_error": lambda: make_report(
        fail=TLS, kind=K.INTERNAL, message="ValueError: boom", extra={"exception": "ValueError"}),
    "runtime.unclassified": lambda: make_report(fail=DNS, kind=K.HTTP_STATUS),
    "runtime.cancellation_ignored": lambda: make_report(
        fail=TLS, kind=K.TIMEOUT, durations={TLS: 5253.0},
        message="timed out after 5.00 s; cancellation ignored; abandoned at x.py:3 in f",
        extra={"cancellation_ignored": True, "abandoned_at": "x.py:3 in f"}),
    "threshold.critical": lambda: make_report(thresholds=Thresholds(crit={TLS: 50.0})),
    "runtime.timeout_late": lambda: make_report(fail=TLS, kind=K.TIMEOUT,
                                                durations={TLS: 7300.0}),
    "loop.blocked": lambda: make_report(loop=LoopStats(310.0, 1.2, (blockage(TCP, 310.0),))),
    "perf.slow_stage": lambda: make_report(durations={TLS: 2400.0}),
    "threshold.warning": lambda: make_report(thresholds=Thresholds(warn={TLS: 50.0})),
    "dns.partial_answer": dns_override(queries=[
        {"type": "A", "result": "ok", "time_ms": 20.0},
        {"type": "AAAA", "result": "timeout", "time_ms": 5000.0}]),
    "dns.hosts_file_override": dns_override(
        hosts_file={"path": "/etc/hosts", "addresses": ["52.199.12.200"]}),
    "tcp.family_fallback": lambda: make_report(overrides={TCP: {"attempts": [
        {"family": "IPv6", "address": "2600:9000::1", "port": 9443, "result": "unreachable",
         "time_ms": 0.1},
        {"family": "IPv4", "address": "52.199.12.133", "port": 9443, "result": "ok",
         "time_ms": 41.0}]}}),
    "tls.cert_expiring_soon": lambda: make_report(
        overrides={TLS: {"certificate": {**CERTIFICATE, "days_left": 5.2}}}),
    "message.clock_skew": lambda: make_report(overrides={MESSAGE: {"streams": {
        "btcusdt@aggTrade": {"latency_ms": 150.0, "event_time": 1767516120000,
                             "event_time_lag_ms": -3500.0}}}}),
    "dns.resolvers_disagree": dns_override(comparison={
        "answers": {"10.0.0.53 (system)": ["52.199.12.133"], "1.1.1.1": None},
        "results": {"10.0.0.53 (system)": "ok", "1.1.1.1": "nxdomain"},
        "notes": ["1.1.1.1 gave no answer (nxdomain)"], "unreachable": []}),
    "dns.compare_resolver_unreachable": dns_override(comparison={
        "answers": {"10.0.0.53 (system)": ["52.199.12.133"], "1.1.1.1": None},
        "results": {"10.0.0.53 (system)": "ok", "1.1.1.1": "timeout"},
        "notes": [], "unreachable": ["1.1.1.1"]}),
    "tcp.address_failed": lambda: make_report(overrides={TCP: {
        "connected_to": "52.199.12.133:9443", "connect_ms": 41.0, "attempts": [
            {"family": "IPv4", "address": "54.178.2.114", "port": 9443, "result": "pending",
             "time_ms": 82.0, "message": "54.178.2.114:9443 had not connected when "
                                         "52.199.12.133:9443 had: not awaited"},
            {"family": "IPv4", "address": "52.199.12.133", "port": 9443, "result": "ok",
             "time_ms": 41.0}]}}),
    "tcp.family_unavailable": lambda: make_report(
        fail=TCP, kind=K.UNREACHABLE, message="no IPv6 address among 52.199.12.133",
        details={"addresses": ["52.199.12.133"]}),
    "hold.closed": lambda: make_report(overrides={MESSAGE: {"hold": {
        "duration_s": 30.0, "messages": 412, "rate_per_s": 13.7, "largest_gap_ms": 900.0,
        "pings_seen": 1, "pongs_sent": 1, "closed": {"code": 1001, "reason": "going away"}}}}),
    "hold.stalled": lambda: make_report(overrides={MESSAGE: {"hold": {
        "duration_s": 60.0, "messages": 300, "rate_per_s": 5.0, "largest_gap_ms": 31000.0,
        "median_gap_ms": 100.0, "pings_seen": 3, "pongs_sent": 3, "closed": None}}}),
    "probe.healthy": lambda: make_report(),
}


def test_every_rule_has_a_case() -> None:
    assert sorted(CASES) == sorted(RULES_BY_ID)


@pytest.mark.parametrize("rule_id", list(CASES))
def test_rule_fires_from_measurements(rule_id: str) -> None:
    report = CASES[rule_id]()
    findings = {f.id: f for f in report.findings}
    assert rule_id in findings, [f.id for f in report.findings]
    finding = findings[rule_id]
    rule = RULES_BY_ID[rule_id]
    assert finding.blame is rule.blame
    texts = (finding.title, finding.hypothesis, *finding.evidence, *finding.actions)
    assert all("unknown" not in t.lower() for t in (finding.title, *finding.actions)), texts
    assert all("{" not in t for t in (finding.title, finding.hypothesis, *finding.actions))
    if rule.scope is Scope.FAILURE:
        failures = [m for m in match_rules(report) if m.rule.scope is Scope.FAILURE]
        assert [m.rule.id for m in failures] == [rule_id], "one failure rule per failure"
        assert finding.evidence, "a failure finding cites its evidence"
    assert finding.actions, "every finding says what to do"


STAGE_KINDS = {
    DNS: (K.NXDOMAIN, K.NO_ANSWER, K.TIMEOUT, K.SERVFAIL, K.REFUSED, K.NO_NAMESERVERS),
    PROXY: (K.REFUSED, K.TIMEOUT, K.AUTH_REQUIRED, K.REJECTED),
    TCP: (K.REFUSED, K.TIMEOUT, K.UNREACHABLE, K.RESET),
    TLS: (K.TIMEOUT, K.CERT_UNTRUSTED, K.CERT_EXPIRED, K.CERT_NOT_YET_VALID,
          K.HOSTNAME_MISMATCH, K.HANDSHAKE_FAILURE, K.RESET, K.EOF),
    UPGRADE: (K.TIMEOUT, K.HTTP_STATUS, K.NOT_WEBSOCKET, K.INVALID_HANDSHAKE, K.EOF, K.RESET),
    MESSAGE: (K.TIMEOUT, K.CLOSED, K.INVALID_PAYLOAD, K.WRONG_STREAM),
}
PREFIX = {DNS: "dns.", PROXY: "proxy.", TCP: "tcp.", TLS: "tls.", UPGRADE: "upgrade.",
          MESSAGE: "message."}


@pytest.mark.parametrize(("stage", "kind"), [(s, k) for s, kinds in STAGE_KINDS.items()
                                             for k in (*kinds, K.INTERNAL)])
@pytest.mark.parametrize("endpoint", ["spot", "wss://127.0.0.1:8443"])
def test_every_error_kind_of_every_stage_has_a_specific_rule(
        stage: StageName, kind: ErrorKind, endpoint: str) -> None:
    """Even with no evidence beyond the kind (e.g. a stage abandoned by the runner)."""
    report = make_report(endpoint=endpoint, proxy=stage is PROXY, fail=stage, kind=kind)
    top = report.findings[0]
    expected = "runtime.internal_error" if kind is K.INTERNAL else PREFIX[stage]
    assert top.id.startswith(expected), top.id
    assert top.severity.value == "critical"


def test_rule_table_is_well_formed() -> None:
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    for rule in RULES:
        assert rule.id.count(".") == 1 and rule.id == rule.id.lower()
        assert rule.meaning.endswith(".") or rule.meaning.endswith(")"), rule.id
        if rule.scope is Scope.FAILURE and rule.id != "runtime.unclassified":
            assert rule.analysis, f"{rule.id}: a failure rule says what it rules in and out"
    assert RULES[-1].id == "probe.healthy"


def test_healthy_report_has_only_the_info_finding() -> None:
    report = make_report()
    assert [f.id for f in report.findings] == ["probe.healthy"]
    assert report.status.value == "ok"


def test_findings_are_deterministic() -> None:
    assert diagnose(CASES["dns.private_address"]()) == diagnose(CASES["dns.private_address"]())


@pytest.mark.parametrize(("text", "server"), [
    ("127.0.0.1:5353", ("127.0.0.1", 5353)),
    ("[::1]:5353", ("::1", 5353)),
    ("10.0.0.53, 10.0.0.54 (system)", ("10.0.0.53", 53)),
    ("::1 (system)", ("::1", 53)),
    ("none (no system configuration)", None),
    ("", None),
])
def test_resolver_address(text: str, server: tuple[str, int] | None) -> None:
    from binance_diag.diagnose.rules.dns import resolver_address

    assert resolver_address(text) == server


def test_a_dns_timeout_names_the_resolver_port_and_a_dig_line() -> None:
    report = make_report(fail=DNS, kind=K.TIMEOUT, details={"resolver": "127.0.0.1:5353"})
    top = report.findings[0]
    assert top.id == "dns.timeout"
    assert "port 5353 is blocked" in top.hypothesis
    assert "Test the resolver directly: `dig stream.binance.com @127.0.0.1 -p 5353`" in \
        top.actions


def test_a_hostname_mismatch_title_names_the_certificate_names_not_its_dn() -> None:
    presented = {**CERTIFICATE, "subject": "CN=portal.example,O=Hotel", "sans": []}
    report = make_report(fail=TLS, kind=K.HOSTNAME_MISMATCH, extra={"presented": presented})
    assert report.findings[0].title.endswith("certificate for another name (portal.example)")
    with_sans = make_report(fail=TLS, kind=K.HOSTNAME_MISMATCH,
                            extra={"presented": {**presented, "sans": ["a.example", "b.example"]}})
    assert with_sans.findings[0].title.endswith("(a.example, b.example)")


def test_without_sni_a_silent_handshake_is_not_blamed_on_sni_filtering() -> None:
    report = make_report(endpoint="wss://127.0.0.1:9443", fail=TLS, kind=K.TIMEOUT,
                         message="ClientHello sent; no ServerHello in 5.00 s",
                         extra={"bytes_received": 0},
                         details={"sni": None, "bytes_received": 0})
    top = report.findings[0]
    assert top.id == "tls.silent_without_sni"
    assert "ClientHello sent without SNI: the host is an IP address" in top.evidence
    text = " ".join([top.title, top.hypothesis, *top.actions])
    assert "SNI filtering is ruled out" in text and "-noservername" in text
    assert "-servername" not in text


def test_a_late_answer_is_not_blamed_on_silence() -> None:
    report = make_report(fail=TLS, kind=K.TIMEOUT, message="timed out after 5.00 s: it "
                         "completed only 1.5 ms past its deadline",
                         extra={"completed_late_ms": 1.5}, command="binance-diag probe BTCUSDT")
    top = report.findings[0]
    assert top.id == "stage.completed_late"
    assert top.title == "TLS answered only after its 5.00 s deadline"
    assert "Probe again with a longer budget: `binance-diag probe BTCUSDT --tls-timeout 10`" \
        in top.actions
    assert "tls.handshake_timeout" not in [f.id for f in report.findings]
