"""`probe -q` (the verdict line only) and `probe -v` (curl -v's trace on stderr), run as a
user runs them against simulated faults on loopback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from binance_diag.simulate.scenario import start_fault
from tests.commands.helpers import assert_one_error_line, run_cli

FAST = ("--timeout", "1", "--loop-threshold", "60000")
"""A loop blockage on a busy test machine must not turn OK into WARNING here."""


@pytest.mark.timeout(60)
def test_quiet_healthy_prints_one_ok_line() -> None:
    with start_fault("healthy") as scenario:
        result = run_cli("probe", "BTCUSDT", *scenario.cli_args, *FAST, "-q")
    assert result.stderr == ""
    if result.returncode == 1:  # a busy machine: a stage slow enough to be a warning
        assert re.fullmatch(r"WARNING: [^\n]+\n", result.stdout), result.stdout
        return
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"OK: btcusdt@aggTrade delivers data; every stage passed in "
                        r"[\d.]+ ms\n", result.stdout), result.stdout


@pytest.mark.timeout(60)
def test_quiet_failure_prints_the_verdict_and_the_file_gets_the_report(tmp_path: Path) -> None:
    out = tmp_path / "probe.xml"
    with start_fault("http-451") as scenario:
        result = run_cli("probe", "BTCUSDT", *scenario.cli_args, *FAST, "--quiet",
                         "--format", "junit", "--output", str(out))
    assert result.returncode == 2, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("CRITICAL: "), result.stdout
    assert "451" in lines[0]
    assert out.read_text(encoding="utf-8").startswith("<?xml")


@pytest.mark.timeout(30)
@pytest.mark.parametrize(("args", "message"), [
    (("-q", "--format", "json"), "-q prints the verdict line only: --format json needs"),
    (("-q", "-v"), "-q and -v exclude each other"),
    (("-v", "--endpoint", "ws://127.0.0.1:9,ws://127.0.0.1:10"), "-v applies to one endpoint"),
])
def test_conflicting_verbosity_is_exit_3_before_any_packet(
        args: tuple[str, ...], message: str) -> None:
    assert_one_error_line(run_cli("probe", "BTCUSDT", "--endpoint", "ws://127.0.0.1:9", *args),
                          message)


@pytest.mark.timeout(60)
def test_verbose_traces_every_stage_on_stderr_and_keeps_the_report() -> None:
    with start_fault("healthy") as scenario:
        result = run_cli("probe", "BTCUSDT", *scenario.cli_args, *FAST, "-v")
        port = scenario.port
    assert result.returncode in (0, 1), result.stderr  # 1: a stage slowed by a busy machine
    assert "Binance Stream Connectivity Report" in result.stdout
    trace = result.stderr
    for line in (
        f"* connect IPv4 127.0.0.1 port {port}: ok",
        "> ClientHello SNI stream.binance.com, ALPN [\"http/1.1\"]",
        "< TLSv1.3 ",
        "< certificate: subject ",
        "<   issuer ",
        "> GET /ws/btcusdt@aggTrade HTTP/1.1",
        "> User-Agent: binance-diag",
        "< HTTP/1.1 101 Switching Protocols",
        "< sec-websocket-accept: ",
        "< frame btcusdt@aggTrade: {\"latency_ms\":",
    ):
        assert line in trace, line
    order = [trace.index(f"* [{stage}] ok in ") for stage in
             ("dns", "tcp", "tls", "ws_upgrade", "first_message")]
    assert order == sorted(order)
    assert re.search(r"^\* \d\d:\d\d:\d\d\.\d{3} \[tls\] TLS ClientHello sent", trace, re.M)


@pytest.mark.timeout(60)
def test_verbose_shows_the_stuck_stage_and_its_error() -> None:
    with start_fault("tls-hang") as scenario:
        result = run_cli("probe", "BTCUSDT", *scenario.cli_args, "--tls-timeout", "0.3", "-v")
    assert result.returncode == 2, result.stderr
    assert "* [tls] timeout in " in result.stderr
    assert "! [tls] timeout: " in result.stderr
    assert "* [ws_upgrade] skipped" in result.stderr
