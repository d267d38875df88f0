"""The scrape's budget (blackbox's getTimeout) and stage timeouts fitted inside it."""

from __future__ import annotations

import math

import pytest

from binance_diag.config.timeouts import Timeouts
from binance_diag.exporter.budget import (
    DEFAULT_SCRAPE_TIMEOUT,
    RESERVE,
    fit_timeouts,
    scrape_budget,
)
from binance_diag.model import StageName
from binance_diag.probe.budget import stage_budget

pytestmark = pytest.mark.timeout(10)
DIRECT = (StageName.DNS, StageName.TCP, StageName.TLS, StageName.WS_UPGRADE,
          StageName.FIRST_MESSAGE)


@pytest.mark.parametrize(("header", "module", "offset", "expected"), [
    ("10", None, 0.5, 9.5),               # the scrape timeout less the offset
    ("10", 4.0, 0.5, 4.0),                # a shorter module timeout wins
    ("10", 30.0, 0.5, 9.5),
    (None, None, 0.5, DEFAULT_SCRAPE_TIMEOUT - 0.5),  # no header: blackbox's 120 s
    ("", 7.0, 0.5, 7.0),
    ("0.4", 2.0, 0.5, 2.0),               # offset larger than the timeout: the module's
    ("0.4", None, 0.5, -0.1),
])
def test_the_budget_is_blackboxs(header: str | None, module: float | None, offset: float,
                                 expected: float) -> None:
    assert scrape_budget(header, module, offset) == pytest.approx(expected)


@pytest.mark.parametrize("header", ["soon", "-1", "0", "nan", "inf"])
def test_a_bad_header_is_a_value_error(header: str) -> None:
    with pytest.raises(ValueError):
        scrape_budget(header, None)


def test_timeouts_that_fit_are_kept() -> None:
    fitted = fit_timeouts(Timeouts(), 60.0, DIRECT)
    assert fitted.factor == 1.0 and fitted.timeouts == Timeouts()


def test_timeouts_are_scaled_by_one_factor_to_fit_the_budget() -> None:
    fitted = fit_timeouts(Timeouts(), 9.5, DIRECT)  # 30 s of stages in a 10 s scrape
    total = sum(fitted.timeouts.for_stage(s) for s in DIRECT)
    assert total == pytest.approx(9.5 - RESERVE, abs=1e-4)
    assert fitted.timeouts.first_message == pytest.approx(2 * fitted.timeouts.dns, abs=1e-5)
    assert math.isclose(fitted.factor, (9.5 - RESERVE) / 30)


def test_a_short_budget_keeps_a_share_not_the_whole_reserve() -> None:
    fitted = fit_timeouts(Timeouts(), 0.5, DIRECT)
    total = sum(fitted.timeouts.for_stage(s) for s in DIRECT)
    assert total == pytest.approx(0.4, abs=1e-4)
    assert all(fitted.timeouts.for_stage(s) > 0 for s in DIRECT)


def test_the_experiments_fit_in_the_budget_with_the_stages() -> None:
    fitted = fit_timeouts(Timeouts(), 9.5, DIRECT, experiments=3.0)  # 30 s + 3 s in 9.5 s
    stages = sum(fitted.timeouts.for_stage(s) for s in DIRECT)
    assert fitted.experiments is not None
    # The experiments overrun by their supervision margin, as the failed stage does.
    assert stages + fitted.experiments == pytest.approx(9.5 - RESERVE - stage_budget(0.0),
                                                        abs=1e-4)
    assert fitted.experiments == pytest.approx(3.0 * fitted.factor, abs=1e-5)
    assert stages + stage_budget(fitted.experiments) + RESERVE <= 9.5 + 1e-5  # rounding


def test_experiments_that_fit_are_kept_and_none_stay_none() -> None:
    assert fit_timeouts(Timeouts(), 60.0, DIRECT, experiments=3.0).experiments == 3.0
    assert fit_timeouts(Timeouts(), 9.5, DIRECT).experiments is None
    short = fit_timeouts(Timeouts(), 0.5, DIRECT, experiments=3.0)
    assert short.experiments is not None and 0 < short.experiments < 0.5
