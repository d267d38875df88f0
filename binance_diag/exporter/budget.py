"""How long a scrape's probe may take: blackbox_exporter's rule, then the stages fitted in it.

Prometheus says how long it will wait (`X-Prometheus-Scrape-Timeout-Seconds`); the probe gets
that minus `--timeout-offset` (the answer's way back), or the module's own `timeout` when
shorter - blackbox's `getTimeout`, to the letter. Our probe has a timeout per stage and runs
are bounded by their sum, plus the follow-up experiments' budget when the module runs them
(they come after the stages); so when the sum does not fit, every stage's timeout and the
experiments' budget are scaled by one factor: a stage that hangs still ends on its own
timeout, diagnosed as such, and the experiments after it still end on theirs, before
Prometheus gives up on the scrape.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from ..config.timeouts import Timeouts
from ..model import StageName
from ..probe.budget import stage_budget

SCRAPE_TIMEOUT_HEADER = "X-Prometheus-Scrape-Timeout-Seconds"
DEFAULT_SCRAPE_TIMEOUT = 120.0
"""What blackbox assumes when a scrape sends no header (a person with curl)."""
DEFAULT_TIMEOUT_OFFSET = 0.5
"""blackbox's `--timeout-offset` default."""
RESERVE = 0.3
"""Seconds of the budget kept out of the stages: a stage overrunning before it is cancelled,
closing the connection, diagnosing and rendering."""
RESERVE_SHARE = 0.2
"""...but never more than this share of a short budget."""


def scrape_budget(header: str | None, module_timeout: float | None,
                  offset: float = DEFAULT_TIMEOUT_OFFSET) -> float:
    """Seconds the probe may take (ValueError for a header that is not a positive number)."""
    scrape = DEFAULT_SCRAPE_TIMEOUT
    if header is not None and header.strip():
        scrape = float(header)
        if not 0 < scrape < float("inf"):  # NaN fails too
            raise ValueError(f"{SCRAPE_TIMEOUT_HEADER} must be a positive number of seconds")
    budget = scrape - offset
    if module_timeout is not None and (module_timeout < budget or budget <= 0):
        return module_timeout
    return budget


@dataclass(frozen=True)
class FittedTimeouts:
    timeouts: Timeouts
    factor: float
    """1.0 when the module's timeouts fit as they are."""
    experiments: float | None = None
    """The experiments' budget, scaled by the same factor (None: none run)."""


def fit_timeouts(timeouts: Timeouts, budget: float, stages: Iterable[StageName],
                 experiments: float | None = None) -> FittedTimeouts:
    """The stage timeouts (and the experiments' budget) scaled so that those of `stages`
    plus the experiments add up to the budget less the reserve; unchanged when they already
    do. The experiments get a reserve of their own: after a stage overran its timeout, they
    may overrun theirs by as much (probe/budget.py's supervision margin)."""
    stages = tuple(stages)
    total = sum(timeouts.for_stage(stage) for stage in stages) + (experiments or 0.0)
    reserve = min(RESERVE, budget * RESERVE_SHARE)
    if experiments:
        reserve += min(stage_budget(0.0), budget * RESERVE_SHARE)
    room = budget - reserve
    if total <= room or total <= 0:
        return FittedTimeouts(timeouts, 1.0, experiments)
    factor = room / total
    scaled = {stage.value: round(timeouts.for_stage(stage) * factor, 6) for stage in StageName}
    return FittedTimeouts(replace(timeouts, **scaled), factor,
                          round(experiments * factor, 6) if experiments else None)
