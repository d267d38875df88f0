from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import pytest

from binance_diag.timing import format_seconds
from binance_diag.watchdog.supervise import (
    Outcome,
    Verdict,
    abandoned_tasks,
    run_abandoning,
    run_supervised,
)
from tests.utils import MS, run_python

ROOT = Path(__file__).resolve().parents[1]
SLACK = 40 * MS


def next_line() -> int:
    return sys._getframe(1).f_lineno + 1


async def stubborn() -> None:
    """Catches its cancellation and keeps awaiting: what defeats wait_for and timeout()."""
    while True:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            continue


STUBBORN_LINE = stubborn.__code__.co_firstlineno + 4


@pytest.mark.timeout(5)
def test_a_result_in_time_is_completed() -> None:
    async def answer() -> int:
        await asyncio.sleep(10 * MS)
        return 42

    outcome = run_abandoning(run_supervised(answer(), timeout=500 * MS))
    assert (outcome.verdict, outcome.result, outcome.exception) == (Verdict.COMPLETED, 42, None)
    assert outcome.elapsed_s < 500 * MS
    assert outcome.message.startswith("completed in")


@pytest.mark.timeout(5)
def test_an_exception_in_time_is_failed() -> None:
    async def broken() -> None:
        raise ConnectionResetError("peer reset")

    outcome = run_abandoning(run_supervised(broken(), timeout=500 * MS))
    assert outcome.verdict is Verdict.FAILED
    assert isinstance(outcome.exception, ConnectionResetError)


@pytest.mark.timeout(5)
def test_a_task_that_unwinds_is_timed_out_at_its_timeout() -> None:
    outcome = run_abandoning(run_supervised(asyncio.sleep(10), timeout=100 * MS, grace=500 * MS))
    assert outcome.verdict is Verdict.TIMED_OUT
    assert not outcome.cancellation_ignored
    assert 100 * MS <= outcome.elapsed_s <= 100 * MS + SLACK
    assert outcome.message == f"timed out after {format_seconds(100 * MS)} (cancelled)"


@pytest.mark.timeout(5)
def test_a_task_ignoring_its_cancellation_is_abandoned_on_time_with_its_place() -> None:
    async def main() -> Outcome[None]:
        outcome = await run_supervised(stubborn(), timeout=100 * MS, grace=100 * MS)
        assert outcome.task is not None and not outcome.task.done()  # still there, left behind
        assert outcome.task in abandoned_tasks()
        return outcome

    started = time.perf_counter()
    outcome = run_abandoning(main())
    assert time.perf_counter() - started < 200 * MS + SLACK  # the exit did not wait for it
    assert outcome.verdict is Verdict.ABANDONED
    assert outcome.cancellation_ignored
    assert 200 * MS <= outcome.elapsed_s <= 200 * MS + SLACK
    where = f"{__file__}:{STUBBORN_LINE} in stubborn"
    assert outcome.where == where
    assert outcome.message == (
        f"timed out after {format_seconds(100 * MS)}; cancellation ignored; abandoned at {where}"
    )


@pytest.mark.timeout(5)
def test_the_place_is_the_innermost_await_not_the_task_entry() -> None:
    lines: list[int] = []

    async def inner() -> None:
        while True:
            try:
                lines.append(next_line())
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                pass

    async def outer() -> None:
        await inner()

    outcome = run_abandoning(run_supervised(outer(), timeout=50 * MS, grace=50 * MS))
    assert outcome.where == f"{__file__}:{lines[-1]} in inner"
    assert [frame.split(" in ")[1].split(":")[0] for frame in outcome.stack] == [
        "outer", "inner", "wait"
    ]


@pytest.mark.timeout(5)
def test_the_place_is_found_through_an_awaited_task() -> None:
    async def outer() -> None:
        await asyncio.create_task(stubborn())

    async def main() -> Outcome[None]:
        return await run_supervised(outer(), timeout=50 * MS, grace=50 * MS)

    outcome = run_abandoning(main(), cancel_grace=50 * MS)
    assert outcome.where == f"{__file__}:{STUBBORN_LINE} in stubborn"


