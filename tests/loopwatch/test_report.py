"""The report built from the pipe's events: exit status, last snapshots, thread figures
(loopwatch/report.py)."""

from __future__ import annotations

import pytest

from binance_diag.loopwatch.report import EventLog, ExitStatus, closed_by_program
from binance_diag.loopwatch.wire import Bye, Hello, LoopSeen, ThreadStats
from tests.loopwatch.helpers import blockage, report


def test_exit_statuses_follow_the_shell() -> None:
    assert ExitStatus.from_returncode(7) == ExitStatus(7)
    killed = ExitStatus.from_returncode(-15)
    assert (killed.status, killed.signal_name, killed.describe()) == (
        143, "SIGTERM", "was killed by SIGTERM")


def test_the_last_snapshot_of_a_blockage_wins_and_stats_fill_the_threads() -> None:
    result = report([Hello(9, "3.11.7"), LoopSeen("MainThread", 1),
                     blockage(ms=100, ended=False), blockage(ms=301.5),
                     LoopSeen("MainThread", 2), ThreadStats("MainThread", 2, 301.5, 3.0, 40)])
    assert result.attached and result.pid == 9
    assert result.blockages == (blockage(ms=301.5),)
    assert (result.loops, result.max_lag_ms, result.p99_lag_ms, result.heartbeats) == (
        2, 301.5, 3.0, 40)


def test_a_blockage_open_at_the_end_lasted_until_the_program_ended() -> None:
    result = report([Hello(9, "3.11.7"), LoopSeen("MainThread", 1),
                     blockage(ms=100, ended=False)], duration_s=4.0)
    [open_blockage] = result.blockages
    assert open_blockage.duration_ms == 3000.0  # the program ran until T0 + 3 s
    assert result.heartbeats is None and result.max_lag_ms == 3000.0
    # Killed before its stats came: the thread still shows the lag its blockage measured.
    [thread] = result.threads
    assert thread.max_lag_ms == 3000.0 and thread.p99_lag_ms is None


@pytest.mark.parametrize(("events", "closed_at", "ended_at", "after"), [
    ([Hello(9, "3.12")], 3.0, 10.0, 2.0),  # closed, and the program ran on for 7 s
    ([Hello(9, "3.12")], 9.9, 10.0, None),  # closed as it died (a signal, os._exit)
    ([Hello(9, "3.12"), Bye()], 3.0, 10.0, None),  # the agent's own close at exit
    ([Hello(9, "3.12")], None, 10.0, None),  # never closed (a grandchild holds it)
])
def test_a_pipe_closed_by_the_program_is_told_from_an_exit(
        events: list[Bye | Hello], closed_at: float | None, ended_at: float,
        after: float | None) -> None:
    log = EventLog(closed_at=closed_at)
    log.extend(events)
    assert closed_by_program(log, 1.0, ended_at, margin=0.25) == after
