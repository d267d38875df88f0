"""simulate/middlebox.py: the SNI read from real ClientHellos, and the relay's decisions
against real loopback connections (a plain echo backend stands for the server)."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator

import pytest

from binance_diag.simulate.middlebox import BLOCKED_NAME, Middlebox, client_hello_sni
from tests.utils import MS


def client_hello(name: str | None) -> bytes:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname=name)
    with pytest.raises(ssl.SSLWantReadError):
        tls.do_handshake()
    return outgoing.read()


@pytest.mark.parametrize("name", ["stream.binance.com", "example.com", None])
def test_the_name_of_a_real_client_hello(name: str | None) -> None:
    assert client_hello_sni(client_hello(name)) == name


@pytest.mark.parametrize("data", [b"", b"GET / HTTP/1.1\r\n\r\n", b"\x16\x03\x01" + b"\xff" * 60,
                                  client_hello("stream.binance.com")[:60]],
                         ids=["empty", "http", "garbage", "truncated-hello"])
def test_anything_else_reads_as_no_name(data: bytes) -> None:
    assert client_hello_sni(data) is None


@pytest.fixture
def echo_port() -> Iterator[int]:
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(50 * MS)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            break
        else:
            return
        with conn:
            while data := conn.recv(65536):
                conn.sendall(data)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    server.close()
    thread.join(5)


def exchange(port: int, payload: bytes) -> bytes | str:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        sock.settimeout(300 * MS)
        sock.sendall(payload)
        try:
            return sock.recv(65536)
        except TimeoutError:
            return "silent"
        except ConnectionResetError:
            return "reset"


@pytest.mark.timeout(10)
@pytest.mark.parametrize(("policy", "name", "seen"), [
    ("sni-silent", BLOCKED_NAME, "silent"),
    ("sni-reset", BLOCKED_NAME, "reset"),
    ("sni-silent", "example.com", "echoed"),
    ("sni-reset", None, "echoed"),
])
def test_the_blocked_name_is_swallowed_and_others_relayed(echo_port: int, policy: str,
                                                          name: str | None, seen: str) -> None:
    hello = client_hello(name)
    with Middlebox(policy, echo_port) as box:  # type: ignore[arg-type]
        got = exchange(box.port, hello)
    assert (got if isinstance(got, str) else "echoed" if got == hello[:len(got)] else got) \
        == seen
    assert box.decisions[0] == ("relayed" if seen == "echoed" else
                                f"{seen}: SNI {BLOCKED_NAME}")


@pytest.mark.timeout(10)
@pytest.mark.skipif(not hasattr(socket, "TCP_MAXSEG"), reason="TCP_MAXSEG is Linux's")
def test_the_mtu_box_swallows_full_size_connections(echo_port: int) -> None:
    with Middlebox("mtu", echo_port) as box:
        assert exchange(box.port, b"hello") == "silent"
    assert box.decisions[0].startswith("silent: MSS ")
