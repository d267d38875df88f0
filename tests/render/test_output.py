"""Delivering a report: --format, --output, GITHUB_STEP_SUMMARY, exit codes, via the CLI.

CLI runs probe a refused loopback port only (NETWORK RULE: 127.0.0.1 and nothing else).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from tests.schema_check import VALIDATOR

TIMEOUT = 30


def refused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def probe(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "binance_diag", "probe", "BTCUSDT", "--endpoint",
               f"ws://127.0.0.1:{refused_port()}", *args]
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("GITHUB_STEP_SUMMARY", "NO_COLOR")}
    return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT,
                          check=False, env={**environment, **(env or {})})


@pytest.mark.timeout(TIMEOUT)
def test_cli_default_is_readable_plain_text_off_a_terminal() -> None:
    result = probe()
    assert result.returncode == 2, result.stderr
    assert "\x1b" not in result.stdout + result.stderr
    assert "Status: ❌ FAILED at TCP connect — connection refused" in result.stdout
    assert "finding tcp.refused · critical · blame: remote" in result.stdout
    assert result.stderr == "", "no progress display when stderr is not a terminal"


@pytest.mark.timeout(TIMEOUT)
@pytest.mark.parametrize("output_format", ["markdown", "junit", "nagios", "json"])
def test_cli_formats(output_format: str, tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = probe("--format", output_format, "--output", str(out))
    assert result.returncode == 2, result.stderr
    assert out.read_text(encoding="utf-8") == result.stdout
    if output_format == "markdown":
        tokens = MarkdownIt("commonmark").enable("table").parse(result.stdout)
        assert any(t.type == "table_open" for t in tokens)
    elif output_format == "junit":
        suite = ET.fromstring(result.stdout).find("testsuite")
        assert suite is not None and suite.get("errors") == "1"
    elif output_format == "nagios":
        assert result.stdout.startswith("BINANCE-DIAG CRITICAL: tcp connect failed: ")
        assert result.stdout.count("\n") == 1
    else:
        document = json.loads(result.stdout)
        VALIDATOR.validate(document)
        assert document["findings"][0]["id"] == "tcp.refused"
        assert document["analysis"]


@pytest.mark.timeout(TIMEOUT)
def test_cli_github_step_summary(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    result = probe("--format", "json", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert result.returncode == 2
    json.loads(result.stdout)
    assert result.stderr.startswith("::error title=binance-diag%3A tcp failed::")
    assert "# Binance Stream Connectivity Report — BTCUSDT aggTrade" in summary.read_text()


@pytest.mark.timeout(TIMEOUT)
@pytest.mark.parametrize(("args", "message"), [
    (["--warn", "tls"], "invalid --warn 'tls': expected STAGE=MS"),
    (["--crit", "nosuch=5"], "invalid --crit stage 'nosuch'"),
    (["--warn", "tls=500", "--crit", "tls=100"], "--warn tls=500 is above --crit tls=100"),
    (["--format", "yaml"], "--format"),
])
def test_cli_bad_output_options_exit_3(args: list[str], message: str) -> None:
    result = probe(*args)
    assert result.returncode == 3, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert message in result.stderr


@pytest.mark.timeout(TIMEOUT)
@pytest.mark.parametrize(("where", "message"), [
    ("missing/dir/r.json", "does not exist"),
    ("", "a directory, not a file name"),
    (".", "a directory, not a file name"),
])
def test_cli_unusable_output_is_refused_before_probing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str, message: str) -> None:
    monkeypatch.chdir(tmp_path)
    result = probe("--output", where)
    assert result.returncode == 3, result.stderr
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert message in line and "Traceback" not in result.stderr


@pytest.mark.timeout(TIMEOUT)
@pytest.mark.parametrize("output_format", ["rich", "markdown", "json", "junit", "nagios"])
def test_a_proxy_password_on_the_command_line_never_reaches_the_report(
        output_format: str) -> None:
    proxy = f"http://alice:s3cret@127.0.0.1:{refused_port()}"
    result = probe("--proxy", proxy, "--format", output_format)
    assert result.returncode == 2, result.stderr
    assert "s3cret" not in result.stdout + result.stderr
    if output_format in ("rich", "markdown", "json"):
        assert "***@127.0.0.1" in result.stdout


def test_redact_passwords_in_any_url() -> None:
    from binance_diag.commands.common import command_line
    from binance_diag.safety.redact import redact_text as redact_passwords

    assert redact_passwords("socks5h://bob:pw@[::1]:1080") == "socks5h://***@[::1]:1080"
    assert redact_passwords("wss://stream.binance.com:9443/ws/a:b@c") == \
        "wss://stream.binance.com:9443/ws/a:b@c", "a path is not a password"
    assert command_line(["probe", "--proxy=http://u:p@h:1"]) == \
        "binance-diag probe '--proxy=http://***@h:1'"
