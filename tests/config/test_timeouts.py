import math

import pytest

from binance_diag.config.errors import ConfigError
from binance_diag.config.timeouts import build_timeouts, parse_timeout


def test_stage_flag_wins_over_timeout_whatever_the_order() -> None:
    timeouts = build_timeouts(2.0, tls=7.5)
    assert (timeouts.dns, timeouts.tcp, timeouts.tls, timeouts.first_message) == (2, 2, 7.5, 2)
    assert build_timeouts().first_message == 10.0
    assert build_timeouts().total == 30.0


@pytest.mark.parametrize("value", [0, -1, 1e9])
def test_timeouts_must_be_positive_and_bounded(value: float) -> None:
    with pytest.raises(ConfigError, match="--tls-timeout"):
        build_timeouts(tls=value)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_timeouts_refuse_nan_and_inf(value: float) -> None:
    with pytest.raises(ConfigError, match="--duration must be more than 0 and at most 3600 s"):
        parse_timeout(value, "--duration")
    with pytest.raises(ConfigError, match="--timeout must be more than 0 and at most 3600 s"):
        build_timeouts(value)
