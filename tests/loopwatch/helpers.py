"""Events and reports built by hand for the loopwatch unit tests: no process, no pipe."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from binance_diag.loopwatch.report import EventLog, ExitStatus, LoopwatchReport, build_report
from binance_diag.loopwatch.wire import Event, Frame, WatchedBlockage

T0 = datetime(2026, 11, 25, 8, 41, 59, 784000, tzinfo=UTC)
SLEEP = Frame("bot.py", 12, "handler", "time.sleep(0.3)")
EXITED_0 = ExitStatus(0)


def blockage(key: str = "1@a", *, ms: float = 301.5, ended: bool = True,
             thread: str = "MainThread", where: str | None = "bot.py:12 in handler",
             trap: str | None = "time_sleep", at: datetime = T0,
             stack: tuple[Frame, ...] = (Frame("bot.py", 20, "main", "await handler()"), SLEEP),
             ) -> WatchedBlockage:
    return WatchedBlockage(key, thread, at, ms, ended, where, trap, stack)


def report(events: list[Event], *, exit_status: ExitStatus = EXITED_0,
           duration_s: float = 2.0) -> LoopwatchReport:
    log = EventLog()
    log.extend(events)
    return build_report(
        command=("python", "bot.py"), runs="script bot.py", started_at=T0 - timedelta(seconds=1),
        duration_s=duration_s, exit_status=exit_status, threshold_ms=100.0, interval_ms=50.0,
        log=log, tool_version="0.1.0", generated_at=T0 + timedelta(seconds=2),
    )
