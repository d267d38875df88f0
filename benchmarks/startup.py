"""Start-up cost of the CLI against the bare interpreter (DESIGN.md §7).

Run by hand: `python benchmarks/startup.py [--runs N]`. Prints the median and min wall time
of each command over N runs, and the ratio to `python -c pass`.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "binance-diag --version": [sys.executable, "-m", "binance_diag", "--version"],
    "binance-diag --help": [sys.executable, "-m", "binance_diag", "--help"],
    "binance-diag endpoints": [sys.executable, "-m", "binance_diag", "endpoints"],
}


def time_command(argv: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    base = None
    print(f"{'command':<26} {'median ms':>10} {'min ms':>8} {'x bare':>7}")
    for name, argv in COMMANDS.items():
        times = time_command(argv, args.runs)
        median = statistics.median(times)
        base = base or median
        print(f"{name:<26} {median:>10.1f} {min(times):>8.1f} {median / base:>7.2f}")


if __name__ == "__main__":
    main()
