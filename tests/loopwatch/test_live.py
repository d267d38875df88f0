"""The lines printed while the program runs (loopwatch/live.py)."""

from __future__ import annotations

from binance_diag.loopwatch.live import LiveReporter
from binance_diag.loopwatch.rendering import blockage_line
from binance_diag.loopwatch.wire import Hello
from tests.loopwatch.helpers import blockage


def test_a_short_blockage_is_one_line_when_it_ends() -> None:
    live = LiveReporter(still_blocked_after=1.0)
    assert live.feed(blockage(ms=100, ended=False), now=10.0) == []
    assert live.tick(10.5) == []
    assert live.feed(blockage(ms=301.5), now=10.2) == [blockage_line(blockage())]
    assert live.tick(20.0) == [] and live.flush(20.0) == []


def test_a_long_blockage_is_told_while_it_lasts_and_again_when_it_ends() -> None:
    live = LiveReporter(still_blocked_after=1.0)
    live.feed(blockage(ms=100, ended=False), now=10.0)
    [line] = live.tick(11.0)
    assert "event loop blocked for 1.10 s so far at bot.py:12 in handler" in line
    assert live.tick(12.0) == []  # told once
    assert live.feed(blockage(ms=5000), now=14.9) == [blockage_line(blockage(ms=5000))]


def test_a_blockage_open_when_the_program_ends_is_flushed() -> None:
    live = LiveReporter()
    live.feed(blockage(ms=100, ended=False), now=10.0)
    [line] = live.flush(10.4)
    assert "event loop still blocked after 500.0 ms when the program ended at bot.py:12" in line


def test_other_events_print_nothing() -> None:
    assert LiveReporter().feed(Hello(1, "3.11"), now=0.0) == []
