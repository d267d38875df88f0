"""probe/experiments/runner.py: planned experiments run side by side under one budget;
not-run ones recorded with their reason; one still running at the deadline cancelled and
inconclusive. The families are replaced by plans of the test's own."""

from __future__ import annotations

import asyncio
import time

import pytest

from binance_diag.probe.experiments import runner
from binance_diag.probe.experiments.base import Planned, Verdict, not_run
from binance_diag.probe.experiments.catalogue import (
    INCONCLUSIVE,
    NOT_RUN,
    OTHER_PORT,
    REFUSAL,
    REPEAT,
    SMALL_MSS,
)
from binance_diag.probe.experiments.view import RunView
from binance_diag.timing import Deadline
from tests.probe.helpers import make_config
from tests.utils import MS

VIEW = RunView(make_config("wss://stream.binance.com:9443"), ())


async def answers(deadline: Deadline) -> Verdict:
    await asyncio.sleep(10 * MS)
    return Verdict("works", "it works", {"n": 1})


async def hangs(deadline: Deadline) -> Verdict:
    await asyncio.sleep(3600)
    raise AssertionError("unreachable")


async def breaks(deadline: Deadline) -> Verdict:
    raise ValueError("boom")


def families(*planned: Planned) -> tuple[object, ...]:
    return (lambda view: list(planned[:1]), lambda view: list(planned[1:]))


@pytest.mark.timeout(10)
def test_each_planned_experiment_gets_one_record_in_plan_order(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "FAMILIES", families(
        Planned(OTHER_PORT, "connect", hangs), not_run(REFUSAL, "read", "not run: why"),
        Planned(SMALL_MSS, "small", answers), Planned(REPEAT, "again", breaks)))
    said: list[str] = []
    budget = 300 * MS
    started = time.perf_counter()
    records = asyncio.run(runner.run_experiments(VIEW, budget, said.append))
    took = time.perf_counter() - started
    assert took < budget + 500 * MS, f"{took:.3f} s for a {budget} s budget"
    assert [r.name for r in records] == [OTHER_PORT, REFUSAL, SMALL_MSS, REPEAT]
    hung, skipped, ran, broke = records
    assert hung.outcome == INCONCLUSIVE and "still running" in hung.result
    assert skipped.outcome == NOT_RUN and skipped.result == "not run: why"
    assert ran.outcome == "works" and ran.details == {"n": 1} and ran.duration_ms
    assert broke.outcome == INCONCLUSIVE and broke.result == "ValueError: boom"
    assert f"experiment {REFUSAL}: not run: why" in said
    assert f"experiment {SMALL_MSS} started: small" in said
    assert runner.summary(records) == "3 experiment(s) run, 1 not run"


@pytest.mark.timeout(10)
def test_nothing_planned_is_nothing_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "FAMILIES", families())
    assert asyncio.run(runner.run_experiments(VIEW, 1.0)) == []


def test_the_real_families_plan_nothing_for_a_run_that_passed() -> None:
    assert runner.plan_experiments(VIEW) == []


async def outlives_its_cancel(deadline: Deadline) -> Verdict:
    """Swallows every cancellation, then fails after the runner stopped waiting."""
    end = time.perf_counter() + deadline.remaining() + runner.MARGIN + 100 * MS
    while (left := end - time.perf_counter()) > 0:
        try:
            await asyncio.sleep(left)
        except asyncio.CancelledError:
            pass
    raise TimeoutError("late")


@pytest.mark.timeout(10)
def test_an_experiment_that_ends_after_the_budget_is_never_an_unretrieved_exception(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "FAMILIES", families(Planned(OTHER_PORT, "x", outlives_its_cancel)))
    complaints: list[str] = []

    async def main() -> None:
        asyncio.get_running_loop().set_exception_handler(
            lambda loop, context: complaints.append(str(context.get("message"))))
        [record] = await runner.run_experiments(VIEW, 200 * MS)
        assert record.outcome == INCONCLUSIVE
        await asyncio.sleep(runner.MARGIN + 400 * MS)  # it ends with TimeoutError meanwhile
        import gc

        gc.collect()

    asyncio.run(main())
    assert not [c for c in complaints if "never retrieved" in c], complaints
