"""run/repeat.py: `probe --count N --interval S [--max-failures K]` through the CLI against
the loopback simulator: one summary for N full probes, its exit code, its bound."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from binance_diag.simulate.certs import CertificateAuthority
from binance_diag.simulate.scenario import start_fault
from binance_diag.simulate.server import ServerOptions
from tests.figures.test_series import COUNT_VALIDATOR
from tests.simulate.running import run_cli
from tests.utils import MS

TIMEOUT = 60_000 * MS
QUICK = ("--timeout", f"{2000 * MS:g}", "--no-experiments",
         "--loop-threshold", f"{5000 * MS * 1000:g}")
"""A loaded machine's first-run imports block the loop for 0.5 s: a degraded run, not the
subject here."""


@pytest.fixture(scope="module")
def certs() -> CertificateAuthority:
    return CertificateAuthority()


def count(fault: str, certs: CertificateAuthority, *extra: str,
          options: ServerOptions | None = None) -> tuple[int, dict[str, Any], str]:
    with start_fault(fault, certs=certs, options=options) as scenario:
        result = run_cli("probe", "BTCUSDT", *scenario.cli_args, *QUICK, "--format", "json",
                         *extra, timeout=TIMEOUT - 10_000 * MS)
    document: dict[str, Any] = json.loads(result.stdout)
    COUNT_VALIDATOR.validate(document)
    return result.returncode, document, result.stderr


@pytest.mark.timeout(TIMEOUT)
def test_healthy_runs_are_summarised(certs: CertificateAuthority) -> None:
    started = time.monotonic()
    code, document, stderr = count("healthy", certs, "--count", "3", "--interval",
                                   f"{300 * MS:g}")
    assert code == 0, stderr
    assert document["runs"] == 3 and document["success_pct"] == 100.0
    stages = {s["stage"]: s for s in document["stages"]}
    assert stages["tls"]["runs"] == 3 and stages["tls"]["p50_ms"] is not None
    assert stages["tls"]["p50_ms"] <= stages["tls"]["p95_ms"] <= stages["tls"]["max_ms"]
    assert [line.split(":")[1] for line in stderr.splitlines()
            if line.startswith("binance-diag: probe ")] == [" probe 1/3", " probe 2/3",
                                                            " probe 3/3"]
    assert time.monotonic() - started >= 2 * 300 * MS  # the intervals were kept


@pytest.mark.timeout(TIMEOUT)
def test_a_failing_fault_is_critical_with_its_error_kind(certs: CertificateAuthority) -> None:
    code, document, _ = count("tcp-refused", certs, "--count", "2", "--interval", "0")
    assert code == 2
    assert document["failed_runs"] == 2 and document["verdict"] == "CRITICAL"
    tcp = next(s for s in document["stages"] if s["stage"] == "tcp")
    assert tcp["failures"] == {"refused": 2} and tcp["success_pct"] == 0.0
    assert document["worst"]["failed_stage"] == "tcp"


@pytest.mark.timeout(TIMEOUT)
def test_a_mix_within_max_failures_is_ok(certs: CertificateAuthority) -> None:
    """stall-all: streams go silent 2 s after the first connection. The first run gets its
    trade; the next two, 2.5 s later and after, time out at first_message."""
    options = ServerOptions(stall_after_s=2000 * MS)
    args = ("--count", "3", "--interval", f"{2500 * MS:g}")
    code, document, stderr = count("stall-all", certs, *args, "--max-failures", "2",
                                   options=options)
    assert code == 0, stderr  # two failures tolerated: the healthy run decides
    assert (document["runs"], document["failed_runs"]) == (3, 2)
    first = next(s for s in document["stages"] if s["stage"] == "first_message")
    assert first["passed"] == 1 and first["failures"] == {"timeout": 2}
    code, document, _ = count("stall-all", certs, *args, "--max-failures", "1",
                              options=options)
    assert code == 2 and document["verdict"] == "CRITICAL"




@pytest.mark.timeout(TIMEOUT)
def test_bad_combinations_are_exit_3() -> None:
    result = run_cli("probe", "BTCUSDT", "--endpoint", "ws://127.0.0.1:9", "--max-failures",
                     "1", timeout=20_000 * MS)
    assert result.returncode == 3 and "--max-failures applies to --count" in result.stderr
    result = run_cli("probe", "BTCUSDT", "--endpoint", "ws://127.0.0.1:9", "--count", "2",
                     "--format", "html", timeout=20_000 * MS)
    assert result.returncode == 3 and "--count summarises one endpoint" in result.stderr
