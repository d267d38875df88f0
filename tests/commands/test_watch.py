"""`binance-diag watch` through the CLI against each simulated fault a held stream meets:
the right conclusion, the incident report written, the exit code of DESIGN.md §5.

Short and compressed: a 1 s stall floor, probes every second, Binance's hours in seconds.
Every span is a multiple of `MS` (BINANCE_DIAG_TEST_MS scales them on a slow machine), and
the watch lets a stall investigation in flight at --duration finish, so a loaded machine
makes a test slower, not wrong.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from binance_diag.simulate.certs import CertificateAuthority
from binance_diag.simulate.scenario import start_fault
from binance_diag.simulate.server import ServerOptions
from tests.simulate.running import run_cli
from tests.utils import MS


@pytest.fixture(scope="module")
def certs() -> CertificateAuthority:
    """One CA for the module: certificates are the slow part of a TLS peer."""
    return CertificateAuthority()


def span(ms: float) -> str:
    """A CLI time option of `ms` milliseconds, scaled by MS (seconds, as the CLI reads)."""
    return f"{ms * MS:g}s"


OPTIONS = ServerOptions(stall_after_s=1000 * MS, shutdown_at=1000 * MS, lifetime=1000 * MS)
FAST = ("--every", span(1000), "--stall-factor", "3", "--timeout", f"{2000 * MS:g}")
"""Probes every second; 2 s per stage, so a loaded machine's slow handshake is no failure."""
STALLS = ("--stall-floor", span(1000))
"""For the stall faults: 10 median gaps, beyond most pauses of a loaded simulator."""
CALM = ("--stall-floor", span(5000))
"""For the others: a floor no loaded machine's hiccup reaches."""
TIMEOUT = 90_000 * MS
"""The test's timeout: start-up, the duration, an investigation finishing, the summary."""


def watch(fault: str, certs: CertificateAuthority, reports: Path, *extra: str,
          duration: float = 4000, floor: tuple[str, ...] = CALM,
          ) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    with start_fault(fault, certs=certs, options=OPTIONS) as scenario:
        result = run_cli("watch", "BTCUSDT", *scenario.cli_args, "--duration", span(duration),
                         *FAST, *floor, "--reports", str(reports), "--json", *extra,
                         timeout=TIMEOUT - 10_000 * MS)
    assert result.stdout, result.stderr
    return result, json.loads(result.stdout)


def incidents(reports: Path) -> list[dict[str, Any]]:
    found = [json.loads(p.read_text()) for p in sorted(reports.glob("incident-*.json"))]
    for incident in found:
        assert incident["schema"] == "binance-diag/watch-incident/1"
        stem = Path(f"incident-{incident['incident']['number']:04d}")
        markdown = next(reports.glob(f"{stem}-*.md")).read_text()
        assert incident["incident"]["title"] in markdown
        assert "## Watch timeline around the event" in markdown
    return found


def conclusions(reports: Path) -> list[str]:
    return [i["incident"]["conclusion"] for i in incidents(reports)]


@pytest.mark.timeout(TIMEOUT)
def test_healthy_watch_is_ok_with_statistics(certs: CertificateAuthority, tmp_path: Path
                                            ) -> None:
    result, summary = watch("healthy", certs, tmp_path, duration=5000)
    assert result.returncode == 0, result.stderr
    held = summary["held_stream"]
    assert held["messages"] >= 10 and held["connections"] == 1
    assert held["streams"]["btcusdt@aggTrade"]["gap_median_ms"] == pytest.approx(100, rel=0.3)
    probes = summary["probes"]
    assert probes["runs"] >= 2 and probes["success_pct"] == 100.0
    assert {s["stage"] for s in probes["stages"]} >= {"tcp", "tls", "first_message"}
    assert conclusions(tmp_path) == []
    assert (tmp_path / "summary.md").read_text().startswith("# binance-diag watch: OK")
    assert "held:" in result.stderr  # plain periodic lines when stderr is not a terminal


