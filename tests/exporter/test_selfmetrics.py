"""The exporter's own metrics: counters named `_total`, error reasons present at zero."""

from __future__ import annotations

import pytest
from prometheus_client import generate_latest

from binance_diag.exporter.probing import ProbeSlots
from binance_diag.exporter.selfmetrics import ERROR_REASONS, ExporterMetrics
from tests.exporter.helpers import value

pytestmark = pytest.mark.timeout(10)


def test_counts_and_gauges() -> None:
    slots = ProbeSlots(3)
    metrics = ExporterMetrics(slots)
    metrics.module_seen("spot")
    metrics.probe_done("spot", False, 0.2, cut_short=True)
    assert slots.acquire(0)
    text = generate_latest(metrics.registry).decode()
    assert value(text, "binance_diag_exporter_probes_total", module="spot",
                 result="failure") == 1
    assert value(text, "binance_diag_exporter_probes_total", module="spot",
                 result="success") == 0
    assert value(text, "binance_diag_exporter_probes_cut_short_total") == 1
    assert value(text, "binance_diag_exporter_probe_duration_seconds_count",
                 module="spot") == 1
    assert value(text, "binance_diag_exporter_probes_in_flight") == 1
    assert value(text, "binance_diag_exporter_probes_limit") == 3
    for reason in ERROR_REASONS:
        assert value(text, "binance_diag_exporter_probe_errors_total", reason=reason) == 0


def test_the_server_keeps_a_deep_accept_backlog() -> None:
    from binance_diag.exporter.server import ExporterServer

    assert ExporterServer.request_queue_size >= 128  # 5 made concurrent scrapes wait seconds
