"""exporter/watchmetrics.py: the held streams' figures as Prometheus metrics, fed by hand."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from binance_diag.exporter.watching import HeldFigures
from binance_diag.exporter.watchmetrics import WatchCollector
from binance_diag.watch.events import Conclusion


def figures(target: str, **overrides: object) -> HeldFigures:
    values: dict[str, object] = {
        "target": target, "symbols": ("BTCUSDT", "ETHUSDT"),
        "url": "wss://stream.binance.com:9443/stream", "up": True, "messages": 1234,
        "last_message_age_s": 0.12345, "stall_threshold_s": 10.0, "stalls": 2,
        "reconnects": 1, "conclusions": {"connection_stuck": 2}}
    values.update(overrides)
    return HeldFigures(**values)  # type: ignore[arg-type]


def exposition(*held: HeldFigures) -> str:
    registry = CollectorRegistry()
    registry.register(WatchCollector(lambda: list(held)))
    return generate_latest(registry).decode()


def test_each_target_is_one_labelled_series_per_metric() -> None:
    text = exposition(figures("spot"), figures("futures", up=False, messages=0))
    assert 'binance_watch_messages_total{target="spot"} 1234.0' in text
    assert 'binance_watch_up{target="futures"} 0.0' in text
    assert 'binance_watch_last_message_age_seconds{target="spot"} 0.123' in text
    assert 'binance_watch_stalls_total{target="spot"} 2.0' in text
    assert 'binance_watch_reconnects_total{target="spot"} 1.0' in text
    assert ('binance_watch_target_info{symbols="BTCUSDT,ETHUSDT",target="spot",'
            'url="wss://stream.binance.com:9443/stream"} 1.0') in text


def test_every_conclusion_is_exported_at_zero_before_its_first_event() -> None:
    text = exposition(figures("spot"))
    for conclusion in Conclusion:
        expected = 2.0 if conclusion is Conclusion.CONNECTION_STUCK else 0.0
        assert (f'binance_watch_events_total{{conclusion="{conclusion.value}",'
                f'target="spot"}} {expected}') in text


def test_no_watch_target_no_watch_metric() -> None:
    assert "binance_watch" not in exposition()
