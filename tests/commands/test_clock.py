"""Through the CLI against the simulator: the event lag is told apart - the clock is off,
or delivery is late - by Binance's server time, measured on loopback only.

The endpoint is a custom one (`wss://localhost:PORT`, pinned to 127.0.0.1): its server time
is on the same host and port, so the simulator serves it. A Binance host pinned for the
stream only has no address for its REST host: not measured, and the finding says so.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from binance_diag.simulate.certs import CertificateAuthority
from binance_diag.simulate.scenario import start_fault
from tests.commands.helpers import run_cli
from tests.schema_check import VALIDATOR


@pytest.fixture(scope="module")
def certs() -> CertificateAuthority:
    return CertificateAuthority()


def probe(fault: str, certs: CertificateAuthority, hostname: str = "localhost",
          fmt: str = "json") -> tuple[int, str, list[str]]:
    with start_fault(fault, certs=certs, hostname=hostname) as scenario:
        done = run_cli("probe", "BTCUSDT", *scenario.cli_args, "--timeout", "3",
                       "--format", fmt, timeout=40)
        paths = [r.path for r in scenario.server.requests] if scenario.server else []
    return done.returncode, done.stdout, paths


def findings(stdout: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The report and its findings, less what a loaded test machine adds (a blocked event
    loop, a slow stage): those say nothing about the clock."""
    report = json.loads(stdout)
    VALIDATOR.validate(report)
    return report, [f for f in report["findings"]
                    if not f["id"].startswith(("loop.", "perf.", "stage."))]


@pytest.mark.timeout(60)
def test_clock_skew_says_your_clock_is_off(certs: CertificateAuthority) -> None:
    code, stdout, paths = probe("clock-skew", certs)
    report, found = findings(stdout)
    top = found[0]
    assert top["id"] == "message.clock_off", [f["id"] for f in found]
    title = re.fullmatch(r"Your clock is off by ~(\d+\.\d) s \(± ([\d.]+) ms\): it is behind "
                         r"Binance's server time", top["title"])
    assert title is not None, top["title"]
    assert title.group(1) == "5.0" and float(title.group(2)) < 1000
    assert top["basis"] == "confirmed" and top["confirmed_by"] == ["clock.server_time"]
    assert "message.late_delivery" not in {f["id"] for f in found}
    (experiment,) = [e for e in report["experiments"] if e["name"] == "clock.server_time"]
    assert experiment["outcome"] == "clock_off"
    assert abs(experiment["details"]["offset_ms"] - 5000) <= experiment["details"]["bound_ms"] + 1
    (stream,) = experiment["details"]["streams"].values()
    assert abs(stream["latency_ms"]) < 1000  # latency ± bound, read on Binance's clock
    assert paths.count("/api/v3/time") == 4 and code == 1


@pytest.mark.timeout(60)
def test_late_delivery_says_delivery_is_late(certs: CertificateAuthority) -> None:
    code, stdout, _ = probe("late-delivery", certs, fmt="markdown")
    assert "Delivery is late: events arrive 3.0" in stdout, stdout
    assert "clock is off" not in stdout and "message.clock_skew" not in stdout
    assert code == 1


@pytest.mark.timeout(60)
def test_healthy_is_neither_and_asks_no_time(certs: CertificateAuthority) -> None:
    code, stdout, paths = probe("healthy", certs)
    report, found = findings(stdout)
    assert [f["id"] for f in found] == ["probe.healthy"]
    assert not [e for e in report["experiments"] if e["name"] == "clock.server_time"]
    assert paths == ["/ws/btcusdt@aggTrade"] and code in (0, 1)  # 1: a loaded machine


@pytest.mark.timeout(60)
def test_a_binance_host_pinned_for_the_stream_only_is_not_measured(
        certs: CertificateAuthority) -> None:
    _, stdout, paths = probe("clock-skew", certs, hostname="stream.binance.com")
    report, found = findings(stdout)
    assert found[0]["id"] == "message.clock_skew"
    (experiment,) = [e for e in report["experiments"] if e["name"] == "clock.server_time"]
    reason = ("not measured: no address for api.binance.com without asking DNS a question "
              "the run did not ask")
    assert experiment["outcome"] == "not_run" and experiment["result"] == reason
    assert reason in found[0]["hypothesis"]
    assert re.search(r"clock is behind by at least (4\.9\d|5\.0\d) s", found[0]["hypothesis"])
    assert "/api/v3/time" not in paths


@pytest.mark.timeout(90)
def test_watch_measures_the_clock_at_start_and_reports_latency_with_its_bound(
        certs: CertificateAuthority, tmp_path: Path) -> None:
    with start_fault("clock-skew", certs=certs, hostname="localhost") as scenario:
        done = run_cli("watch", "BTCUSDT", *scenario.cli_args, "--duration", "3s",
                       "--every", "10s", "--stall-floor", "5s", "--timeout", "2",
                       "--reports", str(tmp_path), "--json", timeout=60)
        paths = [r.path for r in scenario.server.requests] if scenario.server else []
    summary = json.loads(done.stdout)
    clock = summary["clock"]
    assert clock["measurements"] == 1 and abs(clock["offset_ms"] - 5000) <= clock["bound_ms"] + 1
    held = summary["held_stream"]
    assert abs(held["clock_offset_ms"] - 5000) < 50
    (stream,) = held["streams"].values()
    assert stream["event_lag_p50_ms"] == 0.0  # raw: the event times are 5 s ahead
    assert stream["event_latency_p50_ms"] < 1000  # read on Binance's clock
    assert "clock: this machine's clock is 5.00 s behind Binance's" in done.stderr
    assert "event-to-receipt latency" in (tmp_path / "summary.md").read_text()
    assert paths.count("/api/v3/time") == 4
