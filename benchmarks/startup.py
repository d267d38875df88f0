"""Start-up cost of the CLI (DESIGN.md §7), measured against its baselines in the same run.

Run by hand: `python benchmarks/startup.py [--runs N] [--profile]`.

1. `--version`, `--help`, `endpoints` against `python -c pass` (target: `--version` <= 3x).
2. A healthy probe of the loopback simulator, whole process, against the minimal websockets
   client a user would write instead (import websockets, connect, receive the first message)
   on the same peer (target: <= 2x). Both use the same CA bundle and pinned address.
3. `--profile`: the modules the healthy probe imports, by cumulative import time
   (`python -X importtime`), the 15 most expensive.

Loopback only: the simulator listens on 127.0.0.1 and both clients pin the name to it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

from binance_diag.simulate.scenario import Scenario, start_fault

ENV = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "binance-diag --version": [sys.executable, "-m", "binance_diag", "--version"],
    "binance-diag --help": [sys.executable, "-m", "binance_diag", "--help"],
    "binance-diag endpoints": [sys.executable, "-m", "binance_diag", "endpoints"],
}

MINIMAL_CLIENT = """
import asyncio, ssl, sys
import websockets

async def main(url, host, cafile):
    context = ssl.create_default_context(cafile=cafile)
    async with websockets.connect(url, ssl=context, server_hostname=host, proxy=None) as ws:
        await ws.recv()

asyncio.run(main(*sys.argv[1:]))
"""


def time_command(argv: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run = subprocess.run(argv, check=False, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=ENV, timeout=60)
        # 0 healthy, 1 degraded (a loaded machine blocks the loop): both got the message.
        assert run.returncode in (0, 1), (argv, run.returncode)
        times.append((time.perf_counter() - start) * 1000)
    return times


def probe_argv(scenario: Scenario, output_format: str = "json") -> list[str]:
    return [sys.executable, "-m", "binance_diag", "probe", "BTCUSDT", *scenario.cli_args,
            "--format", output_format]


def client_argv(scenario: Scenario) -> list[str]:
    url = f"wss://127.0.0.1:{scenario.port}/ws/btcusdt@aggTrade"
    return [sys.executable, "-c", MINIMAL_CLIENT, url, scenario.hostname,
            str(scenario.ca_bundle)]


def import_profile(argv: list[str], top: int = 15) -> list[tuple[float, str]]:
    """(cumulative ms, module) of the most expensive top-level imports of a run."""
    run = subprocess.run([argv[0], "-X", "importtime", *argv[1:]], capture_output=True,
                         text=True, env=ENV, timeout=60, check=False)
    rows = []
    for line in run.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = (part.strip() for part in line[12:].split("|"))
        if not name.startswith(" "):  # top level: what the program itself asked for
            rows.append((int(cumulative) / 1000, name.strip()))
    return sorted(rows, reverse=True)[:top]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    base = None
    print(f"{'command':<30} {'median ms':>10} {'min ms':>8} {'ratio':>7}")
    for name, argv in COMMANDS.items():
        times = time_command(argv, args.runs)
        median = statistics.median(times)
        base = base or median
        print(f"{name:<30} {median:>10.1f} {min(times):>8.1f} {median / base:>7.2f}")

    with start_fault("healthy") as scenario:
        # Interleaved, so that load on a shared machine falls on both alike.
        client, ours, ours_rich = [], [], []
        for _ in range(args.runs):
            client += time_command(client_argv(scenario), 1)
            ours += time_command(probe_argv(scenario), 1)
            ours_rich += time_command(probe_argv(scenario, "markdown"), 1)
        baseline = statistics.median(client)
        for name, times in (("minimal websockets client", client),
                            ("healthy probe --format json", ours),
                            ("healthy probe --format markdown", ours_rich)):
            median = statistics.median(times)
            print(f"{name:<30} {median:>10.1f} {min(times):>8.1f} {median / baseline:>7.2f}")
        if args.profile:
            print("\nimports of the healthy probe (--format json), cumulative ms:")
            for ms, module in import_profile(probe_argv(scenario)):
                print(f"  {ms:8.1f}  {module}")


if __name__ == "__main__":
    main()
