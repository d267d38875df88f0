"""A probe of a loopback peer, measured (DESIGN.md §7). Run by hand:

    python benchmarks/probe_bench.py [--runs N] [--delay-ms D]

1. Whole-process wall time of `binance-diag probe BTCUSDT` against the healthy simulator
   (target: <= 350 ms).
2. Stage accuracy: the TLS peer's ServerHello is held back by D ms by a relay; the probe's
   `tls` duration is compared with curl's `time_appconnect - time_connect` through the same
   relay (target: within 1 ms of each other and of D plus the undelayed handshake).
3. Timeout accuracy: the probe against `tls-hang` with `--tls-timeout 1`; how late the
   timeout fired (target: within 20 ms).

Loopback only: the simulator, the relay and curl all stay on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from binance_diag.simulate.scenario import Scenario, start_fault

ENV = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}


def probe_json(scenario: Scenario, *extra: str, port: int | None = None) -> tuple[dict, float]:
    args = list(scenario.cli_args)
    if port is not None:  # go through the relay instead
        args = ["--endpoint", f"wss://{scenario.hostname}:{port}",
                "--resolve", f"{scenario.hostname}:{port}:127.0.0.1",
                "--ca-bundle", str(scenario.ca_bundle)]
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "binance_diag", "probe", "BTCUSDT", *args, "--format", "json",
         *extra], capture_output=True, text=True, env=ENV, check=False, timeout=60)
    wall = (time.perf_counter() - start) * 1000
    return json.loads(result.stdout), wall


@contextmanager
def delaying_relay(target_port: int, delay: float) -> Iterator[int]:
    """Forward 127.0.0.1:PORT -> target; the server's first bytes wait `delay` seconds."""
    loop = asyncio.new_event_loop()
    ready: list[int] = []
    started = threading.Event()

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                   first_delay: float) -> None:
        first = True
        try:
            while data := await reader.read(65536):
                if first and first_delay:
                    await asyncio.sleep(first_delay)
                first = False
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", target_port)
        await asyncio.gather(pipe(reader, up_writer, 0), pipe(up_reader, writer, delay))

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        ready.append(server.sockets[0].getsockname()[1])
        started.set()
        async with server:
            await asyncio.Event().wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    started.wait(5)
    yield ready[0]


def curl_tls_ms(scenario: Scenario, port: int) -> float:
    out = subprocess.run(
        ["curl", "-s", "-o", "/dev/null", "--max-time", "10", "--noproxy", "*",
         "--resolve", f"{scenario.hostname}:{port}:127.0.0.1", "--cacert",
         str(scenario.ca_bundle), "-w", "%{time_connect} %{time_appconnect}",
         f"https://{scenario.hostname}:{port}/"],
        capture_output=True, text=True, check=False).stdout.split()
    connect, appconnect = (float(x) for x in out)
    return (appconnect - connect) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--delay-ms", type=float, default=50.0)
    args = parser.parse_args()

    with start_fault("healthy") as scenario:
        walls, stages = [], {}
        for _ in range(args.runs):
            report, wall = probe_json(scenario)
            assert report["status"] != "failed", report["failed_stage"]
            walls.append(wall)
            for stage in report["stages"]:
                stages.setdefault(stage["name"], []).append(stage["duration_ms"])
        print(f"healthy loopback probe, {args.runs} runs (median ms):")
        print(f"  whole process wall: {statistics.median(walls):.1f} (min {min(walls):.1f})")
        for name, values in stages.items():
            print(f"  {name:<14} {statistics.median(values):7.2f}")

        delay = args.delay_ms / 1000
        with delaying_relay(scenario.port, delay) as relay:
            ours = [probe_json(scenario, port=relay)[0]["stages"][2]["duration_ms"]
                    for _ in range(args.runs)]
            theirs = [curl_tls_ms(scenario, relay) for _ in range(args.runs)]
        print(f"TLS handshake with the ServerHello held {args.delay_ms:g} ms (median ms):")
        print(f"  binance-diag tls stage: {statistics.median(ours):.2f}")
        print(f"  curl appconnect-connect: {statistics.median(theirs):.2f}")
        print(f"  difference: {statistics.median(ours) - statistics.median(theirs):+.2f}")

    with start_fault("tls-hang") as scenario:
        late = []
        for _ in range(max(3, args.runs // 3)):
            report, _ = probe_json(scenario, "--tls-timeout", "1")
            late.append(report["stages"][2]["duration_ms"] - 1000)
        print(f"tls-hang with --tls-timeout 1: timeout fired {statistics.median(late):+.1f} ms "
              f"after the deadline (median; max {max(late):+.1f})")


if __name__ == "__main__":
    main()
