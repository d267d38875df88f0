"""The exporter's own metrics (`/metrics`): process, probes run, probe errors, reloads.

Counters end in `_total` (prometheus-client adds it); every label value an alert may test is
created at zero at start, so `rate()` sees the first increment.
"""

from __future__ import annotations

import platform

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    Counter,
    Gauge,
    Histogram,
)
from prometheus_client.registry import CollectorRegistry

from .. import __version__
from .probing import ProbeSlots

ERROR_REASONS = ("bad_request", "unknown_module", "busy", "internal")
"""Why a `/probe` scrape was answered with an HTTP error instead of a probe."""
RESULTS = ("success", "failure")
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class ExporterMetrics:
    """One registry for the exporter's process, shared by every `/metrics` scrape."""

    def __init__(self, slots: ProbeSlots) -> None:
        registry = self.registry = CollectorRegistry()
        for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
            registry.register(collector)
        build = Gauge("binance_diag_exporter_build_info", "The exporter's version, 1.",
                      ["version", "python"], registry=registry)
        build.labels(__version__, platform.python_version()).set(1)
        self.probes = Counter("binance_diag_exporter_probes",
                              "Probes run, by module and result.", ["module", "result"],
                              registry=registry)
        self.errors = Counter("binance_diag_exporter_probe_errors",
                              "Scrapes of /probe answered with an HTTP error, by reason.",
                              ["reason"], registry=registry)
        for reason in ERROR_REASONS:
            self.errors.labels(reason)
        self.cut_short = Counter("binance_diag_exporter_probes_cut_short",
                                 "Probes answered from what they knew when the scrape's "
                                 "budget ran out.", registry=registry)
        self.duration = Histogram("binance_diag_exporter_probe_duration_seconds",
                                  "How long probes took, by module.", ["module"],
                                  buckets=DURATION_BUCKETS, registry=registry)
        in_flight = Gauge("binance_diag_exporter_probes_in_flight",
                          "Probes running now (overdue ones included).", registry=registry)
        in_flight.set_function(lambda: slots.in_flight)
        overdue = Gauge("binance_diag_exporter_probes_overdue",
                        "Probes still running after their scrape was answered.",
                        registry=registry)
        overdue.set_function(lambda: slots.overdue)
        limit = Gauge("binance_diag_exporter_probes_limit",
                      "At most this many probes at once (--max-concurrent-probes).",
                      registry=registry)
        limit.set(slots.limit)
        self.reload_ok = Gauge("binance_diag_exporter_config_last_reload_successful",
                               "Whether the last load of the modules file worked.",
                               registry=registry)
        self.reload_time = Gauge(
            "binance_diag_exporter_config_last_reload_success_timestamp_seconds",
            "When the modules file was last loaded, in Unix seconds.", registry=registry)

    def probe_done(self, module: str, success: bool, duration_s: float, cut_short: bool
                   ) -> None:
        self.probes.labels(module, RESULTS[0] if success else RESULTS[1]).inc()
        self.duration.labels(module).observe(duration_s)
        if cut_short:
            self.cut_short.inc()

    def module_seen(self, module: str) -> None:
        """Both results at zero for a module, so that its first failure is a change."""
        for result in RESULTS:
            self.probes.labels(module, result)

    def reloaded(self, ok: bool) -> None:
        self.reload_ok.set(int(ok))
        if ok:
            self.reload_time.set_to_current_time()
