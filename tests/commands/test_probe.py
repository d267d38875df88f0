"""`binance-diag probe` and `endpoints` (commands/probe.py), run as a user runs them,
against loopback only: options checked before any packet, warnings, the report and exit code."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.commands.helpers import assert_one_error_line, closed_loopback_port, run_cli
from tests.schema_check import VALIDATOR


@pytest.fixture
def dns_trap() -> Iterator[socket.socket]:
    """A loopback UDP socket to pass as --resolver: a DNS query the probe sends lands here."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.setblocking(False)
        yield sock


def trap_address(trap: socket.socket) -> str:
    host, port = trap.getsockname()
    return f"{host}:{port}"


def trapped(trap: socket.socket) -> bytes | None:
    """The first datagram the trap got, None if none (loopback delivery is immediate)."""
    try:
        return trap.recv(4096)
    except BlockingIOError:
        return None


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


@pytest.mark.parametrize(
    ("endpoint", "message"),
    [
        ("wss://[::1", "unbalanced [ ] around the host"),
        ("wss://127.0.0.1 :1", "host '127.0.0.1 ' is not an IP address or a DNS name"),
        ("wss://exa mple.test", "host 'exa mple.test' is not an IP address or a DNS name"),
        ("wss://u:p@nothing.test:1", "user:password@ is not supported"),
        ("wss://nothing.test#frag", "give the base URL, without #fragment"),
        ("ws://127.0.0.1:9,wss://exa mple.test", "host 'exa mple.test' is not"),
    ],
)
def test_bad_endpoint_host_is_refused_before_any_dns_query(
    endpoint: str, message: str, dns_trap: socket.socket,
) -> None:
    result = run_cli("probe", "BTCUSDT", "--endpoint", endpoint, "--resolver",
                     trap_address(dns_trap), "--timeout", "0.3")
    assert_one_error_line(result, f"invalid endpoint {endpoint.split(',')[-1]!r}: {message}")
    assert trapped(dns_trap) is None


def test_the_dns_trap_sees_a_query_for_a_valid_name(dns_trap: socket.socket) -> None:
    """The control for the test above: a well-formed host is asked of the trap."""
    result = run_cli("probe", "BTCUSDT", "--endpoint", "wss://nothing.test:1", "--resolver",
                     trap_address(dns_trap), "--timeout", "0.3", "--format", "nagios")
    assert result.returncode == 2, result.stderr
    query = trapped(dns_trap)
    assert query is not None and b"\x07nothing\x04test\x00" in query


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.timeout(20)
def test_ca_bundle_fifo_is_refused_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "ca.pem"
    os.mkfifo(fifo)
    result = run_cli("probe", "BTCUSDT", "--endpoint", "ws://127.0.0.1:9", "--ca-bundle",
                     str(fifo), timeout=10)
    assert_one_error_line(result, f"--ca-bundle {fifo} is not a regular file")


@pytest.mark.timeout(30)
def test_base_url_with_ws_and_a_resolve_entry_for_no_target() -> None:
    """`/ws` as Binance documents the base URL is not doubled; an unused --resolve is a
    warning (curl ignores it silently), not an error: the probe still runs."""
    port = closed_loopback_port()
    result = run_cli("probe", "BTCUSDT", "--endpoint", f"ws://127.0.0.1:{port}/ws",
                     "--resolve", "stream.binance.com:443:127.0.0.1", "--format", "json")
    assert result.returncode == 2, result.stderr
    assert json.loads(result.stdout)["target"]["url"] == (
        f"ws://127.0.0.1:{port}/ws/btcusdt@aggTrade")
    assert result.stderr.splitlines() == [
        f"binance-diag: warning: --resolve stream.binance.com:443 matches no endpoint probed "
        f"(127.0.0.1:{port}): ignored, as curl does"]
