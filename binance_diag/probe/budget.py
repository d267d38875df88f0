"""What a run may take, in one place: each stage's supervised budget and the whole run's.

Theory of operation: a stage has its timeout (an absolute deadline). The runner lets it report
its own timeout for `SUPERVISION_MARGIN` more, then cancels it and waits `CANCEL_GRACE` for it
to unwind: that is `stage_budget`. The hard deadline acts only after a stage's budget plus the
user's `--deadline-grace` (config.guard.DEFAULT_GRACE), and the faulthandler backstop
`BACKSTOP_MARGIN` after the whole run's budget. `run_budget` is the declared total that no
network behaviour can stretch.
"""

from __future__ import annotations

from ..config.guard import DEFAULT_GRACE
from ..config.probe import ProbeConfig
from ..model import StageName

SUPERVISION_MARGIN = 0.05
"""How long past its deadline a stage may take to report its own timeout before it is cancelled."""
CANCEL_GRACE = 0.2
"""How long a cancelled stage may take to unwind before it is abandoned."""
REPORT_ALLOWANCE = 1.0
"""Seconds the budget keeps for closing the connection and writing the report."""
BACKSTOP_MARGIN = 2.0
"""Seconds past the whole run's budget (grace included) before faulthandler kills it."""


def stage_budget(timeout: float) -> float:
    """The most a stage (or the hold) with this timeout may take under supervision."""
    return timeout + SUPERVISION_MARGIN + CANCEL_GRACE


def run_budget(config: ProbeConfig, grace: float = DEFAULT_GRACE) -> float:
    """Seconds the whole probe may take: every stage's supervised budget, the hold, one
    grace, the experiments, and time to report. Nothing the network does makes a run longer."""
    stages = sum(stage_budget(config.timeouts.for_stage(name)) for name in StageName)
    return (stages + stage_budget(config.hold or 0.0) + experiments_budget(config) + grace
            + REPORT_ALLOWANCE)


def experiments_budget(config: ProbeConfig) -> float:
    """The most the follow-up experiments (`--experiments-timeout`) may take under
    supervision; 0 when they are off."""
    return stage_budget(config.experiments) if config.experiments else 0.0
