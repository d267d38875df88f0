"""watch/config.py: spans, the stall rule, a watch checked before its first packet."""

from __future__ import annotations

import pytest

from binance_diag.config.errors import ConfigError
from binance_diag.watch.config import DAY, StallRule, WatchConfig, parse_span
from tests.probe.helpers import make_config


@pytest.mark.parametrize(("text", "seconds"), [
    ("8h", 28_800.0), ("90m", 5_400.0), ("60s", 60.0), ("500ms", 0.5), ("1.5", 1.5),
    (" 2D ", 2 * DAY), ("366d", 366 * DAY),
])
def test_parse_span(text: str, seconds: float) -> None:
    assert parse_span(text, "--duration") == seconds


@pytest.mark.parametrize("text", ["", "8 hours", "-1s", "0s", "367d", "1e3", "nan", "5w"])
def test_bad_spans_name_their_flag(text: str) -> None:
    with pytest.raises(ConfigError, match="--every"):
        parse_span(text, "--every")


def test_the_threshold_is_the_larger_of_the_floor_and_factor_median_gaps() -> None:
    rule = StallRule(factor=20, floor=10)
    assert rule.threshold(None) == 10
    assert rule.threshold(0.1) == 10  # a busy pair: 2 s is under the floor
    assert rule.threshold(2.0) == 40  # a quiet one gets its own threshold


@pytest.mark.parametrize(("rule", "message"), [
    (StallRule(factor=0.5), "--stall-factor"), (StallRule(factor=float("inf")), "--stall-factor"),
    (StallRule(floor=0), "--stall-floor"), (StallRule(floor=DAY + 1), "--stall-floor"),
])
def test_a_bad_stall_rule_is_refused(rule: StallRule, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        WatchConfig(make_config("wss://stream.binance.com:9443"), stall=rule)


def test_defaults_are_binances_day_and_a_probe_a_minute() -> None:
    config = WatchConfig(make_config("wss://stream.binance.com:9443"))
    assert config.lifetime == DAY and config.every == 60.0 and config.stall == StallRule()
