"""Bounded streaming statistics: count, min, max, mean and quantiles in constant memory.

One implementation for the whole package (the hold's gaps in probe/, the watch's gaps,
pong lateness and stage durations, the probe series): a run of hours at thousands of
messages a second must not keep every value to take a median later.

Theory of operation: a log-bucketed histogram (HdrHistogram's idea). A value lands in
bucket `floor(log(value / FLOOR) / log(1 + PRECISION))`, so a quantile read back from its
bucket is within PRECISION (1 %) of the true value, and the number of buckets is bounded by
the range of the values, not their count (MAX_BUCKETS from FLOOR to CEILING). Count, total,
minimum and maximum are kept exactly. Pure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

PRECISION = 0.01
"""Relative error of a quantile read back from the histogram."""
FLOOR = 1e-6
"""Values below this (a microsecond, in seconds) share the lowest bucket."""
CEILING = 86_400.0
"""Values above this (a day, in seconds) share the highest bucket; a quantile that lands
there reads as the exact maximum."""
_LOG_STEP = math.log1p(PRECISION)
_TOP = int(math.log(CEILING / FLOOR) / _LOG_STEP)
MAX_BUCKETS = _TOP + 1
"""The most buckets a distribution ever holds, whatever its count (~2 600)."""


@dataclass
class Distribution:
    """Non-negative samples in any one unit (seconds, milliseconds), summarised as they come."""

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
        """Fold `other` in, as if its samples had been added here."""
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
        """Buckets in use, the memory held: never more than MAX_BUCKETS."""
        return len(self._buckets)

    def quantile(self, q: float) -> float | None:
        """The value below which a fraction `q` of the samples lie (None without samples).

        The nearest-rank sample's bucket middle, clamped to the exact minimum and maximum,
        so that q=0 and q=1 are exact and one sample is its own median."""
        if not 0.0 <= q <= 1.0:
            raise ValueError(f"quantile {q} outside [0, 1]")
        if not self.count:
            return None
        if q == 0.0:
            return self.minimum
        rank = max(1, math.ceil(q * self.count))
        seen = 0
        for index in sorted(self._buckets):
            seen += self._buckets[index]
            if seen >= rank:
                return min(max(_middle(index), self.minimum), self.maximum)
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
    clamped = min(max(value, FLOOR), CEILING)
    return min(int(math.log(clamped / FLOOR) / _LOG_STEP), _TOP)


def _middle(index: int) -> float:
    """The geometric middle of a bucket; the top one's is infinite (the maximum is used)."""
    if index >= _TOP:
        return math.inf
    return FLOOR * math.exp((index + 0.5) * _LOG_STEP)
