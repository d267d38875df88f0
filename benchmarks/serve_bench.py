"""`binance-diag serve` under load, against the simulator (issue 14). Run by hand:

    python benchmarks/serve_bench.py [--targets 50] [--probes 1000] [--steady 30]

The exporter runs as a real `binance-diag serve` process; this script is the scraper.
1. Steady: `--targets` targets, each scraped every 15 s (spread evenly, as Prometheus spreads
   them), for `--steady` seconds: worst and p99 scrape latency, the exporter's CPU.
2. Saturation: `--max-concurrent-probes` scrapers back to back over the same targets until
   `--probes` probes: scrapes per second sustained, CPU per probe, worst scrape latency, and
   the exporter's RSS after 100, 250, 500 and 1,000 probes (flat = no leak).

Loopback only: one healthy simulated peer on 127.0.0.1, pinned with `resolve`, trusted with
its own CA bundle; the exporter listens on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from binance_diag.simulate.scenario import start_fault

ENV = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def rss_mib(pid: int) -> float:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE / 2**20


def scrape(base: str, target: str, timeout: str = "10") -> tuple[float, bool]:
    url = f"{base}/probe?target={target}&module=bench"
    assert url.startswith("http://127.0.0.1:")
    request = urllib.request.Request(url, headers={"X-Prometheus-Scrape-Timeout-Seconds":
                                                   timeout})
    started = time.perf_counter()
    with OPENER.open(request, timeout=30) as response:
        body = response.read().decode()
    return time.perf_counter() - started, "\nprobe_success 1.0" in body


def symbols(count: int) -> list[str]:
    return [f"SYM{i:03d}USDT" for i in range(count)]


def steady(base: str, targets: list[str], seconds: float, interval: float = 15.0
           ) -> tuple[list[float], int]:
    """Each target every `interval` s, offsets spread evenly; latencies and failures."""
    latencies: list[float] = []
    failures = 0
    lock = threading.Lock()
    start = time.monotonic()

    def run(index: int, target: str) -> None:
        nonlocal failures
        next_at = start + interval * index / len(targets)
        while next_at < start + seconds:
            time.sleep(max(0.0, next_at - time.monotonic()))
            took, ok = scrape(base, target)
            with lock:
                latencies.append(took)
                failures += not ok
            next_at += interval

    threads = [threading.Thread(target=run, args=(i, t)) for i, t in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, failures


def saturate(base: str, pid: int, targets: list[str], probes: int, workers: int
             ) -> dict[str, object]:
    latencies: list[float] = []
    failures = 0
    rss: dict[int, float] = {}
    lock = threading.Lock()
    checkpoints = [n for n in (100, 250, 500, 1000, probes) if n <= probes]
    cpu0, t0 = cpu_seconds(pid), time.perf_counter()

    def run(worker: int) -> None:
        nonlocal failures
        i = worker
        while True:
            with lock:
                if len(latencies) >= probes:
                    return
            took, ok = scrape(base, targets[i % len(targets)])
            i += workers
            with lock:
                latencies.append(took)
                failures += not ok
                if len(latencies) in checkpoints:
                    rss[len(latencies)] = rss_mib(pid)

    threads = [threading.Thread(target=run, args=(w,)) for w in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall, cpu = time.perf_counter() - t0, cpu_seconds(pid) - cpu0
    return {"probes": len(latencies), "failures": failures, "wall": wall, "cpu": cpu,
            "latencies": latencies, "rss": rss}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=50)
    parser.add_argument("--probes", type=int, default=1000)
    parser.add_argument("--steady", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="serve-bench-") as workdir, \
            start_fault("healthy", workdir=Path(workdir)) as peer:
        modules = Path(workdir) / "modules.toml"
        modules.write_text(
            f'[modules.bench]\nendpoint = "{peer.url_base}"\n'
            f'resolve = ["{peer.resolve[0]}"]\nca_bundle = "{peer.ca_bundle}"\n'
            "no_proxy = true\n")
        with subprocess.Popen(
            [sys.executable, "-m", "binance_diag", "serve", "--listen", "127.0.0.1:0",
             "--config", str(modules), "--max-concurrent-probes", str(args.workers)],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=ENV,
        ) as server:
            try:
                assert server.stderr is not None
                banner = server.stderr.readline()
                match = re.search(r"(http://127\.0\.0\.1:\d+)/", banner)
                assert match, banner
                base = match.group(1)
                targets = symbols(args.targets)
                scrape(base, targets[0])  # warm-up: imports, first TLS context
                rss_start = rss_mib(server.pid)
                cpu0 = cpu_seconds(server.pid)
                latencies, failed = steady(base, targets, args.steady)
                steady_cpu = cpu_seconds(server.pid) - cpu0
                latencies.sort()
                print(f"steady: {args.targets} targets every 15 s for {args.steady:g} s: "
                      f"{len(latencies)} scrapes ({len(latencies) / args.steady:.2f}/s), "
                      f"{failed} failed; latency median {statistics.median(latencies)*1000:.1f}"
                      f" ms, p99 {latencies[int(len(latencies) * 0.99) - 1]*1000:.1f} ms, "
                      f"worst {latencies[-1]*1000:.1f} ms; exporter CPU "
                      f"{steady_cpu / args.steady * 100:.1f} % of a core, "
                      f"{steady_cpu / len(latencies) * 1000:.1f} ms per probe")
                result = saturate(base, server.pid, targets, args.probes, args.workers)
                lat = sorted(result["latencies"])  # type: ignore[call-overload]
                wall, cpu, probes = result["wall"], result["cpu"], result["probes"]
                print(f"saturation: {args.workers} scrapers back to back: {probes} probes in "
                      f"{wall:.1f} s = {probes / wall:.1f} scrapes/s "  # type: ignore[operator]
                      f"({result['failures']} failed); CPU {cpu / probes * 1000:.1f} ms per "  # type: ignore[operator]
                      f"probe; latency median {statistics.median(lat)*1000:.1f} ms, p99 "
                      f"{lat[int(len(lat) * 0.99) - 1]*1000:.1f} ms, worst {lat[-1]*1000:.1f} ms")
                rss = result["rss"]
                print(f"RSS: {rss_start:.1f} MiB after warm-up; " + ", ".join(
                    f"{v:.1f} MiB after {k} probes" for k, v in rss.items()))  # type: ignore[attr-defined]
            finally:
                server.terminate()
                server.wait(10)


if __name__ == "__main__":
    main()
