"""`binance-diag watch` under load, against the simulator (issue 13). Run by hand:

    python benchmarks/watch_bench.py [--symbols 300] [--market 30] [--flood 30] [--long 180]

The simulator runs in this process; the watch runs in a child process (`--child`), the real
WatchSession on its own event loop with a lag sampler beside it (a 10 ms sleep, measured:
how late it wakes is the loop's lag), so the two never share a CPU budget.
1. Market rate: `--symbols` aggTrade streams on one held connection, one event per stream
   every 100 ms (ServerOptions.interval 0.1: 3,000 msg/s for 300 symbols, above Binance's
   busiest hours for 300 pairs), a fresh probe every 10 s, for `--market` seconds:
   messages per second, CPU per 1,000 messages, event-loop lag p50/p99/max.
2. Flood: the same symbols, one event per stream every 1 ms (as fast as the simulator
   sends): the rate `watch` sustains when it is the bottleneck, for `--flood` seconds.
3. Long run, compressed: `--long` seconds at a 10 ms interval (10x the market rate: ten
   seconds of messages per second) with a probe every 5 s (12x the default 60 s): RSS
   sampled every 15 s (flat = no leak; the statistics are bounded distributions).

Loopback only: the simulated peer listens on 127.0.0.1 and is reached with a `--resolve`
pin and its own CA bundle; the watch never asks the system resolver.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SYMBOLS = ["BTC", "ETH", "BNB", "SOL", "XRP", "ADA", "DOGE", "TRX", "DOT", "LTC", "LINK",
           "AVAX", "ATOM", "UNI", "ETC", "XLM", "FIL", "APT", "ARB", "OP"]
PAGE = os.sysconf("SC_PAGE_SIZE")


def symbols(count: int) -> list[str]:
    """`count` distinct well-formed symbols (the simulator trades every one)."""
    return [f"{SYMBOLS[n % len(SYMBOLS)]}{n // len(SYMBOLS)}USDT" if n >= len(SYMBOLS)
            else f"{SYMBOLS[n]}USDT" for n in range(count)]


def rss_mib() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * PAGE / 2**20


# -- the child: one watch, measured from inside ----------------------------------------


async def _watch(args: argparse.Namespace) -> dict[str, Any]:
    from binance_diag.config.options import ProbeOptions, build_probe_setup
    from binance_diag.config.probe import parse_families
    from binance_diag.watch.config import StallRule, WatchConfig
    from binance_diag.watch.session import WatchSession

    setup = build_probe_setup(ProbeOptions(
        symbols=args.symbol_list, stream="aggTrade", endpoints=[args.endpoint], resolvers=(),
        resolve=[args.resolve], ca_bundle=args.ca_bundle, timeout=10.0, message_timeout=None,
        families=parse_families(False, False), proxy=None, no_proxy=True), {})
    config = WatchConfig(probe=setup.configs[0], duration=args.seconds, every=args.every,
                         stall=StallRule(floor=30.0), lifetime=86_400.0)
    session = WatchSession(config)
    lags: list[float] = []
    rss: list[tuple[float, float]] = []

    async def sample() -> None:
        next_rss = time.perf_counter()
        while True:
            before = time.perf_counter()
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            lags.append(now - before - 0.01)
            if now >= next_rss:
                rss.append((round(now - session.started, 1), round(rss_mib(), 1)))
                next_rss = now + args.rss_every

    sampler = asyncio.create_task(sample())
    cpu0, wall0 = time.process_time(), time.perf_counter()
    await session.run()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    sampler.cancel()
    rss.append((round(wall, 1), round(rss_mib(), 1)))
    held = session.stats
    # Skip the connecting second: the rate is the held stream's, once it flows.
    messages = held.messages
    ordered = sorted(lags)
    return {
        "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "messages": messages,
        "msg_per_s": round(messages / wall, 1),
        "cpu_ms_per_1000_msgs": round(cpu / messages * 1e6, 2) if messages else None,
        "cpu_share_of_a_core": round(cpu / wall, 3),
        "lag_p50_ms": round(statistics.median(ordered) * 1000, 2),
        "lag_p99_ms": round(ordered[int(0.99 * (len(ordered) - 1))] * 1000, 2),
        "lag_max_ms": round(ordered[-1] * 1000, 2),
        "probes": session.series.runs, "events": dict(session.counts),
        "connections": held.connections, "rss_mib": rss,
    }


def child(args: argparse.Namespace) -> None:
    args.symbol_list = args.symbols_csv.split(",")
    print(json.dumps(asyncio.run(_watch(args))))


# -- the parent: the simulator and the phases -------------------------------------------


def phase(name: str, count: int, interval: float, seconds: float, every: float,
          rss_every: float) -> dict[str, Any]:
    from binance_diag.simulate.scenario import start_fault
    from binance_diag.simulate.server import ServerOptions

    with start_fault("healthy", options=ServerOptions(interval=interval)) as scenario:
        assert scenario.address.startswith("127."), scenario.address
        [resolve] = scenario.resolve
        command = [sys.executable, __file__, "--child", "--endpoint", scenario.url_base,
                   "--resolve", resolve, "--ca-bundle", str(scenario.ca_bundle),
                   "--symbols-csv", ",".join(symbols(count)), "--seconds", str(seconds),
                   "--every", str(every), "--rss-every", str(rss_every)]
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        env["PYTHONPATH"] = str(ROOT)
        done = subprocess.run(command, capture_output=True, text=True, env=env,
                              timeout=seconds + 120, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{name}: the watch failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["phase"] = name
    result["nominal_msg_per_s"] = round(count / interval)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--endpoint")
    parser.add_argument("--resolve")
    parser.add_argument("--ca-bundle")
    parser.add_argument("--symbols-csv")
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--every", type=float)
    parser.add_argument("--rss-every", type=float, default=15.0)
    parser.add_argument("--symbols", type=int, default=300)
    parser.add_argument("--market", type=float, default=30.0)
    parser.add_argument("--flood", type=float, default=30.0)
    parser.add_argument("--long", type=float, default=180.0)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    print(f"load before: {os.getloadavg()}, {os.cpu_count()} CPUs", file=sys.stderr)
    results = [phase("market", args.symbols, 0.1, args.market, 10.0, 15.0),
               phase("flood", args.symbols, 0.001, args.flood, 10.0, 15.0),
               phase("long", args.symbols, 0.01, args.long, 5.0, 15.0)]
    for result in results:
        print(json.dumps(result))
    print(f"load after: {os.getloadavg()}", file=sys.stderr)


if __name__ == "__main__":
    main()
