from __future__ import annotations

import asyncio
import socket
import sys
import threading
import time

import pytest

from binance_diag.model import Blockage, StageName
from binance_diag.watchdog.loop import LoopBlockage, LoopWatchdog
from tests.utils import MS

THRESHOLD = 100 * MS
INTERVAL = 10 * MS
SLACK = 40 * MS
"""Scheduling noise allowed on a measured time (a GIL switch is 5 ms; CI is slower)."""


def next_line() -> int:
    """The caller's next line: the one a blockage's stack must name."""
    return sys._getframe(1).f_lineno + 1


def watchdog() -> LoopWatchdog:
    return LoopWatchdog(threshold=THRESHOLD, interval=INTERVAL, logger=None)


@pytest.mark.timeout(5)
def test_time_sleep_in_a_coroutine_is_one_blockage_at_the_sleeping_line() -> None:
    where: list[int] = []

    async def main(wd: LoopWatchdog) -> None:
        await asyncio.sleep(50 * MS)  # the watchdog finds the loop
        wd.stage = StageName.TLS
        where.append(next_line())
        time.sleep(300 * MS)
        wd.stage = None
        await asyncio.sleep(50 * MS)  # the watchdog sees the loop recover

    with watchdog() as wd:
        asyncio.run(main(wd))

    [blockage] = wd.blockages
    assert blockage.ended
    assert 300 * MS - INTERVAL - SLACK <= blockage.duration_ms / 1000 <= 300 * MS + SLACK
    assert blockage.stage is StageName.TLS
    assert blockage.stack[-1] == f"{__file__}:{where[0]} in main: time.sleep(300 * MS)"
    assert blockage.where == f"{__file__}:{where[0]} in main"
    assert blockage.trap == "time_sleep"
    assert blockage.hint is not None and "asyncio.sleep" in blockage.hint
    assert blockage.started_at.tzinfo is not None
    stats = wd.stats()
    assert stats.max_lag_ms == pytest.approx(blockage.duration_ms, abs=1)
    assert stats.blockages == (
        Blockage(blockage.started_at, round(blockage.duration_ms, 3), StageName.TLS,
                 blockage.stack, where=blockage.where, trap="time_sleep", hint=blockage.hint),
    )
    assert stats.monitored and stats.heartbeats > 0
    assert (stats.interval_ms, stats.threshold_ms) == (INTERVAL * 1000, wd.threshold * 1000)


@pytest.mark.timeout(5)
def test_cpu_bound_code_is_a_blockage_at_the_busy_line() -> None:
    where: list[int] = []

    async def main() -> None:
        await asyncio.sleep(50 * MS)
        until = time.perf_counter() + 250 * MS
        where.append(next_line())
        while time.perf_counter() < until: pass  # noqa: E701
        await asyncio.sleep(50 * MS)

    with watchdog() as wd:
        asyncio.run(main())

    [blockage] = wd.blockages
    assert 250 * MS - INTERVAL - SLACK <= blockage.duration_ms / 1000 <= 250 * MS + SLACK
    assert blockage.where == f"{__file__}:{where[0]} in main"
    assert blockage.trap is None and blockage.hint is None


@pytest.mark.timeout(5)
def test_a_healthy_busy_loop_records_lag_but_no_blockage() -> None:
    async def main() -> None:
        # A busy loop can keep the watchdog thread from the GIL (see watchdog.py), and the sync
        # form needs that thread to find the loop: let it, as a program's start-up would.
        await asyncio.sleep(30 * MS)
        loop = asyncio.get_running_loop()
        until = time.perf_counter() + 300 * MS
        while time.perf_counter() < until:
            for _ in range(100):
                loop.call_soon(lambda: None)
            await asyncio.sleep(0)

    with watchdog() as wd:
        asyncio.run(main())

    assert wd.blockages == ()
    assert 0 < wd.p99_lag_ms <= wd.max_lag_ms < THRESHOLD * 1000
    assert wd.stats().blockages == ()


@pytest.mark.timeout(5)
def test_attached_from_inside_a_busy_loop_it_measures_at_once() -> None:
    async def main() -> LoopWatchdog:
        loop = asyncio.get_running_loop()
        async with watchdog() as wd:
            until = time.perf_counter() + 200 * MS
            while time.perf_counter() < until:
                for _ in range(100):
                    loop.call_soon(lambda: None)
                await asyncio.sleep(0)
        return wd

    wd = asyncio.run(main())
    assert wd.blockages == ()
    assert 0 < wd.p99_lag_ms < THRESHOLD * 1000


