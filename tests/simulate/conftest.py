"""Fixtures shared by the simulator tests: one CA for the session, and a loopback client."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.sync.client import ClientConnection, connect
from websockets.uri import parse_uri

from binance_diag.simulate.certs import CertificateAuthority
from binance_diag.simulate.server import BinanceStreamServer
from tests.utils import MS

HOSTNAME = "stream.binance.com"


@pytest.fixture(scope="session")
def certs() -> CertificateAuthority:
    """Issuing certificates is the slow part of a TLS peer: share one CA."""
    return CertificateAuthority()


@pytest.fixture(scope="session")
def ca_bundle(certs: CertificateAuthority, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return certs.write_ca_bundle(tmp_path_factory.mktemp("ca") / "ca.pem")


@contextmanager
def ws_client(
    server: BinanceStreamServer,
    path: str = "/ws/btcusdt@aggTrade",
    *,
    certs: CertificateAuthority | None = None,
    timeout: float = 2000 * MS,
    user_agent: str = "binance-diag-tests",
) -> Iterator[ClientConnection]:
    """A websockets client reaching `server` on loopback while naming stream.binance.com.

    The TCP socket is opened here, to 127.0.0.1: the URL's host name is never resolved.
    """
    sock = socket.create_connection((server.host, server.port), timeout=timeout)
    context: ssl.SSLContext | None = None
    if server.tls:
        assert certs is not None
        context = certs.client_context()
    uri = f"{server.scheme}://{HOSTNAME}:{server.port}{path}"
    with connect(
        uri,
        sock=sock,
        ssl=context,
        server_hostname=HOSTNAME if server.tls else None,
        proxy=None,
        compression=None,
        open_timeout=timeout,
        close_timeout=500 * MS,
        ping_interval=None,
        user_agent_header=user_agent,
    ) as client:
        yield client


def raw_client(host: str, port: int) -> tuple[socket.socket, ClientProtocol]:
    """A Sans-I/O client whose pongs are only sent if the test flushes them."""
    sock = socket.create_connection((host, port), timeout=1000 * MS)
    protocol = ClientProtocol(parse_uri(f"ws://{HOSTNAME}:{port}/ws/btcusdt@aggTrade"))
    protocol.send_request(protocol.connect())
    sock.sendall(b"".join(protocol.data_to_send()))
    return sock, protocol


def read_frames(sock: socket.socket, protocol: ClientProtocol, answer: bool) -> list[Frame]:
    """Read until the connection ends or a text frame comes; flush pongs only if `answer`."""
    frames: list[Frame] = []
    while not any(f.opcode in (Opcode.TEXT, Opcode.CLOSE) for f in frames):
        data = sock.recv(65536)
        if not data:
            break
        protocol.receive_data(data)
        frames += [e for e in protocol.events_received() if isinstance(e, Frame)]
        pending = protocol.data_to_send()
        if answer:
            sock.sendall(b"".join(pending))
    return frames
