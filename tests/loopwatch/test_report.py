"""The report built from the pipe's events: exit status, last snapshots, thread figures
(loopwatch/report.py)."""

from __future__ import annotations

from binance_diag.loopwatch.report import ExitStatus
from binance_diag.loopwatch.wire import Hello, LoopSeen, ThreadStats
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
