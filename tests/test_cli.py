"""The command line as a user meets it: exit codes, one-line errors, no tracebacks."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from tests.schema_check import VALIDATOR


def run_cli(
    *args: str, timeout: float = 30, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the CLI with no proxy variables from the caller's environment, unless given."""
    clean = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    return subprocess.run(
        [sys.executable, "-m", "binance_diag", *args],
        capture_output=True, text=True, timeout=timeout, check=False, env={**clean, **(env or {})},
    )


def closed_loopback_port() -> int:
    """A loopback port with nothing listening: connecting to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("binance-diag ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["probe", "BTC-USDT"], "invalid symbol 'BTC-USDT'"),
        (["probe"], "Missing argument"),
        (["probe", "BTCUSDT", "--endpoint", "http://x"], "invalid endpoint"),
        (["probe", "BTCUSDT", "--resolve", "nonsense"], "invalid --resolve"),
        (["probe", "BTCUSDT", "--ca-bundle", "/nonexistent/ca.pem"], "cannot read --ca-bundle"),
        (["probe", "BTCUSDT", "--timeout", "abc"], "--timeout"),
        (["probe", "BTCUSDT", "--timeout", "0"], "--timeout must be"),
        (["probe", "BTCUSDT", "--no-such-flag"], "No such option"),
        (["frobnicate"], "No such command"),
    ],
)
def test_bad_input_exits_3_with_one_line(args: list[str], message: str) -> None:
    result = run_cli(*args)
    assert result.returncode == 3, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0]
    assert "Traceback" not in result.stderr


def test_endpoints_lists_presets() -> None:
    result = run_cli("endpoints")
    assert result.returncode == 0
    for preset in ("spot", "spot-443", "data-stream", "usdm", "coinm", "testnet", "us"):
        assert f"\n{preset} " in "\n" + result.stdout
    assert "wss://fstream.binance.com/market" in result.stdout


@pytest.mark.timeout(30)
def test_refused_port_is_critical_with_valid_json(tmp_path) -> None:  # type: ignore[no-untyped-def]
    port = closed_loopback_port()
    out = tmp_path / "report.json"
    result = run_cli("probe", "BTCUSDT", "--endpoint", f"ws://127.0.0.1:{port}",
                     "--format", "json", "--output", str(out))
    assert result.returncode == 2, result.stderr
    document = json.loads(result.stdout)
    VALIDATOR.validate(document)
    assert document["failed_stage"] == "tcp"
    tcp = document["stages"][1]
    assert tcp["error"]["kind"] == "refused"
    assert [s["status"] for s in document["stages"]] == [
        "ok", "failed", "skipped", "skipped", "skipped"]
    assert json.loads(out.read_text()) == document