@pytest.mark.timeout(5)
def test_detection_comes_within_threshold_plus_one_interval() -> None:
    interval = 50 * MS
    detected: list[float] = []
    started: list[float] = []

    def on_blockage(blockage: LoopBlockage) -> None:
        if not blockage.ended:
            detected.append(time.perf_counter())

    async def main() -> None:
        await asyncio.sleep(70 * MS)  # any phase of the heartbeat
        started.append(time.perf_counter())
        time.sleep(300 * MS)
        await asyncio.sleep(20 * MS)

    with LoopWatchdog(THRESHOLD, interval, on_blockage=on_blockage, logger=None):
        asyncio.run(main())

    [at] = detected
    # The watchdog thread must also wake up: on a loaded machine that is not instant.
    assert THRESHOLD - SLACK <= at - started[0] <= THRESHOLD + interval + SLACK


@pytest.mark.timeout(5)
def test_callbacks_and_log_say_when_a_blockage_starts_and_ends(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[tuple[bool, float, int]] = []

    def on_blockage(blockage: LoopBlockage) -> None:
        seen.append((blockage.ended, blockage.duration_ms, threading.get_ident()))

    async def main() -> None:
        await asyncio.sleep(20 * MS)
        time.sleep(250 * MS)
        await asyncio.sleep(20 * MS)

    caplog.set_level("INFO", logger="binance_diag.watchdog")
    with LoopWatchdog(THRESHOLD, INTERVAL, on_blockage=on_blockage) as wd:
        wd.stage = "reconnect"
        asyncio.run(main())

    (began, first, thread), (ended, final, _) = seen
    assert (began, ended) == (False, True)
    assert thread != threading.get_ident()
    assert first < final
    assert [r.levelname for r in caplog.records] == ["WARNING", "INFO"]
    assert "during reconnect" in caplog.records[0].getMessage()
    assert wd.blockages[0].to_model().stage is None  # a free label has no place in the model


@pytest.mark.timeout(5)
def test_a_failing_callback_does_not_stop_the_watchdog() -> None:
    def on_blockage(blockage: LoopBlockage) -> None:
        raise RuntimeError("broken")

    async def main() -> None:
        for _ in range(2):
            await asyncio.sleep(20 * MS)
            time.sleep(200 * MS)
        await asyncio.sleep(20 * MS)

    with LoopWatchdog(THRESHOLD, INTERVAL, on_blockage=on_blockage, logger=None) as wd:
        asyncio.run(main())
    assert len(wd.blockages) == 2


@pytest.mark.timeout(5)
def test_the_sync_form_follows_one_asyncio_run_after_another() -> None:
    async def block() -> None:
        await asyncio.sleep(20 * MS)
        time.sleep(200 * MS)
        await asyncio.sleep(20 * MS)

    with watchdog() as wd:
        asyncio.run(block())
        time.sleep(150 * MS)  # no loop running: not a blockage
        asyncio.run(block())

    assert len(wd.blockages) == 2


@pytest.mark.timeout(5)
def test_the_async_form_attaches_to_the_running_loop() -> None:
    async def main() -> tuple[LoopBlockage, ...]:
        async with watchdog() as wd:
            assert wd.loop is asyncio.get_running_loop()
            await asyncio.sleep(20 * MS)
            time.sleep(200 * MS)
            await asyncio.sleep(20 * MS)
        return wd.blockages

    assert len(asyncio.run(main())) == 1


@pytest.mark.timeout(5)
def test_a_loop_that_is_not_running_is_not_blocked() -> None:
    loop = asyncio.new_event_loop()
    wd = watchdog()
    try:
        wd.attach(loop)
        loop.run_until_complete(asyncio.sleep(30 * MS))
        time.sleep(250 * MS)  # between two run_until_complete calls: stopped, not blocked
        loop.run_until_complete(asyncio.sleep(30 * MS))
    finally:
        wd.stop()
        loop.close()
    assert wd.blockages == ()
    assert wd.max_lag_ms < THRESHOLD * 1000


@pytest.mark.timeout(5)
def test_a_blocking_socket_read_is_named_as_such() -> None:
    async def main() -> None:
        await asyncio.sleep(20 * MS)
        ours, _theirs = socket.socketpair()
        with ours, _theirs:
            ours.settimeout(250 * MS)
            with pytest.raises(TimeoutError):
                ours.recv(1)
        await asyncio.sleep(20 * MS)

    with watchdog() as wd:
        asyncio.run(main())
    [blockage] = wd.blockages
    assert blockage.trap == "sync_socket"
    assert blockage.stack[-1].endswith("ours.recv(1)")
