"""A diagnosed report as the metrics of one scrape (pure: no sockets, no server).

Names follow Prometheus' conventions and blackbox_exporter's habits: `probe_` for what the
scrape's probe measured, the blackbox names where blackbox has the same measure
(`probe_success`, `probe_duration_seconds`, `probe_ssl_earliest_cert_expiry` in Unix seconds,
`probe_ip_protocol`, `probe_http_status_code`, `probe_tls_version_info`), `probe_binance_` for
ours; base units (seconds); enums as one series per value, 1 for the current one, so that a
series never disappears when the state changes. A measure the run never reached has no
sample (absent, not 0), except `probe_http_status_code`, 0 without a response, as blackbox.

Each scrape gets a fresh `CollectorRegistry` holding one `ReportCollector`, as blackbox builds
a registry per probe: nothing is shared between scrapes.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from ..model import OverallStatus, ProbeReport, StageName, StageResult, StageStatus

NO_FINDING = "none"
"""The `finding` label of a failure no rule explained."""


class ReportCollector(Collector):
    """The metrics of one diagnosed report; `duration_s` is the scrape's probe time."""

    def __init__(self, report: ProbeReport, duration_s: float) -> None:
        self.report = report
        self.duration_s = duration_s

    def collect(self) -> Iterator[Metric]:
        report = self.report
        yield _gauge("probe_success", "Whether the stream delivered its first message "
                     "(1), or a stage failed (0).", int(report.failed_stage is None))
        yield _gauge("probe_duration_seconds", "How long the probe took, in seconds.",
                     round(self.duration_s, 6))
        status = GaugeMetricFamily("probe_binance_status", "The probe's verdict: 1 for "
                                   "the current one of ok, degraded, failed.",
                                   labels=["status"])
        for value in OverallStatus:
            status.add_metric([value.value], int(report.status is value))
        yield status
        yield from _stage_metrics(report.stages)
        yield from _failure_metrics(report)
        yield from _tls_metrics(report.stage(StageName.TLS))
        yield from _connection_metrics(report)
        yield from _message_metrics(report.stage(StageName.FIRST_MESSAGE))
        loop = report.loop
        if loop.monitored:
            yield _gauge("probe_binance_loop_lag_seconds", "The event loop's worst lag "
                         "during the probe, in seconds.", loop.max_lag_ms / 1000)
            yield _gauge("probe_binance_loop_blockages", "Times the event loop was blocked "
                         "past the watchdog's threshold during the probe.",
                         len(loop.blockages))


def probe_registry(report: ProbeReport, duration_s: float) -> CollectorRegistry:
    """A fresh registry with this probe's metrics, for one scrape's answer."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ReportCollector(report, duration_s))
    return registry


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _stage_metrics(stages: tuple[StageResult, ...]) -> Iterator[Metric]:
    duration = GaugeMetricFamily("probe_binance_stage_duration_seconds",
                                 "How long each stage took, in seconds (stages not reached "
                                 "have no sample).", labels=["stage"])
    timeout = GaugeMetricFamily("probe_binance_stage_timeout_seconds",
                                "Each stage's timeout in this probe, in seconds (scaled "
                                "down when the scrape timeout is shorter).", labels=["stage"])
    status = GaugeMetricFamily("probe_binance_stage_status",
                               "Each stage's status: 1 for the current one of ok, failed, "
                               "timeout, skipped.", labels=["stage", "status"])
    for stage in stages:
        if stage.duration_ms is not None:
            duration.add_metric([stage.name.value], round(stage.duration_ms / 1000, 6))
        timeout.add_metric([stage.name.value], stage.timeout_s)
        for value in StageStatus:
            status.add_metric([stage.name.value, value.value], int(stage.status is value))
    yield from (duration, timeout, status)


def _failure_metrics(report: ProbeReport) -> Iterator[Metric]:
    failure = GaugeMetricFamily("probe_binance_failure",
                                "1 for the stage that failed, its error kind and the root "
                                "cause finding; no sample when the probe passed.",
                                labels=["stage", "kind", "finding"])
    failed = report.failed_stage
    if failed is not None:
        kind = failed.error.kind.value if failed.error is not None else failed.status.value
        finding = report.findings[0].id if report.findings else NO_FINDING
        failure.add_metric([failed.name.value, kind, finding], 1)
    yield failure
    findings = GaugeMetricFamily("probe_binance_finding",
                                 "1 for each finding of the diagnosis (see docs/findings.md).",
                                 labels=["finding", "severity", "blame"])
    for item in report.findings:
        findings.add_metric([item.id, item.severity.value, item.blame.value], 1)
    yield findings


def _tls_metrics(tls: StageResult | None) -> Iterator[Metric]:
    if tls is None or not tls.passed:
        return
    certificate = tls.details.get("certificate")
    if isinstance(certificate, Mapping):
        expiry = _timestamp(certificate.get("not_after"))
        if expiry is not None:
            yield _gauge("probe_ssl_earliest_cert_expiry", "When the server's certificate "
                         "expires, in Unix seconds.", expiry)
    version = tls.details.get("version")
    if isinstance(version, str):
        info = GaugeMetricFamily("probe_tls_version_info", "The TLS version negotiated.",
                                 labels=["version"])
        info.add_metric([version], 1)
        yield info


def _connection_metrics(report: ProbeReport) -> Iterator[Metric]:
    protocol = _ip_protocol(report.stage(StageName.TCP))
    if protocol is not None:
        yield _gauge("probe_ip_protocol", "The IP version of the connection (4 or 6).",
                     protocol)
    upgrade = report.stage(StageName.WS_UPGRADE)
    status = upgrade.details.get("status") if upgrade is not None else None
    yield _gauge("probe_http_status_code", "The HTTP status of the WebSocket upgrade "
                 "(101 when it worked; 0 without a response).",
                 status if isinstance(status, int) and not isinstance(status, bool) else 0)


def _ip_protocol(tcp: StageResult | None) -> int | None:
    """The family connected over; without a connection, the one tried first."""
    if tcp is None:
        return None
    attempts = [a for a in tcp.details.get("attempts") or () if isinstance(a, Mapping)]
    chosen = next((a for a in attempts if a.get("result") == "ok"),
                  attempts[0] if attempts else None)
    if chosen is None:
        return None
    try:
        return ipaddress.ip_address(str(chosen.get("address"))).version
    except ValueError:
        return None


def _message_metrics(stage: StageResult | None) -> Iterator[Metric]:
    if stage is None or not stage.passed:
        return
    streams = stage.details.get("streams")
    if not isinstance(streams, Mapping):
        return
    firsts = [s for s in streams.values() if isinstance(s, Mapping)]
    latency = _largest(firsts, "latency_ms")
    if latency is not None:
        yield _gauge("probe_binance_first_message_latency_seconds", "From the upgrade to "
                     "the first message of every stream asked for, in seconds.",
                     latency / 1000)
    lag = _largest(firsts, "event_time_lag_ms")
    if lag is not None:
        yield _gauge("probe_binance_event_time_lag_seconds", "Local receive time minus "
                     "the event time Binance stamped, worst stream, in seconds (clock "
                     "skew plus transit).", lag / 1000)


def _largest(items: list[Mapping[str, Any]], key: str) -> float | None:
    values = [float(v) for item in items if isinstance(v := item.get(key), int | float)
              and not isinstance(v, bool)]
    return max(values) if values else None


def _timestamp(text: object) -> float | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None
