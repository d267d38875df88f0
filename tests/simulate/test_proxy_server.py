"""simulate/proxy_server.py: the loopback HTTP CONNECT and SOCKS5 proxies, spoken to byte by
byte over real loopback sockets, forwarding to a loopback echo peer.

No test asks a proxy for anything but loopback except to see it refused: the proxies look
names up in their own table only, so a refused name is never resolved.
"""

from __future__ import annotations

import asyncio
import base64
import socket
import struct
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from binance_diag.simulate.peer import LOOPBACK_V6, StreamPeer
from binance_diag.simulate.proxy_server import HttpConnectProxy, Socks5Proxy
from binance_diag.simulate.tcp import RefusingPort
from tests.utils import MS, ipv6_loopback

TIMEOUT = 2000 * MS
HOST = "stream.binance.com"

pytestmark = pytest.mark.timeout(10)


class EchoPeer(StreamPeer):
    """Sends back whatever it reads: proof that a tunnel reaches it."""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()


@pytest.fixture
def echo() -> Iterator[EchoPeer]:
    with EchoPeer() as peer:
        yield peer


@contextmanager
def client(proxy: HttpConnectProxy | Socks5Proxy) -> Iterator[socket.socket]:
    with socket.create_connection((proxy.host, proxy.port), timeout=TIMEOUT) as sock:
        yield sock


