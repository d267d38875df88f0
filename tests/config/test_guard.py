import math

import pytest

from binance_diag.config.errors import ConfigError
from binance_diag.config.guard import (
    DEFAULT_GRACE,
    DEFAULT_INTERVAL,
    DEFAULT_SETTINGS,
    DEFAULT_THRESHOLD,
    GuardSettings,
    parse_guard_settings,
)


def test_no_flags_give_the_defaults() -> None:
    assert parse_guard_settings() == DEFAULT_SETTINGS
    assert DEFAULT_SETTINGS == GuardSettings(DEFAULT_INTERVAL, DEFAULT_THRESHOLD, DEFAULT_GRACE)


def test_milliseconds_become_seconds_and_unset_flags_keep_their_default() -> None:
    settings = parse_guard_settings(interval_ms=20, grace_ms=1500)
    assert settings == GuardSettings(interval=0.02, threshold=DEFAULT_THRESHOLD, grace=1.5)
    assert parse_guard_settings(threshold_ms=1).threshold == 0.001
    assert parse_guard_settings(threshold_ms=60_000).threshold == 60.0


@pytest.mark.parametrize(
    ("kwargs", "flag"),
    [({"interval_ms": 0}, "--loop-interval"), ({"interval_ms": 0.5}, "--loop-interval"),
     ({"threshold_ms": 60_001}, "--loop-threshold"), ({"threshold_ms": -5}, "--loop-threshold"),
     ({"grace_ms": math.nan}, "--deadline-grace"), ({"grace_ms": math.inf}, "--deadline-grace")],
)
def test_out_of_range_values_name_their_flag(kwargs: dict[str, float], flag: str) -> None:
    with pytest.raises(ConfigError, match=f"^{flag} must be between 1 and 60000 ms, got"):
        parse_guard_settings(**kwargs)


def test_settings_are_frozen() -> None:
    with pytest.raises(AttributeError):
        DEFAULT_SETTINGS.grace = 1.0  # type: ignore[misc]
