"""How long a scrape's probe may take: blackbox_exporter's rule, then the stages fitted in it.

Prometheus says how long it will wait (`X-Prometheus-Scrape-Timeout-Seconds`); the probe gets
that minus `--timeout-offset` (the answer's way back), or the module's own `timeout` when
shorter - blackbox's `getTimeout`, to the letter. Our probe has a timeout per stage and runs
are bounded by their sum, so when the sum does not fit, every stage's timeout is scaled by
one factor: a stage that hangs still ends on its own timeout, diagnosed as such, before
Prometheus gives up on the scrape.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from ..config.timeouts import Timeouts
from ..model import StageName

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


def fit_timeouts(timeouts: Timeouts, budget: float, stages: Iterable[StageName]
                 ) -> FittedTimeouts:
    """The stage timeouts scaled so that those of `stages` add up to the budget less the
    reserve; unchanged when they already do."""
    stages = tuple(stages)
    total = sum(timeouts.for_stage(stage) for stage in stages)
    room = budget - min(RESERVE, budget * RESERVE_SHARE)
    if total <= room or total <= 0:
        return FittedTimeouts(timeouts, 1.0)
    factor = room / total
    scaled = {stage.value: round(timeouts.for_stage(stage) * factor, 6) for stage in StageName}
    return FittedTimeouts(replace(timeouts, **scaled), factor)