def read_head(sock: socket.socket) -> bytes:
    """An HTTP response head, up to the blank line (or what came before EOF)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def read_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def assert_echoes(sock: socket.socket) -> None:
    sock.sendall(b"through the tunnel")
    assert read_exactly(sock, 18) == b"through the tunnel"


def connect(sock: socket.socket, authority: str, *headers: str) -> bytes:
    lines = [f"CONNECT {authority} HTTP/1.1", f"Host: {authority}", *headers, "", ""]
    sock.sendall("\r\n".join(lines).encode())
    return read_head(sock)


# -- HTTP CONNECT ----------------------------------------------------------------------------


def test_connect_opens_a_tunnel_to_loopback(echo: EchoPeer) -> None:
    with HttpConnectProxy() as proxy, client(proxy) as sock:
        assert connect(sock, f"127.0.0.1:{echo.port}") == \
            b"HTTP/1.1 200 Connection established\r\n\r\n"
        assert_echoes(sock)
        assert proxy.requests == [f"127.0.0.1:{echo.port}"]


def test_connect_looks_names_up_in_its_own_table(echo: EchoPeer) -> None:
    with HttpConnectProxy(hosts={"Stream.Binance.COM": "127.0.0.1"}) as proxy, \
            client(proxy) as sock:
        assert connect(sock, f"{HOST}:{echo.port}").startswith(b"HTTP/1.1 200 ")
        assert_echoes(sock)


@pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 loopback here")
def test_connect_to_a_bracketed_ipv6_loopback() -> None:
    with EchoPeer(LOOPBACK_V6) as echo6, HttpConnectProxy() as proxy, client(proxy) as sock:
        assert connect(sock, f"[::1]:{echo6.port}").startswith(b"HTTP/1.1 200 ")
        assert_echoes(sock)


@pytest.mark.parametrize("authority", [f"{HOST}:443", "192.0.2.1:443", "127.0.0.1:http",
                                       "127.0.0.1:"])
def test_connect_refuses_what_does_not_end_on_loopback(authority: str) -> None:
    with HttpConnectProxy() as proxy, client(proxy) as sock:
        assert connect(sock, authority) == b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"
        assert proxy.requests == [authority]


def test_connect_to_a_closed_port_is_a_bad_gateway() -> None:
    with RefusingPort() as closed, HttpConnectProxy() as proxy, client(proxy) as sock:
        assert connect(sock, f"127.0.0.1:{closed.port}").startswith(b"HTTP/1.1 502 ")


def test_only_connect_is_served() -> None:
    with HttpConnectProxy() as proxy, client(proxy) as sock:
        sock.sendall(b"GET http://127.0.0.1/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert read_head(sock).startswith(b"HTTP/1.1 405 Method Not Allowed\r\n")


def test_connect_with_credentials_set_asks_for_them(echo: EchoPeer) -> None:
    token = base64.b64encode(b"alice:s3cret").decode()
    wrong = base64.b64encode(b"alice:wrong").decode()
    with HttpConnectProxy(username="alice", password="s3cret") as proxy:
        assert proxy.url == f"http://alice:s3cret@127.0.0.1:{proxy.port}"
        with client(proxy) as sock:
            head = connect(sock, f"127.0.0.1:{echo.port}")
            assert head.startswith(b"HTTP/1.1 407 Proxy Authentication Required\r\n")
            assert b'Proxy-Authenticate: Basic realm="binance-diag"' in head
        with client(proxy) as sock:
            head = connect(sock, f"127.0.0.1:{echo.port}", f"Proxy-Authorization: Basic {wrong}")
            assert head.startswith(b"HTTP/1.1 407 ")
        with client(proxy) as sock:
            head = connect(sock, f"127.0.0.1:{echo.port}", f"proxy-authorization: Basic {token}")
            assert head.startswith(b"HTTP/1.1 200 ")
            assert_echoes(sock)
    assert HttpConnectProxy().url == "http://127.0.0.1:0"  # not started: the port asked for


# -- SOCKS5 ----------------------------------------------------------------------------------

SUCCEEDED, NOT_ALLOWED, REFUSED = 0, 2, 5


def socks_greet(sock: socket.socket, *methods: int) -> bytes:
    sock.sendall(bytes([5, len(methods), *methods]))
    return read_exactly(sock, 2)


def socks_connect(sock: socket.socket, address: bytes, port: int, command: int = 1) -> bytes:
    """Send a request with an already encoded address (ATYP + address); the 10-byte reply."""
    sock.sendall(bytes([5, command, 0]) + address + struct.pack("!H", port))
    return read_exactly(sock, 10)


def ipv4(text: str) -> bytes:
    return b"\x01" + socket.inet_aton(text)


def name(text: str) -> bytes:
    return b"\x03" + bytes([len(text)]) + text.encode()


def test_socks5_connects_to_a_loopback_address(echo: EchoPeer) -> None:
    with Socks5Proxy() as proxy, client(proxy) as sock:
        assert socks_greet(sock, 0) == b"\x05\x00"
        reply = socks_connect(sock, ipv4("127.0.0.1"), echo.port)
        assert reply == b"\x05\x00\x00\x01\x7f\x00\x00\x01" + struct.pack("!H", echo.port)
        assert_echoes(sock)
        assert proxy.requests == [f"127.0.0.1:{echo.port}"]
        assert proxy.url == f"socks5h://127.0.0.1:{proxy.port}"


def test_socks5_resolves_names_in_its_own_table(echo: EchoPeer) -> None:
    with Socks5Proxy(hosts={HOST: "127.0.0.1"}) as proxy, client(proxy) as sock:
        socks_greet(sock, 0)
        assert socks_connect(sock, name(HOST), echo.port)[1] == SUCCEEDED
        assert_echoes(sock)
        assert proxy.requests == [f"{HOST}:{echo.port}"]


@pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 loopback here")
def test_socks5_connects_to_the_ipv6_loopback() -> None:
    with EchoPeer(LOOPBACK_V6) as echo6, Socks5Proxy() as proxy, client(proxy) as sock:
        socks_greet(sock, 0)
        address = b"\x04" + socket.inet_pton(socket.AF_INET6, "::1")
        assert socks_connect(sock, address, echo6.port)[1] == SUCCEEDED
        assert_echoes(sock)


@pytest.mark.parametrize(("address", "command"), [
    (name(HOST), 1),  # not in its table: never resolved, refused
    (ipv4("192.0.2.1"), 1),
    (ipv4("127.0.0.1"), 2),  # BIND is not served
])
def test_socks5_refuses_what_it_does_not_serve(echo: EchoPeer, address: bytes,
                                               command: int) -> None:
    with Socks5Proxy() as proxy, client(proxy) as sock:
        socks_greet(sock, 0)
        assert socks_connect(sock, address, echo.port, command)[:2] == \
            bytes([5, NOT_ALLOWED])


def test_socks5_to_a_closed_port_is_refused() -> None:
    with RefusingPort() as closed, Socks5Proxy() as proxy, client(proxy) as sock:
        socks_greet(sock, 0)
        assert socks_connect(sock, ipv4("127.0.0.1"), closed.port)[:2] == bytes([5, REFUSED])


def test_socks5_without_an_acceptable_method_is_turned_away() -> None:
    with Socks5Proxy(username="alice", password="s3cret") as proxy, client(proxy) as sock:
        assert socks_greet(sock, 0) == b"\x05\xff"  # credentials are required
    with Socks5Proxy() as proxy, client(proxy) as sock:
        sock.sendall(b"\x04\x01\x00")  # SOCKS4
        assert read_exactly(sock, 2) == b"\x05\xff"


@pytest.mark.parametrize(("password", "status"), [("s3cret", b"\x01\x00"),
                                                  ("wrong", b"\x01\x01")])
def test_socks5_checks_username_and_password(echo: EchoPeer, password: str,
                                            status: bytes) -> None:
    with Socks5Proxy(username="alice", password="s3cret") as proxy, client(proxy) as sock:
        assert proxy.url == f"socks5h://alice:s3cret@127.0.0.1:{proxy.port}"
        assert socks_greet(sock, 0, 2) == b"\x05\x02"
        sock.sendall(b"\x01\x05alice" + bytes([len(password)]) + password.encode())
        assert read_exactly(sock, 2) == status
        if status == b"\x01\x00":
            assert socks_connect(sock, ipv4("127.0.0.1"), echo.port)[1] == SUCCEEDED
            assert_echoes(sock)
        else:
            assert sock.recv(1) == b""  # closed after the refusal
