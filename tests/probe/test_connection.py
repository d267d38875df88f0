"""probe/connection.py over real sockets: reads bounded by an absolute deadline, no byte lost
to a timeout, EOF told from silence, and TLS driven through memory BIOs."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import pytest

from binance_diag.probe.connection import Connection
from binance_diag.simulate.certs import CertificateAuthority
from binance_diag.simulate.scenario import start_fault
from binance_diag.timing import Deadline
from tests.utils import MS


@pytest.fixture
def pair() -> Iterator[tuple[Connection, socket.socket]]:
    """Our side as a Connection, the peer as a plain blocking socket."""
    ours, peer = socket.socketpair()
    ours.setblocking(False)
    connection = Connection(ours, ("127.0.0.1", 0))
    try:
        yield connection, peer
    finally:
        connection.close()
        peer.close()


def test_bytes_both_ways_are_counted(pair: tuple[Connection, socket.socket]) -> None:
    connection, peer = pair

    async def exchange() -> bytes:
        await connection.send(b"hello", Deadline(1000 * MS))
        await connection.send(b"", Deadline(1000 * MS))
        peer.sendall(b"world!")
        return await connection.recv(Deadline(1000 * MS))

    assert asyncio.run(exchange()) == b"world!"
    assert peer.recv(100) == b"hello"
    assert (connection.bytes_out, connection.bytes_in) == (5, 6)


def test_a_read_that_times_out_is_kept_for_the_next_call(
        pair: tuple[Connection, socket.socket]) -> None:
    connection, peer = pair

    async def late_bytes() -> bytes:
        with pytest.raises(TimeoutError):
            await connection.recv(Deadline(50 * MS))
        peer.sendall(b"late")  # arrives for the read still pending from the timed-out call
        return await connection.recv(Deadline(1000 * MS))

    assert asyncio.run(late_bytes()) == b"late"


def test_eof_is_empty_bytes_and_a_spent_deadline_reads_nothing(
        pair: tuple[Connection, socket.socket]) -> None:
    connection, peer = pair

    async def run() -> bytes:
        with pytest.raises(TimeoutError):
            await connection.recv(Deadline(0))
        peer.sendall(b"x")
        peer.shutdown(socket.SHUT_WR)
        first = await connection.recv(Deadline(1000 * MS))
        return first + b"|" + await connection.recv(Deadline(1000 * MS))

    assert asyncio.run(run()) == b"x|"


def test_a_timeout_fires_on_the_deadline_not_per_read(
        pair: tuple[Connection, socket.socket]) -> None:
    connection, peer = pair
    budget = 200 * MS

    async def trickle() -> float:
        deadline = Deadline(budget)
        with pytest.raises(TimeoutError):
            while True:
                peer.sendall(b".")
                await connection.recv(deadline)
                await asyncio.sleep(20 * MS)
        return deadline.elapsed_ms()

    elapsed = asyncio.run(trickle())
    assert budget * 1000 <= elapsed < (budget + 100 * MS) * 1000
    assert connection.bytes_in >= 3


def test_tls_handshake_and_application_data(certs: CertificateAuthority) -> None:
    with start_fault("healthy", certs=certs) as scenario:
        sock = socket.create_connection((scenario.address, scenario.port), timeout=1)
        sock.setblocking(False)
        connection = Connection(sock, (scenario.address, scenario.port))

        async def talk() -> bytes:
            deadline = Deadline(2000 * MS)
            tls = await connection.handshake(certs.client_context(), scenario.hostname,
                                             deadline)
            assert tls.selected_alpn_protocol() == "http/1.1"
            await connection.send(b"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n", deadline)
            return await connection.recv(deadline)

        try:
            answer = asyncio.run(talk())
        finally:
            connection.close()
    assert answer.startswith(b"HTTP/1.1 ")
    assert connection.tls is not None and connection.bytes_in > len(answer)


def test_a_handshake_the_peer_hangs_up_on_is_connection_aborted(
        certs: CertificateAuthority) -> None:
    with start_fault("tls-eof", certs=certs) as scenario:
        sock = socket.create_connection((scenario.address, scenario.port), timeout=1)
        sock.setblocking(False)
        connection = Connection(sock, (scenario.address, scenario.port))
        try:
            with pytest.raises(ConnectionAbortedError, match="peer closed the connection"):
                asyncio.run(connection.handshake(certs.client_context(), scenario.hostname,
                                                 Deadline(2000 * MS)))
        finally:
            connection.close()