@pytest.mark.timeout(5)
def test_a_task_that_swallows_cancellation_but_ends_in_the_grace_is_timed_out() -> None:
    async def returns_anyway() -> str:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            await asyncio.sleep(20 * MS)
        return "late"

    outcome = run_abandoning(run_supervised(returns_anyway(), timeout=50 * MS, grace=500 * MS))
    assert (outcome.verdict, outcome.result) == (Verdict.TIMED_OUT, "late")
    assert outcome.cancellation_ignored
    assert outcome.elapsed_s < 50 * MS + 20 * MS + SLACK


@pytest.mark.timeout(5)
def test_cancelling_the_supervisor_cancels_the_task() -> None:
    async def main() -> bool:
        task = asyncio.ensure_future(asyncio.sleep(10))
        supervisor = asyncio.ensure_future(run_supervised(task, timeout=5))
        await asyncio.sleep(20 * MS)
        supervisor.cancel()
        with pytest.raises(asyncio.CancelledError):
            await supervisor
        await asyncio.sleep(0)
        return task.cancelled()

    assert run_abandoning(main())


@pytest.mark.timeout(5)
def test_run_abandoning_returns_despite_a_stubborn_leftover_task() -> None:
    async def main() -> str:
        asyncio.create_task(stubborn())  # never awaited, never ends
        await asyncio.sleep(10 * MS)
        return "done"

    started = time.perf_counter()
    assert run_abandoning(main(), cancel_grace=100 * MS) == "done"
    assert time.perf_counter() - started < 10 * MS + 100 * MS + SLACK


PROGRAM = f"""
import asyncio, time
from binance_diag.watchdog.supervise import run_and_exit, run_supervised

async def stubborn():
    while True:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            continue

async def main():
    loop = asyncio.get_running_loop()
    loop.run_in_executor(None, time.sleep, 30)  # a thread stuck in a call, like getaddrinfo
    outcome = await run_supervised(stubborn(), timeout={50 * MS}, grace={50 * MS})
    print(outcome.verdict, flush=True)
    return 2
"""


@pytest.mark.timeout(5)
def test_plain_asyncio_run_hangs_after_a_task_is_abandoned() -> None:
    """The trap run_and_exit exists for: asyncio.run waits for every task at shutdown."""
    with pytest.raises(subprocess.TimeoutExpired) as hung:
        run_python(PROGRAM + "asyncio.run(main())\n", timeout=800 * MS)
    assert hung.value.stdout == b"abandoned\n"


@pytest.mark.timeout(5)
def test_plain_wait_for_never_times_out_on_a_task_ignoring_cancellation() -> None:
    """The seed incident's trap, kept as evidence: wait_for(…, 0.1) never returns."""
    with pytest.raises(subprocess.TimeoutExpired):
        run_python(PROGRAM + f"""
async def seed():
    await asyncio.wait_for(stubborn(), {100 * MS})
asyncio.run(seed())
""", timeout=800 * MS)


@pytest.mark.timeout(5)
def test_run_and_exit_exits_with_mains_status_despite_abandoned_tasks_and_threads() -> None:
    process, elapsed = run_python(PROGRAM + "run_and_exit(main())\n", timeout=3000 * MS)
    assert (process.returncode, process.stdout) == (2, "abandoned\n")
    assert process.stderr == ""  # no "Task was destroyed but it is pending!"
    assert elapsed < 1000 * MS


@pytest.mark.timeout(5)
def test_run_and_exit_exits_normally_when_nothing_is_stuck() -> None:
    process, _ = run_python(
        """
        import asyncio, atexit
        from binance_diag.watchdog.supervise import run_and_exit
        atexit.register(lambda: print("atexit ran"))

        async def main():
            await asyncio.get_running_loop().run_in_executor(None, sum, [1, 2])
            return None

        run_and_exit(main())
        """,
        timeout=3000 * MS,
    )
    assert (process.returncode, process.stdout, process.stderr) == (0, "atexit ran\n", "")


@pytest.mark.timeout(5)
def test_run_and_exit_reports_an_exception_from_main_with_status_1() -> None:
    process, _ = run_python(
        """
        from binance_diag.watchdog.supervise import run_and_exit

        async def main():
            raise ValueError("boom")

        run_and_exit(main())
        """,
        timeout=3000 * MS,
    )
    assert process.returncode == 1
    assert process.stderr.rstrip().endswith("ValueError: boom")
