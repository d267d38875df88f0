"""What the loop watchdog costs and how fast it notices a blocked loop (DESIGN.md §7).

Run by hand: `python benchmarks/watchdog_bench.py [--seconds S] [--blocks N] [--runs N]`.

- CPU overhead: process CPU time (`time.process_time`, every thread) per second of wall time,
  watched minus unwatched, as a percentage of one core; on a busy loop (many small callbacks)
  also the loss of callback throughput. Median of three alternating runs. The control row is
  a Python thread that does nothing but wake every interval: on a busy loop most of the cost
  is CPython's GIL hand-off to *any* second thread (the convoy effect), not the watchdog.
- Detection latency: from the first line of a blockage (`time.sleep`, which releases the GIL,
  or a CPU-bound spin, which holds it) to the watchdog's `on_blockage` call, over N blockages
  started at random phases of the heartbeat. The promise is `threshold + interval`.
- Attach delay of the synchronous form (`with LoopWatchdog(): asyncio.run(...)`), which has to
  find the loop from its own thread: on a busy loop that thread waits for the GIL.
- What `binance-diag loopwatch` adds to a program's start and exit: a tiny asyncio program
  run bare, with the agent injected as loopwatch injects it (bootstrap `sitecustomize`), and
  under the whole `binance-diag loopwatch -- python ...` command; median / min of N runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from binance_diag.run.loopwatch import child_environment  # noqa: E402
from binance_diag.watchdog.loop import LoopBlockage, LoopWatchdog  # noqa: E402

THRESHOLD = 0.1
INTERVALS = (0.05, 0.01)
REPEATS = 3


async def idle(seconds: float, watchdog: LoopWatchdog | None) -> int:
    await asyncio.sleep(seconds)
    return 0


async def busy(seconds: float, watchdog: LoopWatchdog | None) -> int:
    """Many small callbacks, yielding to the loop between batches, as a busy bot would."""
    loop = asyncio.get_running_loop()
    done = 0

    def callback() -> None:
        nonlocal done
        done += 1

    until = time.perf_counter() + seconds
    while time.perf_counter() < until:
        for _ in range(100):
            loop.call_soon(callback)
        await asyncio.sleep(0)
    return done


Workload = Callable[[float, LoopWatchdog | None], Coroutine[Any, Any, int]]


def measure(workload: Workload, seconds: float, interval: float | None, watcher: str
            ) -> tuple[float, int]:
    """(CPU % of a core, callbacks run) for one run with no watcher, the watchdog at
    `interval`, or the control: a thread that only wakes every `interval`."""

    async def main() -> int:
        if interval is None:
            return await workload(seconds, None)
        if watcher == "control":
            stop = threading.Event()
            thread = threading.Thread(target=lambda: _idle_waker(stop, interval), daemon=True)
            thread.start()
            try:
                return await workload(seconds, None)
            finally:
                stop.set()
        async with LoopWatchdog(THRESHOLD, interval, logger=None) as wd:
            return await workload(seconds, wd)

    cpu, wall = time.process_time(), time.perf_counter()
    callbacks = asyncio.run(main())
    return (time.process_time() - cpu) / (time.perf_counter() - wall) * 100, callbacks


def _idle_waker(stop: threading.Event, interval: float) -> None:
    while not stop.wait(interval):
        pass


def overhead(workload: Workload, seconds: float, interval: float, watcher: str
             ) -> tuple[float, float]:
    """(extra CPU % of a core, throughput loss %), medians over alternating runs."""
    cpu_deltas, losses = [], []
    for _ in range(REPEATS):
        base_cpu, base_done = measure(workload, seconds, None, watcher)
        cpu, done = measure(workload, seconds, interval, watcher)
        cpu_deltas.append(cpu - base_cpu)
        if base_done:
            losses.append((base_done - done) / base_done * 100)
    return statistics.median(cpu_deltas), statistics.median(losses) if losses else 0.0


def detection(kind: str, busy_loop: bool, interval: float, blocks: int) -> list[float]:
    """Latencies (ms) from the start of each blockage to its detection."""
    detected: list[float] = []

    def on_blockage(blockage: LoopBlockage) -> None:
        if not blockage.ended:
            detected.append(time.perf_counter())

    async def block() -> float:
        started = time.perf_counter()
        if kind == "sleep":
            time.sleep(0.25)
        else:
            until = started + 0.25
            while time.perf_counter() < until:
                pass
        return started

    async def main() -> list[float]:
        starts = []
        async with LoopWatchdog(THRESHOLD, interval, on_blockage=on_blockage, logger=None):
            for _ in range(blocks):
                phase = random.uniform(0.05, 0.05 + interval)
                if busy_loop:
                    await busy(phase, None)
                else:
                    await asyncio.sleep(phase)
                starts.append(await block())
                await asyncio.sleep(0.03)  # the watchdog sees it end
        return starts

    starts = asyncio.run(main())
    return [(at - start) * 1000 for at, start in zip(detected, starts, strict=True)]


def attach_delay(busy_loop: bool, interval: float, runs: int) -> list[float]:
    """How long the sync form takes to find a loop started after it (ms)."""
    delays = []
    for _ in range(runs):
        with LoopWatchdog(THRESHOLD, interval, logger=None) as wd:

            async def main(wd: LoopWatchdog = wd) -> float:
                started = time.perf_counter()
                loop = asyncio.get_running_loop()
                while wd.loop is not loop:
                    if busy_loop:
                        for _ in range(100):
                            loop.call_soon(lambda: None)
                        await asyncio.sleep(0)
                    else:
                        await asyncio.sleep(0.001)
                    if time.perf_counter() - started > 5:
                        break
                return (time.perf_counter() - started) * 1000

            delays.append(asyncio.run(main()))
    return delays


TINY_PROGRAM = [sys.executable, "-c", "import asyncio; asyncio.run(asyncio.sleep(0))"]


def startup_cost(runs: int) -> dict[str, list[float]]:
    """Wall time (ms) of the tiny program: bare, with the agent, under `loopwatch`."""
    times: dict[str, list[float]] = {"bare": [], "agent": [], "loopwatch": []}
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(TINY_PROGRAM, check=True)
        times["bare"].append((time.perf_counter() - started) * 1000)

        read_fd, write_fd = os.pipe()
        env = child_environment(os.environ, write_fd, THRESHOLD, INTERVALS[0])
        started = time.perf_counter()
        subprocess.run(TINY_PROGRAM, check=True, env=env, pass_fds=(write_fd,))
        times["agent"].append((time.perf_counter() - started) * 1000)
        os.close(write_fd)
        with os.fdopen(read_fd, "rb") as pipe:
            assert b'"type": "hello"' in pipe.read(), "the agent did not start"

        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "binance_diag", "loopwatch", "--", *TINY_PROGRAM],
                       check=True, stderr=subprocess.DEVNULL)
        times["loopwatch"].append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each CPU run")
    parser.add_argument("--blocks", type=int, default=10, help="blockages per latency row")
    parser.add_argument("--runs", type=int, default=10, help="runs per start-up figure")
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, threshold {THRESHOLD * 1000:.0f} ms, "
          f"{REPEATS} x {args.seconds:g} s per CPU figure, {args.blocks} blockages per row\n")

    print("| loop | interval | watcher | extra CPU (% of a core) | callback throughput lost |")
    print("|---|---|---|---|---|")
    workloads: tuple[tuple[str, Workload], ...] = (("idle", idle), ("busy", busy))
    for name, workload in workloads:
        for interval in INTERVALS:
            for watcher in ("watchdog", "control"):
                cpu, loss = overhead(workload, args.seconds, interval, watcher)
                lost = f"{loss:.1f} %" if name == "busy" else "-"
                print(f"| {name} | {interval * 1000:.0f} ms | {watcher} | {cpu:.3f} % "
                      f"| {lost} |")

    print("\n| loop | blockage | interval | detection latency median / max | bound |")
    print("|---|---|---|---|---|")
    for busy_loop in (False, True):
        for kind in ("sleep", "cpu"):
            for interval in INTERVALS:
                latencies = detection(kind, busy_loop, interval, args.blocks)
                print(f"| {'busy' if busy_loop else 'idle'} | {kind} | {interval * 1000:.0f} ms "
                      f"| {statistics.median(latencies):.1f} / {max(latencies):.1f} ms "
                      f"| {(THRESHOLD + interval) * 1000:.0f} ms |")

    print("\n| loop | interval | sync-form attach delay median / max |")
    print("|---|---|---|")
    for busy_loop in (False, True):
        for interval in INTERVALS:
            delays = attach_delay(busy_loop, interval, 5)
            print(f"| {'busy' if busy_loop else 'idle'} | {interval * 1000:.0f} ms "
                  f"| {statistics.median(delays):.1f} / {max(delays):.1f} ms |")


    print(f"\n| {TINY_PROGRAM[-1]} | wall time median / min ({args.runs} runs) |")
    print("|---|---|")
    for name, times in startup_cost(args.runs).items():
        label = {"bare": "bare", "agent": "with the loopwatch agent injected",
                 "loopwatch": "under `binance-diag loopwatch --`"}[name]
        print(f"| {label} | {statistics.median(times):.1f} / {min(times):.1f} ms |")


if __name__ == "__main__":
    main()
