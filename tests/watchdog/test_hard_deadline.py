from __future__ import annotations

import asyncio
import sys
import threading
import time
from pathlib import Path

import pytest

from binance_diag.model import StageName
from binance_diag.watchdog.hard_deadline import DeadlineExpiry, ExpiryCause, HardDeadline
from binance_diag.watchdog.loop import LoopWatchdog
from tests.utils import MS, run_python

ROOT = Path(__file__).resolve().parents[1]
SLACK = 40 * MS


def next_line() -> int:
    return sys._getframe(1).f_lineno + 1


class Fired:
    """Records what a deadline callback saw, and from which thread, when."""

    def __init__(self) -> None:
        self.calls: list[tuple[DeadlineExpiry, int, float]] = []

    def __call__(self, expiry: DeadlineExpiry) -> None:
        self.calls.append((expiry, threading.get_ident(), time.perf_counter()))


@pytest.mark.timeout(5)
def test_fires_from_its_thread_while_the_loop_is_blocked() -> None:
    fired = Fired()
    lines: list[int] = []

    async def main() -> tuple[float, float]:
        with HardDeadline(100 * MS, fired, grace=100 * MS, label=StageName.TLS):
            started = time.perf_counter()
            lines.append(next_line())
            time.sleep(500 * MS)
            return started, time.perf_counter()

    started, unblocked = asyncio.run(main())

    [(expiry, thread, at)] = fired.calls
    assert thread != threading.get_ident()
    assert at < unblocked  # it did not wait for the loop
    assert 200 * MS - SLACK / 4 <= at - started <= 200 * MS + SLACK
    assert expiry.cause is ExpiryCause.LOOP_BLOCKED
    assert expiry.label is StageName.TLS
    assert expiry.where == f"{__file__}:{lines[0]} in main"
    assert expiry.stack[-1] == f"{__file__}:{lines[0]} in main: time.sleep(500 * MS)"
    assert expiry.blocked_for_s is not None and expiry.blocked_for_s >= 100 * MS
    assert expiry.hint is not None and "asyncio.sleep" in expiry.hint
    assert expiry.reason.startswith("tls outlived its deadline")
    assert "event loop was blocked for at least" in expiry.reason
    assert f"test_hard_deadline.py:{lines[0]} in main" in expiry.reason


@pytest.mark.timeout(5)
def test_says_the_task_ignored_its_cancellation_when_the_loop_runs() -> None:
    fired = Fired()
    lines: list[int] = []

    async def stubborn(release: asyncio.Event) -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            lines.append(next_line())
            await release.wait()

    async def main() -> None:
        release = asyncio.Event()
        task = asyncio.create_task(stubborn(release))
        with HardDeadline(100 * MS, fired, grace=100 * MS, task=task):
            await asyncio.sleep(100 * MS)
            task.cancel()  # what a supervisor does at the timeout
            await asyncio.sleep(200 * MS)
        release.set()
        await task

    asyncio.run(main())

    [(expiry, _, _)] = fired.calls
    assert expiry.cause is ExpiryCause.CANCELLATION_IGNORED
    assert "event loop was running, but the task ignored its cancellation" in expiry.reason
    assert expiry.where == f"{__file__}:{lines[0]} in stubborn"
    assert expiry.blocked_for_s is None and expiry.hint is None


@pytest.mark.timeout(5)
def test_a_cancelled_deadline_never_fires() -> None:
    fired = Fired()

    async def main() -> None:
        deadline = HardDeadline(50 * MS, fired, grace=50 * MS).start()
        await asyncio.sleep(20 * MS)
        deadline.cancel()
        await asyncio.sleep(150 * MS)
        assert not deadline.expired

    asyncio.run(main())
    assert fired.calls == []


@pytest.mark.timeout(5)
def test_with_a_watchdog_the_stats_say_the_deadline_was_enforced() -> None:
    fired = Fired()

    async def main() -> LoopWatchdog:
        async with LoopWatchdog(100 * MS, 10 * MS, logger=None) as wd:
            await asyncio.sleep(20 * MS)
            with HardDeadline(100 * MS, fired, grace=100 * MS, watchdog=wd):
                time.sleep(400 * MS)
            await asyncio.sleep(20 * MS)
        return wd

    wd = asyncio.run(main())
    [(expiry, _, _)] = fired.calls
    assert expiry.cause is ExpiryCause.LOOP_BLOCKED
    assert expiry.blocked_for_s is not None and expiry.blocked_for_s >= 190 * MS
    assert wd.stats().deadline_enforced_by_watchdog
    assert len(wd.blockages) == 1


@pytest.mark.timeout(10)
def test_the_backstop_kills_a_process_stuck_in_a_c_call_holding_the_gil() -> None:
    # sum() over a huge range runs in C and never releases the GIL: no Python thread (and so no
    # HardDeadline) could run, and Ctrl-C would not be seen either.
    process, elapsed = run_python(
        f"""
        from binance_diag.watchdog.hard_deadline import Backstop
        Backstop({300 * MS}).arm()
        sum(range(10**15))
        """,
        timeout=3000 * MS,
    )
    assert process.returncode == 1  # faulthandler's exit status, fixed
    assert elapsed < 300 * MS + 1000 * MS
    assert "Timeout (0:00:00" in process.stderr
    assert 'File "<string>", line 4' in process.stderr


@pytest.mark.timeout(10)
def test_only_the_owner_of_the_process_wide_timer_can_disarm_it() -> None:
    process, elapsed = run_python(
        f"""
        import time
        from binance_diag.watchdog.hard_deadline import Backstop
        first = Backstop({200 * MS}).arm()
        second = Backstop({400 * MS}).arm()  # replaces the first: one timer per process
        first.disarm()  # not the owner any more: must leave the second armed
        assert second.armed and not first.armed
        time.sleep({3000 * MS})
        """,
        timeout=3000 * MS,
    )
    assert process.returncode == 1, process.stderr
    assert 400 * MS - SLACK <= elapsed < 400 * MS + 1000 * MS


@pytest.mark.timeout(5)
def test_a_disarmed_backstop_lets_the_process_live() -> None:
    process, _ = run_python(
        f"""
        import time
        from binance_diag.watchdog.hard_deadline import Backstop
        with Backstop({100 * MS}):
            pass
        time.sleep({300 * MS})
        print("alive")
        """,
        timeout=3000 * MS,
    )
    assert (process.returncode, process.stdout) == (0, "alive\n")
