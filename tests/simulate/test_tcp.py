"""The raw TCP peers, met by the ssl module's client handshake as the probe meets them."""

from __future__ import annotations

import errno
import socket
import ssl
import time

import pytest

from binance_diag.simulate.certs import CertificateAuthority
from binance_diag.simulate.tcp import BlackholePeer, RefusingPort, TcpBehaviour, TcpPeer
from tests.utils import MS

HOSTNAME = "stream.binance.com"


def tls_handshake(port: int, context: ssl.SSLContext, timeout: float) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        with context.wrap_socket(sock, server_hostname=HOSTNAME):
            pass


@pytest.mark.timeout(10)
def test_silent_peer_takes_the_client_hello_and_never_answers(
    certs: CertificateAuthority,
) -> None:
    with TcpPeer(TcpBehaviour.SILENT) as peer:
        started = time.perf_counter()
        with pytest.raises(TimeoutError):
            tls_handshake(peer.port, certs.client_context(), 300 * MS)
        assert time.perf_counter() - started >= 300 * MS
        assert peer.accepted == 1
        assert peer.first_bytes[0][:2] == b"\x16\x03"  # TLS record: handshake
    assert peer.errors == []


def test_reset_peer_resets_at_once() -> None:
    with TcpPeer(TcpBehaviour.RESET) as peer:
        # The RST may beat connect() returning, on a busy machine: either call may raise.
        with pytest.raises(ConnectionResetError):
            with socket.create_connection(("127.0.0.1", peer.port), timeout=1000 * MS) as sock:
                sock.recv(1)
        assert peer.first_bytes == ()


def test_reset_after_client_hello(certs: CertificateAuthority) -> None:
    with TcpPeer(TcpBehaviour.RESET_AFTER_FIRST_BYTES) as peer:
        with pytest.raises(ConnectionResetError):
            tls_handshake(peer.port, certs.client_context(), 1000 * MS)
        assert peer.first_bytes[0][:2] == b"\x16\x03"


def test_clean_close_after_client_hello_is_an_eof(certs: CertificateAuthority) -> None:
    with TcpPeer(TcpBehaviour.CLOSE_AFTER_FIRST_BYTES) as peer:
        with pytest.raises(ssl.SSLEOFError):
            tls_handshake(peer.port, certs.client_context(), 1000 * MS)


def test_refusing_port_refuses_and_is_held() -> None:
    with RefusingPort() as refusing:
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", refusing.port), timeout=1000 * MS)
        with socket.socket() as other, pytest.raises(OSError) as taken:
            other.bind(("127.0.0.1", refusing.port))
        assert taken.value.errno == errno.EADDRINUSE


@pytest.mark.timeout(10)
def test_blackhole_swallows_syns() -> None:
    with BlackholePeer() as blackhole:
        started = time.perf_counter()
        with pytest.raises(TimeoutError):
            socket.create_connection(("127.0.0.1", blackhole.port), timeout=300 * MS)
        assert time.perf_counter() - started >= 300 * MS
        with pytest.raises(TimeoutError):  # still full for the next client
            socket.create_connection(("127.0.0.1", blackhole.port), timeout=200 * MS)