@pytest.mark.timeout(TIMEOUT)
def test_stuck_connection_path_works(certs: CertificateAuthority, tmp_path: Path) -> None:
    result, summary = watch("stall-held", certs, tmp_path, duration=6000, floor=STALLS)
    assert result.returncode == 2, result.stderr
    found = incidents(tmp_path)
    # A loaded machine may pause the peer past the floor first: that gap is "resumed".
    stall = next(i for i in found if i["incident"]["conclusion"] == "connection_stuck")
    assert stall["incident"]["recovery_s"] is not None  # reconnected, and how long it took
    assert stall["probe"]["status"] == "ok"  # the fresh connection's own report
    assert any("LIST_SUBSCRIPTIONS answered" in line for line in stall["incident"]["evidence"])
    assert summary["held_stream"]["connections"] >= 2


@pytest.mark.timeout(TIMEOUT)
def test_every_connection_stalls_path_down(certs: CertificateAuthority, tmp_path: Path
                                          ) -> None:
    """The duration ends during the investigation, whatever the load: it starts 2 s after
    the first message (before 6 s unless connecting took 4 s) and waits 5 s for the fresh
    connection's first message. It finishes, and its conclusion is there."""
    result, _ = watch("stall-all", certs, tmp_path, "--message-timeout", f"{5000 * MS:g}",
                      duration=6000, floor=STALLS)
    assert result.returncode == 2, result.stderr
    assert "the stall investigation in flight may finish" in result.stderr
    stall = next(i for i in incidents(tmp_path) if i["incident"]["conclusion"] == "path_down"
                 and i["incident"]["kind"] == "stall")
    assert "first_message" in stall["incident"]["title"]
    assert stall["probe"]["failed_stage"] == "first_message"


@pytest.mark.timeout(TIMEOUT)
def test_quiet_market(certs: CertificateAuthority, tmp_path: Path) -> None:
    result, summary = watch("market-quiet", certs, tmp_path, duration=6000, floor=STALLS)
    found = conclusions(tmp_path)
    assert "market_quiet" in found, result.stderr
    if set(found) == {"market_quiet"}:  # a loaded machine may add a "resumed" gap before
        assert result.returncode == 0, result.stderr  # nothing is broken
    assert not {"path_down", "probe_failed", "connection_stuck"} & set(found)
    assert summary["events"]["counts"]["market_quiet"] == 1


@pytest.mark.timeout(TIMEOUT)
def test_pong_timeout_is_binance_policy_close(certs: CertificateAuthority, tmp_path: Path
                                             ) -> None:
    result, _ = watch("pong-lost", certs, tmp_path)
    assert result.returncode == 1, result.stderr  # a warning, reconnected
    close = incidents(tmp_path)[0]["incident"]
    assert close["conclusion"] == "policy_close" and close["details"]["code"] == 1008
    assert any("pongs went out on time" in line for line in close["evidence"])
    assert close["recovery_s"] is not None


@pytest.mark.timeout(TIMEOUT)
def test_server_shutdown_is_expected(certs: CertificateAuthority, tmp_path: Path) -> None:
    result, summary = watch("maintenance", certs, tmp_path)
    assert result.returncode == 0, result.stderr
    close = incidents(tmp_path)[0]["incident"]
    assert close["conclusion"] == "server_shutdown" and close["expected"]
    assert close["recovery_s"] is not None
    assert summary["held_stream"]["connections"] == 2


@pytest.mark.timeout(TIMEOUT)
def test_daily_disconnect_fast_forwarded(certs: CertificateAuthority, tmp_path: Path) -> None:
    result, _ = watch("daily-disconnect", certs, tmp_path, "--lifetime", span(1000),
                      duration=4000)
    assert result.returncode == 0, result.stderr
    found = conclusions(tmp_path)
    assert found and set(found) == {"daily_disconnect"}


@pytest.mark.timeout(TIMEOUT)
def test_unrecognised_lifetime_is_an_unexpected_close(certs: CertificateAuthority,
                                                      tmp_path: Path) -> None:
    result, _ = watch("daily-disconnect", certs, tmp_path, "--lifetime", "1h",
                      duration=4000)
    assert result.returncode == 1, result.stderr
    assert set(conclusions(tmp_path)) == {"unexpected_close"}


@pytest.mark.timeout(20)
def test_bad_span_is_exit_3() -> None:
    result = run_cli("watch", "BTCUSDT", "--duration", "soon", "--endpoint",
                     "ws://127.0.0.1:9", timeout=10_000 * MS)
    assert result.returncode == 3
    assert "--duration 'soon'" in result.stderr
