"""`binance-diag demo`: the simulator and the real probe in one process, offline.

Through the real command (a subprocess) where the exit code and output are the point; short
stage budgets (`--timeout`) keep the timeout faults cheap.
"""

from __future__ import annotations

import io
import json
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from binance_diag.cli import main
from binance_diag.exitcodes import ExitCode
from binance_diag.model import ErrorKind, StageName
from binance_diag.run.demo import run_demo_all
from binance_diag.simulate.faults import FAULTS
from tests.diagnose.test_simulated_faults import expected_finding
from tests.schema_check import VALIDATOR
from tests.simulate.running import run_cli

TIMEOUT = "0.5"
"""Seconds per stage: a timeout fault costs this, a loopback stage a few ms."""


def test_default_demo_is_the_tls_hang_incident() -> None:
    result = run_cli("demo", "--timeout", TIMEOUT)
    assert result.returncode == 2, result.stderr
    assert "FAILED at TLS handshake" in result.stdout
    assert "tls.handshake_timeout" in result.stdout
    assert "Recommended Solutions" in result.stdout
    assert f"binance-diag demo --fault tls-hang --timeout {TIMEOUT}" in result.stdout
    assert result.stderr.startswith("binance-diag demo: tls-hang - ")
    assert "binance-diag probe BTCUSDT --endpoint wss://stream.binance.com:" in result.stderr


def test_healthy_demo_exits_0() -> None:
    result = run_cli("demo", "--fault", "healthy", "--timeout", TIMEOUT)
    assert result.returncode == 0, result.stderr
    assert "HEALTHY" in result.stdout


def test_json_report_follows_the_schema(tmp_path: Path) -> None:
    copy = tmp_path / "report.json"
    result = run_cli("demo", "--fault", "close-1008", "--format", "json", "--output", str(copy))
    assert result.returncode == 2, result.stderr
    document = json.loads(result.stdout)
    VALIDATOR.validate(document)
    assert json.loads(copy.read_text(encoding="utf-8")) == document
    assert document["failed_stage"] == "first_message"
    failed = [s for s in document["stages"] if s["name"] == "first_message"][0]
    assert failed["error"]["kind"] == "closed"
    assert document["findings"][0]["id"] == "message.closed_policy"


@pytest.mark.timeout(30)
def test_all_faults_are_diagnosed_as_catalogued() -> None:
    result = run_cli("demo", "--all", "--timeout", TIMEOUT)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    header = lines.index(next(line for line in lines if line.startswith("fault ")))
    assert lines[header].split()[:6] == ["fault", "failed", "stage", "error", "kind", "top"]
    rows = [line.split() for line in lines[header + 1:] if line.strip()][:-1]
    assert [row[0] for row in rows] == list(FAULTS)
    for row in rows:
        fault = FAULTS[row[0]]
        expected = fault.expectation.split("/") if fault.expected else ["-", "-"]
        assert row[1:3] == expected, row
        # The demo runs the experiments: a fault they prove has its confirmed finding.
        finding, took = row[3], row[4:]
        if took[0] == "(confirmed)":
            took = took[1:]
        assert finding == (fault.confirmed or expected_finding(fault.name)), row
        assert took[0].endswith("s") and took[-1] == "ok", row
    assert lines[-1].startswith(f"all {len(FAULTS)} faults diagnosed as catalogued in ")


@pytest.mark.timeout(20)
def test_all_reports_a_mismatch_and_exits_2() -> None:
    """The self-check can fail: a catalogue entry that lies is caught."""
    lying = replace(FAULTS["healthy"], stage=StageName.TLS, error=ErrorKind.TIMEOUT)
    out = io.StringIO()
    code = run_demo_all(0.5, out=out, faults=[lying, FAULTS["tcp-refused"]])
    assert code is ExitCode.CRITICAL
    text = out.getvalue()
    assert "MISMATCH: expected tls/timeout, got passes" in text
    assert text.rstrip().splitlines()[-1].startswith(
        "1 of 2 faults NOT diagnosed as catalogued (healthy: expected tls/timeout, got passes)")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fault", "tls-hng"], "unknown fault 'tls-hng': did you mean tls-hang"),
        (["--all", "--fault", "healthy"], "--all runs every fault: drop --fault"),
        (["--all", "--format", "json"], "--all prints a table"),
        (["--fault", "healthy", "--timeout", "0"], "--timeout must be"),
        (["--fault", "healthy", "--timeout", "nan"], "--timeout must be"),
        (["--fault", "", "--timeout", TIMEOUT], "--fault is empty"),
        (["--fault", " ", "--timeout", TIMEOUT], "--fault is empty"),
        # Checked before the simulator starts: no banner claims a probe that never runs.
        (["--output", "/", "--timeout", TIMEOUT], "--output '/': a directory"),
    ],
)
def test_bad_input_exits_3_with_one_line(
    args: list[str], message: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """In-process through the real entry point (cli.main): nothing is started."""
    monkeypatch.setattr(sys, "argv", ["binance-diag", "demo", *args])
    with pytest.raises(SystemExit) as exited:
        main()
    out, err = capsys.readouterr()
    assert exited.value.code == 3
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"binance-diag: error: {message}"), err
