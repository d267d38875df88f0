"""The hold's gap statistics: the package's one bounded distribution (binance_diag/stats.py).

Only names: probe/hold.py imports `GapStats` from here; new code imports
`binance_diag.stats.Distribution`.
"""

from __future__ import annotations

from ..stats import CEILING, FLOOR, MAX_BUCKETS, PRECISION
from ..stats import Distribution as GapStats

__all__ = ["CEILING", "FLOOR", "MAX_BUCKETS", "PRECISION", "GapStats"]
