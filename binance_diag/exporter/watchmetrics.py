"""The held streams' figures as metrics on `/metrics`, live between scrapes.

`binance_watch_` names, one `target` label (the `[watch.NAME]` table's name: a bounded set,
no addresses). Counters count since the target's session started (a reload that changes the
target starts a new one: Prometheus sees a counter reset); every conclusion is exported at
zero so that `increase()` sees the first event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ..watch.events import Conclusion
from .watching import HeldFigures


class WatchCollector(Collector):
    """Collects `figures()` (WatchTargets.figures) at each /metrics scrape."""

    def __init__(self, figures: Callable[[], list[HeldFigures]]) -> None:
        self.figures = figures

    def collect(self) -> Iterator[Metric]:
        held = self.figures()
        if not held:
            return
        target = ["target"]
        info = GaugeMetricFamily("binance_watch_target_info",
                                 "A held stream of the modules file, 1.",
                                 labels=["target", "symbols", "url"])
        up = GaugeMetricFamily("binance_watch_up",
                               "1 while the target's held connection is open.", labels=target)
        messages = CounterMetricFamily("binance_watch_messages",
                                       "Market messages received on the held stream.",
                                       labels=target)
        age = GaugeMetricFamily("binance_watch_last_message_age_seconds",
                                "Seconds since the held stream's last message (since its "
                                "start before the first).", labels=target)
        threshold = GaugeMetricFamily("binance_watch_stall_threshold_seconds",
                                      "A silence longer than this is a stall (the stall "
                                      "factor times the median gap, at least the floor).",
                                      labels=target)
        stalls = CounterMetricFamily("binance_watch_stalls",
                                     "Stalls: silences past the threshold, each investigated.",
                                     labels=target)
        reconnects = CounterMetricFamily("binance_watch_reconnects",
                                         "Held connections opened again after a close or a "
                                         "stuck connection.", labels=target)
        events = CounterMetricFamily("binance_watch_events",
                                     "Watch events by conclusion (docs/watch.md).",
                                     labels=["target", "conclusion"])
        for figures in held:
            name = [figures.target]
            info.add_metric([figures.target, ",".join(figures.symbols), figures.url], 1)
            up.add_metric(name, int(figures.up))
            messages.add_metric(name, figures.messages)
            age.add_metric(name, round(figures.last_message_age_s, 3))
            threshold.add_metric(name, round(figures.stall_threshold_s, 3))
            stalls.add_metric(name, figures.stalls)
            reconnects.add_metric(name, figures.reconnects)
            for conclusion in Conclusion:
                events.add_metric([figures.target, conclusion.value],
                                  figures.conclusions.get(conclusion.value, 0))
        yield from (info, up, messages, age, threshold, stalls, reconnects, events)
