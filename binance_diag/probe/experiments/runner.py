"""Picks the experiments from what failed (or was slow) and runs them under one budget.

Theory of operation: each family module (mss, hello, alternatives, tunnel, refusal, repeat,
clock) looks at the finished run (`RunView`) and plans what can tell its alternatives apart;
the runner runs every planned experiment side by side, each bounded by the one deadline
(`--experiments-timeout`), records the ones it may not run with the reason, and turns
verdicts into `Experiment` records. An experiment still running at the deadline is
cancelled and recorded as inconclusive: the budget is never overrun.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence

from ...model import Experiment
from ...timing import Deadline, utc_now
from . import alternatives, clock, hello, mss, refusal, repeat, tunnel
from .base import Planned, Verdict
from .catalogue import INCONCLUSIVE, NOT_RUN
from .view import RunView

FAMILIES: tuple[Callable[[RunView], list[Planned]], ...] = (
    tunnel.plan, mss.plan, hello.plan, alternatives.plan, refusal.plan, repeat.plan,
    clock.plan,
)
MARGIN = 0.02
"""Seconds before the budget's end when experiments still running are cancelled."""


def plan_experiments(view: RunView) -> list[Planned]:
    """Every experiment this run calls for, in a stable order."""
    return [planned for family in FAMILIES for planned in family(view)]


async def run_experiments(view: RunView, budget: float,
                          on_event: Callable[[str], None] | None = None) -> list[Experiment]:
    """Run the planned experiments within `budget` seconds; one record each."""
    say = on_event or (lambda text: None)
    deadline = Deadline(budget)
    planned = plan_experiments(view)
    records: list[Experiment | None] = [None] * len(planned)
    tasks: dict[asyncio.Task[Verdict], int] = {}
    started: dict[int, tuple[float, object]] = {}
    for index, item in enumerate(planned):
        if item.run is None:
            records[index] = Experiment(item.name, item.question, item.action, NOT_RUN,
                                        item.reason)
            say(f"experiment {item.name}: {item.reason}")
            continue
        say(f"experiment {item.name} started: {item.action}")
        started[index] = (time.perf_counter(), utc_now())
        task = asyncio.ensure_future(_bounded(item, deadline))
        task.add_done_callback(_retrieve)  # whenever it ends, even after we stopped waiting
        tasks[task] = index
    if tasks:
        try:
            _, pending = await asyncio.wait(tasks, timeout=max(deadline.remaining() - MARGIN,
                                                               0.0))
        finally:  # also when the run itself is cancelled (Ctrl-C): no experiment outlives it
            for task in tasks:
                task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=MARGIN)
        for task, index in tasks.items():
            verdict = _verdict(task, budget)
            began, at = started[index]
            item = planned[index]
            records[index] = Experiment(
                item.name, item.question, item.action, verdict.outcome, verdict.result,
                at,  # type: ignore[arg-type]
                round((time.perf_counter() - began) * 1000, 3), dict(verdict.details))
            say(f"experiment {item.name}: {verdict.outcome}")
    return [record for record in records if record is not None]


async def _bounded(item: Planned, deadline: Deadline) -> Verdict:
    assert item.run is not None
    async with asyncio.timeout(max(deadline.remaining() - MARGIN, 0.0)):
        return await item.run(deadline)


def _retrieve(task: asyncio.Task[Verdict]) -> None:
    """Read how an experiment ended, so that one abandoned past the budget is never logged
    as "Task exception was never retrieved"; its verdict is already inconclusive."""
    if not task.cancelled():
        task.exception()


def _verdict(task: asyncio.Task[Verdict], budget: float) -> Verdict:
    if not task.done() or task.cancelled():
        return Verdict(INCONCLUSIVE, f"still running at the end of the {budget:g} s budget")
    exc = task.exception()
    if isinstance(exc, TimeoutError):
        return Verdict(INCONCLUSIVE, f"still running at the end of the {budget:g} s budget")
    if exc is not None:
        return Verdict(INCONCLUSIVE, f"{type(exc).__name__}: {exc}")
    return task.result()


def summary(experiments: Sequence[Experiment]) -> str:
    ran = [e for e in experiments if e.ran]
    return f"{len(ran)} experiment(s) run, {len(experiments) - len(ran)} not run"
