"""Bounded streaming statistics for `--duration`: median, p99 and max of the gaps between
events, in constant memory whatever the message rate.

Pure. A log-bucketed histogram (the idea of HdrHistogram): a gap falls in bucket
`floor(log(gap / FLOOR) / log(1 + PRECISION))`, so a quantile read back from a bucket is
within PRECISION (1 %) of the true value, and the number of buckets is bounded by the range
of gaps, not their count: from 1 µs to a day, at most ~2 600 buckets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

PRECISION = 0.01
"""Relative error of a quantile read back from the histogram."""
FLOOR = 1e-6
"""Seconds: gaps shorter than this (one microsecond) count as this."""
CEILING = 86_400.0
"""Seconds: gaps longer than a day count as a day (the max is kept exactly)."""
_LOG_STEP = math.log1p(PRECISION)
MAX_BUCKETS = int(math.log(CEILING / FLOOR) / _LOG_STEP) + 1


@dataclass
class GapStats:
    """Gaps in seconds, fed one at a time; count, max exactly; quantiles within 1 %."""

    count: int = 0
    maximum: float = 0.0
    _buckets: dict[int, int] = field(default_factory=dict, repr=False)

    def add(self, gap: float) -> None:
        self.count += 1
        self.maximum = max(self.maximum, gap)
        clamped = min(max(gap, FLOOR), CEILING)
        index = int(math.log(clamped / FLOOR) / _LOG_STEP)
        self._buckets[index] = self._buckets.get(index, 0) + 1

    @property
    def buckets(self) -> int:
        """Buckets in use: never more than MAX_BUCKETS."""
        return len(self._buckets)

    def quantile(self, q: float) -> float | None:
        """The q-quantile (0..1) in seconds, None without gaps: the middle of its bucket,
        never more than the exact maximum."""
        if not self.count:
            return None
        rank = max(1, math.ceil(q * self.count))
        seen = 0
        for index in sorted(self._buckets):
            seen += self._buckets[index]
            if seen >= rank:
                middle = FLOOR * math.exp((index + 0.5) * _LOG_STEP)
                return min(middle, self.maximum)
        return self.maximum
