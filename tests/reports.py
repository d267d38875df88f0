"""Constructed probe reports with frozen times and versions, for diagnosis and render tests.

`make_report` builds what the runner would: stages in order, the failed one with its error,
the ones after it skipped, a plausible timeline. Every number is fixed so golden files are
stable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from binance_diag.config.endpoints import build_target
from binance_diag.diagnose import diagnose_report
from binance_diag.model import (
    ErrorKind,
    LoopStats,
    ProbeReport,
    StageError,
    StageName,
    StageResult,
    StageStatus,
    Target,
    Thresholds,
    TimelineEvent,
)

AT = datetime(2026, 1, 4, 8, 41, 59, 784000, tzinfo=UTC)
ENVIRONMENT: Mapping[str, Any] = {
    "tool": "0.1.0",
    "python": "3.11.7",
    "implementation": "cpython",
    "websockets": "17.4",
    "dnspython": "2.9.2",
    "openssl": "OpenSSL 3.0.19 27 Jan 2026",
    "platform": "Linux x86_64",
    "resolver": "10.0.0.53 (system)",
    "proxy": None,
    "proxy_environment": {},
}
ORDER = (StageName.DNS, StageName.TCP, StageName.TLS, StageName.WS_UPGRADE,
         StageName.FIRST_MESSAGE)
TIMEOUTS = {StageName.DNS: 5.0, StageName.PROXY: 5.0, StageName.TCP: 5.0, StageName.TLS: 5.0,
            StageName.WS_UPGRADE: 5.0, StageName.FIRST_MESSAGE: 10.0}
DURATIONS = {StageName.DNS: 23.4, StageName.PROXY: 12.5, StageName.TCP: 41.2, StageName.TLS: 88.6,
             StageName.WS_UPGRADE: 45.3, StageName.FIRST_MESSAGE: 152.7}
LOOP = LoopStats(max_lag_ms=1.8, p99_lag_ms=0.4)
ADDRESSES = ["52.199.12.133", "54.178.2.114"]
PROXY_URL = "http://proxy.example:3128"
CERTIFICATE = {
    "subject": "CN=*.binance.com",
    "issuer": "CN=GeoTrust TLS RSA CA G1,OU=www.digicert.com,O=DigiCert Inc,C=US",
    "sans": ["*.binance.com", "binance.com"],
    "not_before": "2025-09-01T00:00:00+00:00",
    "not_after": "2026-05-04T23:59:59+00:00",
    "days_left": 120.6,
    "serial": "a1b2c3",
}


def passed_details(name: StageName, target: Target) -> dict[str, Any]:
    port = target.port
    if name is StageName.DNS:
        return {
            "host": target.host, "source": "dns", "resolver": "10.0.0.53 (system)",
            "queries": [{"type": "A", "result": "ok", "time_ms": 23.1},
                        {"type": "AAAA", "result": "no_answer", "time_ms": 22.8,
                         "message": f"no AAAA record for {target.host}"}],
            "addresses": list(ADDRESSES),
            "answers": [{"type": "A", "address": a, "ttl": 60} for a in ADDRESSES],
            "cname_chain": [],
        }
    if name is StageName.PROXY:
        return {"proxy": PROXY_URL, "source": "HTTPS_PROXY"}
    if name is StageName.TCP:
        return {"connected_to": f"{ADDRESSES[0]}:{port}", "local_address": "10.0.0.7:51234",
                "attempts": [{"family": "IPv4", "address": ADDRESSES[0], "port": port,
                              "result": "ok", "time_ms": 41.0}]}
    if name is StageName.TLS:
        return {"sni": target.host, "alpn_offered": ["http/1.1"],
                "trust": "certifi 2026.10.19", "version": "TLSv1.3",
                "cipher": "TLS_AES_128_GCM_SHA256", "alpn": "http/1.1",
                "certificate": dict(CERTIFICATE)}
    if name is StageName.WS_UPGRADE:
        return {"path": target.path, "user_agent": "binance-diag", "status": 101,
                "reason": "Switching Protocols",
                "headers": {"upgrade": "websocket", "connection": "upgrade",
                            "sec-websocket-accept": "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="}}
    return {
        "streams": {f"{s.lower()}@{target.stream}": {
            "latency_ms": 152.1, "event_time": 1767516120000, "event_time_lag_ms": 38.2,
            "price": "97012.35", "quantity": "0.00120"} for s in target.symbols},
        "pings_seen": 0, "list_subscriptions": {"sent": False, "answered": False},
        "waiting_for": [],
    }


def failed_details(name: StageName, target: Target) -> dict[str, Any]:
    """What a stage records when it fails, before the test adds its own evidence."""
    if name is StageName.DNS:
        return {"host": target.host, "source": "dns", "resolver": "10.0.0.53 (system)",
                "queries": []}
    if name is StageName.PROXY:
        return {"proxy": PROXY_URL, "source": "HTTPS_PROXY"}
    if name is StageName.TCP:
        return {"attempts": []}
    if name is StageName.TLS:
        return {"sni": target.host, "alpn_offered": ["http/1.1"],
                "trust": "certifi 2026.10.19"}
    if name is StageName.WS_UPGRADE:
        return {"path": target.path, "user_agent": "binance-diag"}
    return {"streams": {}, "pings_seen": 0,
            "list_subscriptions": {"sent": False, "answered": False},
            "waiting_for": list(target.symbols)}


def _events(stage: StageResult, target: Target, end: datetime) -> list[TimelineEvent]:
    start = stage.started_at
    assert start is not None
    name = stage.name
    first = {
        StageName.DNS: f"DNS query A and AAAA {target.host} via 10.0.0.53 (system)",
        StageName.PROXY: f"CONNECT {target.host}:{target.port} via {PROXY_URL}",
        StageName.TCP: f"TCP connect to {ADDRESSES[0]}:{target.port}",
        StageName.TLS: f"TLS ClientHello sent (SNI {target.host})",
        StageName.WS_UPGRADE: f"HTTP upgrade request sent: GET {target.path}",
        StageName.FIRST_MESSAGE: "waiting for the first message",
    }[name]
    events = [TimelineEvent(start, first, name)]
    if stage.status is StageStatus.OK:
        last = {
            StageName.DNS: f"DNS answered: {', '.join(ADDRESSES)}",
            StageName.PROXY: "proxy tunnel open",
            StageName.TCP: f"TCP connected to {ADDRESSES[0]}:{target.port}",
            StageName.TLS: "TLS established: TLSv1.3 TLS_AES_128_GCM_SHA256",
            StageName.WS_UPGRADE: "HTTP 101 Switching Protocols",
            StageName.FIRST_MESSAGE: f"first {target.stream} for {target.symbols[0]}",
        }[name]
    elif stage.status is StageStatus.TIMEOUT:
        last = {StageName.TLS: "TLS timeout fired", StageName.WS_UPGRADE:
                "upgrade timeout fired", StageName.FIRST_MESSAGE:
                "first-message timeout fired"}.get(name, f"{name.label} failed: timeout")
    else:
        assert stage.error is not None
        last = f"{name.label} failed: {stage.error.kind.value}"
    events.append(TimelineEvent(end, last, name))
    return events


def make_report(
    *,
    endpoint: str = "spot",
    symbols: Sequence[str] = ("BTCUSDT",),
    fail: StageName | None = None,
    kind: ErrorKind = ErrorKind.TIMEOUT,
    message: str = "",
    extra: Mapping[str, Any] | None = None,
    details: Mapping[str, Any] | None = None,
    overrides: Mapping[StageName, Mapping[str, Any]] | None = None,
    durations: Mapping[StageName, float] | None = None,
    timeouts: Mapping[StageName, float] | None = None,
    loop: LoopStats = LOOP,
    thresholds: Thresholds | None = None,
    command: str = "binance-diag probe BTCUSDT",
    proxy: bool = False,
    diagnosed: bool = True,
) -> ProbeReport:
    target = build_target(list(symbols), "aggTrade", endpoint)
    timeouts = {**TIMEOUTS, **(timeouts or {})}
    explicit = dict(durations or {})
    durations = {**DURATIONS, **explicit}
    at = AT + timedelta(milliseconds=0.6)
    stages: list[StageResult] = []
    timeline = [TimelineEvent(AT, "probe started (timeouts: dns 5 s, tcp 5 s, tls 5 s, "
                              f"ws_upgrade 5 s, first_message 10 s) target {target.url}")]
    blocked = False
    order = (ORDER[0], StageName.PROXY, *ORDER[1:]) if proxy else ORDER
    for name in order:
        timeout = timeouts[name]
        if blocked:
            stages.append(StageResult(name, StageStatus.SKIPPED, timeout,
                                      details={"reason": "an earlier stage failed"}))
            continue
        if name is StageName.TLS and not target.secure:
            stages.append(StageResult(name, StageStatus.SKIPPED, timeout,
                                      details={"reason": "not applicable: ws:// endpoint"}))
            continue
        if name is fail:
            took = explicit.get(name, timeout * 1000 + 2.7 if kind is ErrorKind.TIMEOUT
                                else 0.4)
            status = StageStatus.TIMEOUT if kind is ErrorKind.TIMEOUT else StageStatus.FAILED
            stage = StageResult(
                name, status, timeout, at, took,
                StageError(kind, message or f"{kind.value}", dict(extra or {})),
                {**failed_details(name, target), **(details or {})},
            )
            blocked = True
        else:
            took = durations[name]
            merged = {**passed_details(name, target), **((overrides or {}).get(name) or {})}
            stage = StageResult(name, StageStatus.OK, timeout, at, took, None, merged)
        end = at + timedelta(milliseconds=took)
        timeline += _events(stage, target, end)
        stages.append(stage)
        at = end + timedelta(milliseconds=0.3)
    timeline.append(TimelineEvent(at + timedelta(milliseconds=2), "report generated"))
    report = ProbeReport(
        tool_version="0.1.0",
        generated_at=AT,
        target=target,
        stages=tuple(stages),
        timeline=tuple(timeline),
        loop=loop,
        environment=dict(ENVIRONMENT),
        command=command,
        thresholds=thresholds or Thresholds(),
    )
    return diagnose_report(report) if diagnosed else report


def seed_report() -> ProbeReport:
    """The seed incident: TCP works, the ClientHello is never answered."""
    return make_report(fail=StageName.TLS, kind=ErrorKind.TIMEOUT,
                       timeouts={StageName.TLS: 10.0},
                       message="ClientHello sent; no ServerHello in 10.00 s",
                       extra={"bytes_received": 0}, details={"bytes_received": 0})
