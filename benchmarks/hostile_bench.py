"""A hostile peer against the probe: wall time, memory and report size (issue 16, item 1).
Run by hand:

    python benchmarks/hostile_bench.py [--tree DIR] [--message-timeout S] [--duration S]

Each scenario runs the simulator here (loopback, plain ws://, `--resolve`: no DNS) and
`binance-diag probe` as a child process from `--tree` (default: this checkout; give an
unpacked older tree, e.g. `git archive c768be5^ binance_diag | tar -x -C /tmp/old`, to
measure "before"). Per scenario: the child's wall time against its declared budget
(`run_budget`), its peak RSS (VmHWM of that child, polled from /proc; not `ru_maxrss`, which
starts at this harness's own peak on Linux), the report's
size in bytes and its timeline's length.

1. `nested-reply`: one 720 KB reply nested 900 levels deep, `--format json`.
2. `reply-flood`: replies to no request as fast as the probe reads them, `--format json`.
3. `event-flood` with `--duration`: the hold's memory at two durations (flat = bounded).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from binance_diag.config.endpoints import build_target
from binance_diag.config.probe import ProbeConfig
from binance_diag.config.timeouts import Timeouts
from binance_diag.probe.budget import run_budget
from binance_diag.simulate.scenario import start_fault

ROOT = Path(__file__).resolve().parents[1]
ENV = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}


@dataclass(frozen=True)
class Measure:
    scenario: str
    wall_s: float
    budget_s: float
    max_rss_mb: float
    report_bytes: int
    timeline: int | str
    received: int | str
    """Messages the probe took in: replies to no request, or events held."""
    exit_code: int


def budget(message_timeout: float, duration: float | None) -> float:
    """The declared budget of the run (this checkout's rule, for both trees)."""
    config = ProbeConfig(target=build_target(("BTCUSDT",), "aggTrade", "spot"),
                         timeouts=Timeouts(first_message=message_timeout), hold=duration)
    return run_budget(config)


def run(tree: Path, fault: str, *extra: str, message_timeout: float,
        duration: float | None = None, limit: float = 900) -> Measure:
    with start_fault(fault, tls=False) as scenario:
        args = [sys.executable, "-m", "binance_diag", "probe", "BTCUSDT", *scenario.cli_args,
                "--format", "json", "--message-timeout", str(message_timeout), *extra]
        if duration is not None:
            args += ["--duration", str(duration)]
        env = {**ENV, "PYTHONPATH": str(tree)}
        started = time.perf_counter()
        with open(os.devnull, "wb") as devnull, subprocess.Popen(
                args, cwd=tree, env=env, stdout=subprocess.PIPE, stderr=devnull) as child:
            assert child.stdout is not None
            peak = [0.0]
            watcher = threading.Thread(target=_watch_peak, args=(child.pid, peak), daemon=True)
            watcher.start()
            out = child.stdout.read()  # the report, whatever its size
            _, status, usage = os.wait4(child.pid, 0)
            child.returncode = os.waitstatus_to_exitcode(status)
            watcher.join()
        wall = time.perf_counter() - started
        if wall > limit:
            print(f"  (took {wall:.0f} s, over the {limit:.0f} s limit)", file=sys.stderr)
    try:
        document = json.loads(out)
        timeline: int | str = len(document["timeline"])
        details = document["stages"][-1]["details"]
        received: int | str = details["hold"]["messages"] if "hold" in details else \
            details.get("list_subscriptions", {}).get("unsolicited_replies", 0)
    except (ValueError, KeyError, IndexError):
        timeline = received = "unreadable"
    return Measure(fault + (f" --duration {duration:g}" if duration else ""), round(wall, 2),
                   round(budget(message_timeout, duration), 1),
                   round(peak[0] or usage.ru_maxrss / 1024, 1), len(out), timeline, received,
                   child.returncode)


def _watch_peak(pid: int, peak: list[float]) -> None:
    """The child's own peak RSS: /proc's VmHWM, polled until it is gone. (ru_maxrss from
    wait4 starts at the parent's peak on Linux - exec records the old mm's high-water mark -
    and this harness holds whole reports: it would report our size, not the probe's.)"""
    while True:
        try:
            with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
                lines = [line for line in status if line.startswith("VmHWM:")]
        except OSError:
            return
        if not lines:
            return  # a zombie: exited, not yet waited for
        peak[0] = max(peak[0], int(lines[0].split()[1]) / 1024)
        time.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tree", type=Path, default=ROOT,
                        help="the directory holding the binance_diag package to probe with")
    parser.add_argument("--message-timeout", type=float, default=10.0)
    parser.add_argument("--duration", type=float, nargs=2, default=(5.0, 20.0))
    parser.add_argument("--only", choices=("nested-reply", "reply-flood", "event-flood"))
    options = parser.parse_args()
    tree = options.tree.resolve()
    measures = []
    if options.only in (None, "nested-reply"):
        measures.append(run(tree, "nested-reply", message_timeout=options.message_timeout))
    if options.only in (None, "reply-flood"):
        measures.append(run(tree, "reply-flood", message_timeout=options.message_timeout))
    if options.only in (None, "event-flood"):
        for duration in options.duration:
            measures.append(run(tree, "event-flood", message_timeout=options.message_timeout,
                                duration=duration))
    print(f"tree: {tree}   --message-timeout {options.message_timeout:g}")
    print(f"{'scenario':<28} {'wall s':>8} {'budget s':>9} {'RSS MB':>8} {'report B':>11} "
          f"{'timeline':>9} {'received':>9} {'exit':>5}")
    for m in measures:
        print(f"{m.scenario:<28} {m.wall_s:>8} {m.budget_s:>9} {m.max_rss_mb:>8} "
              f"{m.report_bytes:>11} {m.timeline!s:>9} {m.received!s:>9} {m.exit_code:>5}")


if __name__ == "__main__":
    main()
