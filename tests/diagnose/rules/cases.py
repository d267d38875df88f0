"""The rule table's cases: for every rule, a report built from measurements that must make it
fire. Each tests/diagnose/rules/test_<module>.py runs the cases of the rules its module defines."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta
from types import ModuleType
from typing import Any

from binance_diag.diagnose import RULES_BY_ID, diagnose_report, match_rules
from binance_diag.diagnose.rule import Rule, Scope
from binance_diag.model import (
    Blockage,
    ErrorKind,
    Experiment,
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


def tried(report: ProbeReport, name: str, outcome: str, **details: Any) -> ProbeReport:
    """`report` with one experiment that ended with `outcome`."""
    found = Experiment(name, "a question", "an action", outcome, f"it said {outcome}",
                       AT, 1000.0, details)
    return diagnose_report(dataclasses.replace(report, experiments=(*report.experiments, found)))


def silence(**probe: Any) -> ProbeReport:
    alive = bool(probe.get("answered"))
    return make_report(fail=MESSAGE, kind=K.TIMEOUT, message="no aggTrade message",
                       extra={"missing": ["BTCUSDT"], "link_alive": alive},
                       details={"list_subscriptions": {"sent": True, **probe}, "pings_seen": 1})


def closed(code: int | None, reason: str = "") -> ProbeReport:
    return make_report(fail=MESSAGE, kind=K.CLOSED, message=f"server closed the stream: {code}",
                       extra={"code": code, "reason": reason})


def skewed(lag_ms: float) -> ProbeReport:
    """A first message whose event time is `lag_ms` off the local clock."""
    return make_report(overrides={MESSAGE: {"streams": {"btcusdt@aggTrade": {
        "latency_ms": 150.0, "event_time": 1767516120000, "event_time_lag_ms": lag_ms}}}})


def server_time(offset_ms: float, lag_ms: float) -> dict[str, Any]:
    """The details of a `clock.server_time` experiment that measured `offset_ms`."""
    return {"server": "api.binance.com:443", "path": "/api/v3/time", "offset_ms": offset_ms,
            "bound_ms": 13.0, "rtt_ms": 24.0, "samples": 4, "streams": {"btcusdt@aggTrade": {
                "event_time_lag_ms": lag_ms, "latency_ms": lag_ms + offset_ms,
                "bound_ms": 13.0}}}


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
        message="invalid 101 response: invalid Sec-WebSocket-Accept",
        extra={"status": 101, "problem": "accept", "header": "Sec-WebSocket-Accept"}),
    "upgrade.protocol_violation": lambda: make_report(
        fail=UPGRADE, kind=K.INVALID_HANDSHAKE,
        message="not a valid HTTP response: unsupported protocol; expected HTTP/1.1",
        extra={"status": 101, "problem": "http_version", "http_version": "1.0",
               "problem_text": "an answer in another HTTP version than 1.1",
               "exception": "ValueError", "bytes_received": 120}),
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
    "message.protocol_violation": lambda: make_report(
        fail=MESSAGE, kind=K.PROTOCOL_ERROR,
        message="the server broke the WebSocket protocol: invalid status code 999",
        extra={"code": 1002, "exception": "ProtocolError"}),
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
    "perf.slow_once": lambda: tried(make_report(durations={TLS: 2400.0}), "timing.repeat",
                                    "once", stage="tls"),
    "perf.slow_path": lambda: tried(make_report(durations={TLS: 2400.0}), "timing.repeat",
                                    "round_trips", stage="tls"),
    "perf.slow_peer": lambda: tried(make_report(durations={TLS: 2400.0}), "timing.repeat",
                                    "peer_slow", stage="tls"),
    "tls.proxy_tunnel_dead": lambda: tried(tls(K.TIMEOUT, 0), "proxy.tunnel_vs_direct",
                                           "direct_answers"),
    "tls.path_mtu_blackhole": lambda: tried(tls(K.TIMEOUT, 0), "tls.small_mss", "answered"),
    "tls.sni_filtered": lambda: tried(tls(K.TIMEOUT, 0), "tls.sni_variants", "name_blocked"),
    "tls.hello_rejected": lambda: tried(tls(K.RESET, 0), "tls.hello_variants", "rejects_alpn"),
    "tls.blocked_whatever_name": lambda: tried(tls(K.RESET, 0), "tls.sni_variants",
                                               "all_blocked"),
    "tls.not_reproduced": lambda: tried(tls(K.TIMEOUT, 0), "tls.sni_variants",
                                        "not_reproduced"),
    "upgrade.web_filter": lambda: tried(http(403, "Forbidden"), "http.refusal", "web_filter",
                                        says="blocked by company policy",
                                        filter_category="Cryptocurrency"),
    "upgrade.maintenance": lambda: tried(http(503, "Service Unavailable"), "http.refusal",
                                         "maintenance"),
    "path.other_port_works": lambda: tried(tls(K.TIMEOUT, 0), "path.other_port", "works"),
    "path.market_data_works": lambda: tried(tls(K.TIMEOUT, 0), "path.market_data_host",
                                            "works"),
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
    "message.clock_off": lambda: tried(skewed(-5000.0), "clock.server_time", "clock_off",
                                       **server_time(5001.5, -5000.0)),
    "message.late_delivery": lambda: tried(skewed(3004.0), "clock.server_time",
                                           "late_delivery", **server_time(-1.0, 3004.0)),
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
    "hold.send_stalled": lambda: make_report(overrides={MESSAGE: {"hold": {
        "duration_s": 2.4, "messages": 9000, "rate_per_s": 3750.0, "largest_gap_ms": 2000.0,
        "pings_seen": 120000, "pongs_sent": 90000, "closed": None,
        "send_stalled": {"after_s": 0.4, "waited_s": 2.0, "unsent_bytes": 131}}}}),
    "probe.healthy": lambda: make_report(),
}


def rule_ids_of(module: ModuleType) -> list[str]:
    """The ids of the rules `module` defines (in its PRECEDING, FAILURES, ... tuples)."""
    ids = [value.id for name in sorted(vars(module)) if name.isupper()
           for value in (vars(module)[name] if isinstance(vars(module)[name], tuple) else ())
           if isinstance(value, Rule)]
    return list(dict.fromkeys(ids))


def assert_rule_fires(rule_id: str) -> None:
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
