"""What the agent inside the program sends (loopwatch/agent.py), without a process."""

from __future__ import annotations

from binance_diag.loopwatch.agent import blockage_event
from binance_diag.loopwatch.wire import WatchedBlockage
from binance_diag.watchdog.loop import LoopBlockage
from tests.loopwatch.helpers import SLEEP, T0


def test_a_watchdog_snapshot_becomes_a_blockage_event_keyed_by_thread_and_start() -> None:
    snapshot = LoopBlockage(T0, 150.1234, None, ("bot.py:12 in handler: time.sleep(0.3)",),
                            "bot.py:12 in handler", "time_sleep", "hint", ended=False)
    event = blockage_event(5, "MainThread", snapshot)
    assert event == WatchedBlockage(f"5@{T0.isoformat()}", "MainThread", T0, 150.123, False,
                                    "bot.py:12 in handler", "time_sleep", (SLEEP,))
