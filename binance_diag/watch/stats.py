"""Bounded streaming statistics: count, max, mean and quantiles in constant memory.

A watch runs for hours at thousands of messages a second: keeping every gap to take a
median later would grow without end. `Distribution` keeps a log-bucketed histogram
instead (HdrHistogram's idea): each value lands in a bucket whose width is `RESOLUTION` of
its size, so a quantile is known within that relative error whatever the run's length, and
memory is bounded by the number of buckets between the smallest and largest value (a few
hundred for microseconds to hours). Pure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

RESOLUTION = 0.02
"""Relative width of a bucket: quantiles are within ±1 % of the true value."""
_LOG_BASE = math.log1p(RESOLUTION)
SMALLEST = 1e-6
"""Values below this (a microsecond, in seconds) share the lowest bucket."""


@dataclass
class Distribution:
    """Non-negative samples (seconds, milliseconds: any unit), summarised as they come."""

    count: int = 0
    total: float = 0.0
    minimum: float = math.inf
    maximum: float = 0.0
    _buckets: dict[int, int] = field(default_factory=dict, repr=False)

    def add(self, value: float) -> None:
        value = max(value, 0.0)
        self.count += 1
        self.total += value
        self.minimum = min(self.minimum, value)
        self.maximum = max(self.maximum, value)
        index = _bucket(value)
        self._buckets[index] = self._buckets.get(index, 0) + 1

    def merge(self, other: Distribution) -> None:
        self.count += other.count
        self.total += other.total
        self.minimum = min(self.minimum, other.minimum)
        self.maximum = max(self.maximum, other.maximum)
        for index, n in other._buckets.items():
            self._buckets[index] = self._buckets.get(index, 0) + n

    @property
    def mean(self) -> float | None:
        return self.total / self.count if self.count else None

    @property
    def buckets(self) -> int:
        """How many buckets are in use: the memory the distribution holds."""
        return len(self._buckets)

    def quantile(self, q: float) -> float | None:
        """The value below which a fraction `q` of the samples lie (None without samples).

        The nearest-rank sample's bucket midpoint, clamped to the exact minimum and maximum,
        so that q=0 and q=1 are exact and one sample is its own median."""
        if not self.count:
            return None
        if not 0.0 <= q <= 1.0:
            raise ValueError(f"quantile {q} outside [0, 1]")
        rank = max(1, math.ceil(q * self.count))
        seen = 0
        for index in sorted(self._buckets):
            seen += self._buckets[index]
            if seen >= rank:
                return min(max(_midpoint(index), self.minimum), self.maximum)
        return self.maximum  # not reached: the counts add up to `count`

    def summary(self, scale: float = 1.0, digits: int = 1) -> dict[str, float | int | None]:
        """count, p50, p95, p99, max and mean, each multiplied by `scale` (1000: s -> ms)."""
        def scaled(value: float | None) -> float | None:
            return None if value is None else round(value * scale, digits)

        return {"count": self.count, "p50": scaled(self.quantile(0.5)),
                "p95": scaled(self.quantile(0.95)), "p99": scaled(self.quantile(0.99)),
                "max": scaled(self.maximum if self.count else None),
                "mean": scaled(self.mean)}


def _bucket(value: float) -> int:
    if value <= SMALLEST:
        return 0
    return 1 + int(math.log(value / SMALLEST) / _LOG_BASE)


def _midpoint(index: int) -> float:
    if index == 0:
        return 0.0
    low = SMALLEST * math.exp((index - 1) * _LOG_BASE)
    return low * (1 + RESOLUTION / 2)
