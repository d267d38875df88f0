"""The one budget: a stage's supervised time and the declared total of a run."""

from __future__ import annotations

from binance_diag.config.guard import DEFAULT_GRACE
from binance_diag.config.timeouts import Timeouts
from binance_diag.model import StageName
from binance_diag.probe.budget import (
    CANCEL_GRACE,
    REPORT_ALLOWANCE,
    SUPERVISION_MARGIN,
    run_budget,
    stage_budget,
)
from tests.probe.helpers import make_config


def test_a_stage_may_report_its_own_timeout_then_unwind_and_no_more() -> None:
    assert stage_budget(2.0) == 2.0 + SUPERVISION_MARGIN + CANCEL_GRACE
    assert stage_budget(0.0) == SUPERVISION_MARGIN + CANCEL_GRACE


def test_the_run_budget_is_every_stage_the_hold_one_grace_and_the_report() -> None:
    config = make_config("ws://127.0.0.1:9")
    timeouts: Timeouts = config.timeouts
    stages = sum(stage_budget(timeouts.for_stage(name)) for name in StageName)
    assert run_budget(config) == stages + stage_budget(0.0) + DEFAULT_GRACE + REPORT_ALLOWANCE
    assert run_budget(config, grace=2.0) == run_budget(config) - DEFAULT_GRACE + 2.0
