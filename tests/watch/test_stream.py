"""watch/stream.py: the held stream's figures, fed with times."""

from __future__ import annotations

import pytest

from binance_diag.watch.stream import HeldStreamStats


def test_gaps_per_stream_and_across_streams() -> None:
    stats = HeldStreamStats(started=0.0)
    stats.connected()
    for n in range(10):
        stats.message("btcusdt@aggTrade", 1.0 + n * 0.1, lag_ms=5.0)
        stats.message("ethusdt@aggTrade", 1.05 + n * 0.1, lag_ms=-3.0)
    assert stats.messages == 20
    assert stats.median_gap() == pytest.approx(0.05, rel=0.02)
    btc = stats.streams["btcusdt@aggTrade"]
    assert btc.messages == 10 and btc.gaps.quantile(0.5) == pytest.approx(0.1, rel=0.02)
    assert stats.streams["ethusdt@aggTrade"].lag_ms.quantile(0.5) == 0.0  # clock skew clamps
    assert stats.silence(3.0) == pytest.approx(3.0 - 1.95)
    data = stats.to_dict(now=2.0)
    assert data["messages"] == 20 and data["rate_per_s"] == 10.0
    assert data["streams"]["btcusdt@aggTrade"]["rate_per_s"] == 5.0  # type: ignore[index]


def test_a_new_connection_starts_no_gap_from_the_old_one() -> None:
    stats = HeldStreamStats(started=0.0)
    stats.connected()
    stats.message("s", 1.0, None)
    stats.message("s", 1.1, None)
    stats.connected()
    assert stats.silence(50.0) is None
    stats.message("s", 100.0, None)
    assert stats.gaps.maximum == pytest.approx(0.1)
    assert stats.connections == 2


def test_pings_pongs_and_their_lateness() -> None:
    stats = HeldStreamStats(started=0.0)
    stats.connected()
    for at in (10.0, 30.0, 50.0):
        stats.ping(at)
    stats.pongs_sent(10.002, 1)
    stats.pongs_sent(50.5, 2)  # the second answers the 30 s ping 20.5 s late
    stats.pongs_sent(51.0, 5)  # more pongs than pings waiting: counted, not timed
    assert (stats.pings, stats.pongs) == (3, 8)
    assert stats.ping_intervals.quantile(0.5) == pytest.approx(20.0, rel=0.02)
    assert stats.pong_lateness.maximum == pytest.approx(20.5)
    stats.closed(1008)
    stats.closed(None)
    data = stats.to_dict(60.0)
    assert data["closes"] == {"1008": 1, "none": 1}
    assert data["pong_lateness_max_ms"] == pytest.approx(20_500, rel=0.001)


def test_empty_figures_are_none_not_zero() -> None:
    data = HeldStreamStats(started=5.0).to_dict(5.0)
    assert data["messages"] == 0 and data["rate_per_s"] == 0.0
    assert data["gap_median_ms"] is None and data["streams"] == {}


def test_latency_is_the_lag_read_on_binances_clock_once_measured() -> None:
    from binance_diag.probe.sansio.servertime import ClockOffset

    stats = HeldStreamStats(started=0.0)
    stats.connected()
    stats.message("btcusdt@aggTrade", 1.0, lag_ms=-4990.0)  # before the clock is measured
    raw = stats.to_dict(now=2.0)
    assert "clock_offset_ms" not in raw
    assert "event_latency_p50_ms" not in raw["streams"]["btcusdt@aggTrade"]  # type: ignore[index]
    stats.clock = ClockOffset(5000.0, 1.5, 1.0, 4)
    stats.message("btcusdt@aggTrade", 1.1, lag_ms=-4990.0)
    data = stats.to_dict(now=2.0)
    assert data["clock_offset_ms"] == 5000.0 and data["clock_bound_ms"] == 1.5
    figures = data["streams"]["btcusdt@aggTrade"]  # type: ignore[index]
    assert figures["event_latency_p50_ms"] == pytest.approx(10.0, rel=0.02)  # type: ignore[index]
    assert figures["event_lag_p50_ms"] == 0.0  # type: ignore[index]
