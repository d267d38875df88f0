"""The shared runtime: loopback-only binding, ephemeral ports, quick and clean stops."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from binance_diag.simulate.dns_server import DnsServer
from binance_diag.simulate.peer import check_loopback
from binance_diag.simulate.server import BinanceStreamServer
from binance_diag.simulate.tcp import BlackholePeer, RefusingPort, TcpBehaviour, TcpPeer
from tests.simulate.conftest import ws_client
from tests.utils import MS


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "[::1]"])
def test_loopback_addresses_are_accepted(host: str) -> None:
    assert check_loopback(host) in {"127.0.0.1", "127.8.9.10", "::1"}


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.1", "2001:db8::1", "localhost"])
def test_anything_else_is_refused(host: str) -> None:
    with pytest.raises(ValueError):
        check_loopback(host)


def test_external_needs_an_explicit_opt_in() -> None:
    assert check_loopback("192.0.2.1", allow_external=True) == "192.0.2.1"
    with pytest.raises(ValueError, match="IP literals"):
        check_loopback("localhost", allow_external=True)


@pytest.mark.parametrize(
    "make",
    [
        lambda: BinanceStreamServer(host="192.0.2.1"),
        lambda: DnsServer({}, host="0.0.0.0"),
        lambda: TcpPeer(TcpBehaviour.SILENT, host="10.0.0.1"),
        lambda: RefusingPort("192.0.2.1"),
        lambda: BlackholePeer("192.0.2.1"),
    ],
)
def test_every_peer_refuses_a_non_loopback_address_before_binding(make: object) -> None:
    with pytest.raises(ValueError, match="non-loopback"):
        make()  # type: ignore[operator]


def test_ports_are_ephemeral_and_distinct() -> None:
    with BinanceStreamServer() as first, BinanceStreamServer() as second:
        assert first.port and second.port and first.port != second.port


@pytest.mark.timeout(10)
def test_stop_is_quick_and_leaves_nothing_behind() -> None:
    threads_before = set(threading.enumerate())
    server = BinanceStreamServer("silent-stream").start()
    with ws_client(server) as client:
        started = time.perf_counter()
        server.stop()
        assert time.perf_counter() - started < 1000 * MS
        with pytest.raises(Exception):  # noqa: B017 - any closure will do
            client.recv(timeout=1000 * MS)
    assert set(threading.enumerate()) - threads_before == set()
    assert server.errors == []
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((server.host, server.port), timeout=1000 * MS).close()


def test_ipv6_loopback() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    server = BinanceStreamServer(host="::1")
    try:
        server.start()
    except OSError:
        pytest.skip("::1 not configured")
    try:
        with ws_client(server) as client:
            assert '"e":"aggTrade"' in str(client.recv(timeout=1000 * MS))
    finally:
        server.stop()


def test_a_peer_cannot_be_started_twice() -> None:
    with BinanceStreamServer() as server, pytest.raises(RuntimeError, match="already running"):
        server.start()
