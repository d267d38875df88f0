"""A real Prometheus scrapes the exporter, which probes the simulator: the series arrive.

Opt-in by presence: Debian's `prometheus` package (/usr/bin/prometheus, /usr/bin/promtool;
`apt-get install prometheus`, which .ci/run does where it can). Prometheus runs as our own
child on 127.0.0.1 with a generated config and a TSDB in tmp_path, never the system service;
it scrapes only the exporter on 127.0.0.1, and the exporter probes only loopback peers.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from binance_diag.exporter.modules import load_modules
from binance_diag.exporter.server import Exporter, running
from binance_diag.simulate.scenario import Scenario
from tests.exporter.helpers import get

PROMETHEUS = shutil.which("prometheus")
PROMTOOL = shutil.which("promtool")
needs_prometheus = pytest.mark.skipif(
    PROMETHEUS is None, reason="no prometheus binary (apt-get install prometheus)")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="no promtool binary (apt-get install prometheus)")
ARRIVAL_TIMEOUT = 40.0
"""Prometheus start-up, its first scrapes at 1 s intervals, and the query: ~5 s here."""
WATCH = '[watch.btc-held]\nmodule = "healthy"\nsymbols = ["BTCUSDT"]\nevery = 600\n'
"""A held stream beside the probes: its live figures come with the exporter's /metrics."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def scrape_config(exporter: str) -> str:
    """The scrape config of docs/prometheus.md, for two loopback targets."""
    return f"""
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  external_labels:
    vantage: test
scrape_configs:
  - job_name: binance
    metrics_path: /probe
    static_configs:
      - targets: [BTCUSDT]
        labels: {{module: healthy}}
      - targets: [ETHUSDT]
        labels: {{module: blocked}}
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [module]
        target_label: __param_module
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: {exporter}
  - job_name: binance-diag-exporter
    static_configs:
      - targets: ['{exporter}']
"""


@pytest.fixture
def prometheus(tmp_path: Path, modules_file: Path) -> Iterator[tuple[str, str]]:
    """(Prometheus' base URL, the exporter's), both on 127.0.0.1, stopped on the way out."""
    assert PROMETHEUS is not None
    modules_file.write_text(modules_file.read_text() + WATCH)
    exporter = Exporter(load_modules(modules_file), environ={}, timeout_offset=0.1)
    with running(exporter) as server:
        address = f"127.0.0.1:{server.port}"
        config = tmp_path / "prometheus.yml"
        config.write_text(scrape_config(address))
        port = free_port()
        log = (tmp_path / "prometheus.log").open("w")
        process = subprocess.Popen(
            [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{port}"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            yield f"http://127.0.0.1:{port}", f"http://{address}"
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
            log.close()


def query(base: str, promql: str) -> list[dict[str, Any]]:
    status, _, body = get(f"{base}/api/v1/query?query={urllib.parse.quote(promql)}")
    if status != 200:
        return []
    answer = json.loads(body)
    assert answer["status"] == "success", answer
    result: list[dict[str, Any]] = answer["data"]["result"]
    return result


def wait_for(base: str, promql: str, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + ARRIVAL_TIMEOUT
    result: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        try:
            result = query(base, promql)
        except OSError:  # not listening yet
            result = []
        if len(result) >= count:
            return result
        time.sleep(0.25)
    raise AssertionError(f"{promql}: {result} after {ARRIVAL_TIMEOUT} s")


def by_instance(result: list[dict[str, Any]]) -> dict[str, float]:
    return {r["metric"]["instance"]: float(r["value"][1]) for r in result}


@needs_prometheus
@pytest.mark.timeout(90)
def test_prometheus_scrapes_the_exporter(prometheus: tuple[str, str],
                                         peers: dict[str, Scenario]) -> None:
    base, _ = prometheus
    assert by_instance(wait_for(base, 'up{job="binance"}', 2)) == {"BTCUSDT": 1, "ETHUSDT": 1}
    assert by_instance(wait_for(base, "probe_success", 2)) == {"BTCUSDT": 1, "ETHUSDT": 0}
    [failure] = wait_for(base, "probe_binance_failure == 1", 1)
    assert failure["metric"] | {"__name__": None} == {
        "__name__": None, "instance": "ETHUSDT", "job": "binance", "module": "blocked",
        "stage": "ws_upgrade", "kind": "http_status", "finding": "upgrade.restricted_location",
    }
    assert by_instance(wait_for(base, "probe_http_status_code", 2)) == \
        {"BTCUSDT": 101, "ETHUSDT": 451}
    stages = wait_for(base, 'probe_binance_stage_status{instance="BTCUSDT",status="ok"} == 1',
                      5)
    assert {r["metric"]["stage"] for r in stages} == \
        {"dns", "tcp", "tls", "ws_upgrade", "first_message"}
    latency = by_instance(wait_for(base, "probe_binance_first_message_latency_seconds", 1))
    assert list(latency) == ["BTCUSDT"] and 0 < latency["BTCUSDT"] < 1
    expiry = by_instance(wait_for(base, "probe_ssl_earliest_cert_expiry", 2))
    assert min(expiry.values()) > time.time()
    assert wait_for(base, 'binance_diag_exporter_probes_total{module="healthy",'
                          'result="success"} > 0', 1)
    [held] = wait_for(base, 'binance_watch_messages_total{target="btc-held"} > 0', 1)
    assert held["metric"]["job"] == "binance-diag-exporter"
    assert float(held["value"][1]) > 0


@needs_promtool
@pytest.mark.timeout(60)
def test_promtool_accepts_the_exposition(modules_file: Path, tmp_path: Path) -> None:
    assert PROMTOOL is not None
    modules_file.write_text(modules_file.read_text() + WATCH)
    exporter = Exporter(load_modules(modules_file), environ={})
    with running(exporter) as server:
        base = f"http://127.0.0.1:{server.port}"
        texts = [get(f"{base}/probe?target=BTCUSDT&module=healthy")[2],
                 get(f"{base}/probe?target=BTCUSDT&module=blocked")[2],
                 get(f"{base}/metrics")[2]]
    assert 'binance_watch_up{target="btc-held"}' in texts[2]
    for text in texts:
        checked = subprocess.run([PROMTOOL, "check", "metrics"], input=text, text=True,
                                 capture_output=True, timeout=30, check=False)
        assert checked.returncode == 0, checked.stdout + checked.stderr
