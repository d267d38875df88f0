"""binance_diag/figures/distribution.py: the one bounded distribution (the hold's gaps,
the watch's figures, the probe series), fed by hand."""

from __future__ import annotations

import math
import random
import statistics

import pytest

from binance_diag.figures.distribution import CEILING, FLOOR, MAX_BUCKETS, PRECISION, Distribution


def filled(values: list[float]) -> Distribution:
    distribution = Distribution()
    for value in values:
        distribution.add(value)
    return distribution


@pytest.mark.timeout(30)
def test_quantiles_are_within_their_precision_and_the_extremes_are_exact() -> None:
    rng = random.Random(16)
    values = [rng.lognormvariate(-4, 1.5) for _ in range(50_000)] + [12.5]
    distribution = filled(values)
    ordered = sorted(values)
    for q in (0.5, 0.95, 0.99):
        exact = ordered[math.ceil(q * len(values)) - 1]
        got = distribution.quantile(q)
        assert got is not None and abs(got - exact) <= PRECISION * exact, (q, got, exact)
    assert distribution.quantile(1.0) == distribution.maximum == 12.5
    assert distribution.quantile(0.0) == distribution.minimum == ordered[0]
    assert distribution.count == len(values)
    assert distribution.mean == pytest.approx(statistics.fmean(values))


@pytest.mark.timeout(30)
def test_memory_is_bounded_by_the_range_not_the_count() -> None:
    """A list of every gap grew with the rate: 69 -> 116 MB from 5 s to 20 s at 62k msg/s."""
    distribution = Distribution()
    for n in range(200_000):
        distribution.add((n % 977) * 1e-5 + 1e-7 * (n % 3))
    used = distribution.buckets
    for n in range(200_000):
        distribution.add((n % 977) * 1e-5)
    assert distribution.buckets == used <= MAX_BUCKETS < 3000
    for extreme in (0.0, -1.0, 1e-12, 1e12, math.inf):
        distribution.add(extreme)
    assert distribution.buckets <= MAX_BUCKETS


def test_values_beyond_the_range_keep_exact_extremes() -> None:
    beyond = filled([CEILING * 10, CEILING * 20])
    assert beyond.quantile(0.5) == beyond.maximum == CEILING * 20  # the top bucket reads max
    tiny = filled([FLOOR / 10, FLOOR / 100])
    assert tiny.quantile(0.5) == tiny.maximum == FLOOR / 10
    assert filled([-3.0]).minimum == 0.0  # negative: a clock step back, counted as none


def test_one_sample_is_its_own_median_and_none_have_no_quantile() -> None:
    assert filled([0.1234]).quantile(0.5) == 0.1234
    empty = Distribution()
    assert empty.quantile(0.5) is None and empty.mean is None
    assert empty.summary() == {"count": 0, "p50": None, "p95": None, "p99": None,
                               "max": None, "mean": None}
    with pytest.raises(ValueError, match="outside"):
        empty.quantile(1.5)


def test_merge_is_the_same_as_adding_every_sample() -> None:
    rng = random.Random(3)
    first, second = ([rng.uniform(0.001, 2.0) for _ in range(500)] for _ in range(2))
    merged = filled(first)
    merged.merge(filled(second))
    added = filled(first + second)
    assert merged.quantile(0.5) == added.quantile(0.5) and merged.buckets == added.buckets
    assert (merged.count, merged.minimum, merged.maximum) == (added.count, added.minimum,
                                                              added.maximum)
    assert merged.total == pytest.approx(added.total)


def test_summary_scales_and_rounds() -> None:
    summary = filled([0.1, 0.2, 0.3]).summary(scale=1000, digits=0)
    assert summary["count"] == 3 and summary["max"] == 300 and summary["mean"] == 200
    assert summary["p50"] == pytest.approx(200, rel=PRECISION)
