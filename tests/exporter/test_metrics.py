"""The metrics mapping, fed constructed reports (no server, no network)."""

from __future__ import annotations

from datetime import datetime

import pytest
from prometheus_client import generate_latest

from binance_diag.exporter.metrics import NO_FINDING, probe_registry
from binance_diag.model import ErrorKind, LoopStats, StageName
from tests.exporter.helpers import samples, value
from tests.reports import CERTIFICATE, make_report

pytestmark = pytest.mark.timeout(10)


def exposition(**report: object) -> str:
    return generate_latest(probe_registry(make_report(**report), 0.4321)).decode()  # type: ignore[arg-type]


def test_a_healthy_report() -> None:
    text = exposition(loop=LoopStats(max_lag_ms=12.5, monitored=True))
    assert value(text, "probe_success") == 1
    assert value(text, "probe_duration_seconds") == pytest.approx(0.4321)
    assert value(text, "probe_binance_stage_duration_seconds", stage="tls") == \
        pytest.approx(0.0886)
    assert value(text, "probe_binance_stage_timeout_seconds", stage="first_message") == 10
    assert value(text, "probe_ssl_earliest_cert_expiry") == \
        datetime.fromisoformat(str(CERTIFICATE["not_after"])).timestamp()
    assert value(text, "probe_tls_version_info", version="TLSv1.3") == 1
    assert value(text, "probe_binance_first_message_latency_seconds") == pytest.approx(0.1521)
    assert value(text, "probe_binance_event_time_lag_seconds") == pytest.approx(0.0382)
    assert value(text, "probe_binance_loop_lag_seconds") == pytest.approx(0.0125)
    assert value(text, "probe_binance_loop_blockages") == 0
    assert value(text, "probe_ip_protocol") == 4
    assert value(text, "probe_http_status_code") == 101
    assert not [k for k in samples(text) if k[0] == "probe_binance_failure"]


def test_every_stage_and_verdict_has_one_series_per_value() -> None:
    """Enums as state sets: exactly one 1 per stage, so a change never drops a series."""
    found = samples(exposition(fail=StageName.TLS, kind=ErrorKind.TIMEOUT))
    for stage in ("dns", "tcp", "tls", "ws_upgrade", "first_message"):
        states = {dict(labels)["status"]: v for (name, labels), v in found.items()
                  if name == "probe_binance_stage_status" and dict(labels)["stage"] == stage}
        assert set(states) == {"ok", "failed", "timeout", "skipped"}
        assert sum(states.values()) == 1
    verdict = {dict(labels)["status"]: v for (name, labels), v in found.items()
               if name == "probe_binance_status"}
    assert verdict == {"ok": 0, "degraded": 0, "failed": 1}


def test_a_failure_names_stage_kind_and_root_cause() -> None:
    report = make_report(fail=StageName.TLS, kind=ErrorKind.TIMEOUT)
    text = generate_latest(probe_registry(report, 5.0)).decode()
    assert value(text, "probe_success") == 0
    assert value(text, "probe_binance_failure", stage="tls", kind="timeout",
                 finding=report.findings[0].id) == 1
    assert value(text, "probe_binance_finding", finding=report.findings[0].id,
                 severity=report.findings[0].severity.value,
                 blame=report.findings[0].blame.value) == 1
    assert value(text, "probe_binance_stage_duration_seconds", stage="ws_upgrade") is None
    assert value(text, "probe_ssl_earliest_cert_expiry") is None  # no handshake, no cert
    assert value(text, "probe_http_status_code") == 0  # blackbox: 0 without a response


def test_an_http_refusal_keeps_its_status() -> None:
    text = exposition(fail=StageName.WS_UPGRADE, kind=ErrorKind.HTTP_STATUS,
                      details={"status": 451, "reason": "Unavailable For Legal Reasons"})
    assert value(text, "probe_http_status_code") == 451


def test_an_unexplained_failure_says_none() -> None:
    report = make_report(fail=StageName.TCP, kind=ErrorKind.REFUSED, diagnosed=False)
    text = generate_latest(probe_registry(report, 1.0)).decode()
    assert value(text, "probe_binance_failure", stage="tcp", kind="refused",
                 finding=NO_FINDING) == 1


def test_ipv6_connections_say_6() -> None:
    text = exposition(overrides={StageName.TCP: {"attempts": [
        {"family": "IPv4", "address": "192.0.2.1", "result": "timeout"},
        {"family": "IPv6", "address": "2001:db8::1", "result": "ok"}]}})
    assert value(text, "probe_ip_protocol") == 6


def test_an_unwatched_loop_has_no_lag_sample() -> None:
    assert value(exposition(loop=LoopStats()), "probe_binance_loop_lag_seconds") is None


def test_names_follow_the_conventions() -> None:
    for name, _ in samples(exposition(fail=StageName.TLS, kind=ErrorKind.TIMEOUT)):
        assert name.startswith("probe_")
        assert not name.endswith(("_ms", "_milliseconds", "_total"))  # gauges, base units
