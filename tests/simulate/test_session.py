"""simulate/session.py: the server side of one WebSocket connection, driven by a script on
a loopback peer and met by a real client over a loopback socket (websockets' own client,
or a Sans-I/O one whose every byte the test controls)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosedOK
from websockets.frames import Opcode
from websockets.http11 import Response
from websockets.sync.client import ClientConnection, connect

from binance_diag.simulate.peer import StreamPeer
from binance_diag.simulate.session import WsSession
from tests.simulate.conftest import HOSTNAME, raw_client, read_frames
from tests.utils import MS

TIMEOUT = 2000 * MS
Script = Callable[[WsSession], Awaitable[None]]

pytestmark = pytest.mark.timeout(10)


class ScriptedPeer(StreamPeer):
    """Runs `script` on a WsSession for each connection; `seen` collects what it noted."""

    def __init__(self, script: Script) -> None:
        super().__init__()
        self.script = script
        self.seen: dict[str, Any] = {}

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await self.script(WsSession(reader, writer))


@contextmanager
def ws(peer: ScriptedPeer) -> Iterator[ClientConnection]:
    sock = socket.create_connection((peer.host, peer.port), timeout=TIMEOUT)
    with connect(f"ws://{HOSTNAME}:{peer.port}/ws/btcusdt@aggTrade", sock=sock, proxy=None,
                 open_timeout=TIMEOUT, close_timeout=TIMEOUT, ping_interval=None) as client:
        yield client


def raw(peer: ScriptedPeer) -> socket.socket:
    sock = socket.create_connection((peer.host, peer.port), timeout=TIMEOUT)
    return sock


def read_all(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def test_one_connection_from_the_request_to_the_closing_handshake() -> None:
    async def script(session: WsSession) -> None:
        request = await session.read_request()
        assert request is not None
        peer.seen["path"] = request.path
        await session.send_response(session.protocol.accept(request))
        peer.seen["open"] = session.is_open
        got_text = asyncio.Event()
        texts: list[str] = []

        async def on_text(text: str) -> None:
            texts.append(text)
            got_text.set()

        reading = asyncio.create_task(session.run_reader(on_text))
        await session.send_text("hello")
        answered = await session.ping(b"are you there")
        await asyncio.wait_for(answered.wait(), TIMEOUT)
        peer.seen["pong"] = session.pong_received.is_set()
        await asyncio.wait_for(got_text.wait(), TIMEOUT)
        peer.seen["texts"] = texts
        await session.close(1000, "bye")
        await reading
        peer.seen["closed"] = (session.closed.is_set(), session.is_open)
        await session.send_text("after the close")  # a no-op, not an error

    peer = ScriptedPeer(script)
    with peer, ws(peer) as client:
        assert client.recv(timeout=TIMEOUT) == "hello"
        client.send("hi back")
        with pytest.raises(ConnectionClosedOK) as closed:
            client.recv(timeout=TIMEOUT)
        assert closed.value.rcvd is not None
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (1000, "bye")
    assert peer.seen == {"path": "/ws/btcusdt@aggTrade", "open": True, "pong": True,
                         "texts": ["hi back"], "closed": (True, False)}
    assert peer.errors == []


def test_garbage_instead_of_a_request_ends_the_connection() -> None:
    async def script(session: WsSession) -> None:
        peer.seen["request"] = await session.read_request()
        peer.seen["closed"] = session.closed.is_set()

    peer = ScriptedPeer(script)
    with peer, raw(peer) as sock:
        sock.sendall(b"\x16\x03\x01 not HTTP at all\r\n\r\n")
        assert read_all(sock) == b""
    assert peer.seen == {"request": None, "closed": True}


def test_a_client_that_leaves_before_its_request_is_no_request() -> None:
    async def script(session: WsSession) -> None:
        peer.seen["request"] = await session.read_request()

    peer = ScriptedPeer(script)
    with peer:
        raw(peer).close()
        deadline = time.monotonic() + TIMEOUT
        while "request" not in peer.seen and time.monotonic() < deadline:
            time.sleep(10 * MS)
    assert peer.seen == {"request": None}


def test_the_answer_websockets_queues_for_an_oversized_request_is_sent() -> None:
    async def script(session: WsSession) -> None:
        peer.seen["request"] = await session.read_request()

    peer = ScriptedPeer(script)
    with peer, raw(peer) as sock:
        sock.sendall(b"GET /ws/x HTTP/1.1\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n")
        assert read_all(sock).startswith(b"HTTP/1.1 431 ")
    assert peer.seen == {"request": None}


def test_a_trickled_response_arrives_one_byte_at_a_time() -> None:
    trickle = 2 * MS

    async def script(session: WsSession) -> None:
        request = await session.read_request()
        assert request is not None
        response = session.protocol.accept(request)
        peer.seen["size"] = len(response.serialize())
        await session.send_response(response, trickle=trickle)
        await session.closed.wait()

    peer = ScriptedPeer(script)
    with peer:
        sock, protocol = raw_client(peer.host, peer.port)
        with sock:
            started, reads = time.perf_counter(), 0
            events: list[object] = []
            while not events:
                data = sock.recv(65536)
                assert data, "closed before the whole response"
                reads += 1
                protocol.receive_data(data)
                events = protocol.events_received()
            took = time.perf_counter() - started
    (response,) = events
    assert isinstance(response, Response) and response.status_code == 101
    assert reads > 1
    assert took >= (peer.seen["size"] - 1) * trickle


def test_raw_bytes_bypass_the_protocol_and_a_frame_sent_with_the_request_is_not_lost() -> None:
    async def script(session: WsSession) -> None:
        request = await session.read_request()
        assert request is not None
        await session.send_response(session.protocol.accept(request))
        await session.send_raw(b"\x81\x05by ha")  # a text frame written by hand
        texts: list[str] = []
        got_text = asyncio.Event()

        async def on_text(text: str) -> None:
            texts.append(text)
            got_text.set()

        reading = asyncio.create_task(session.run_reader(on_text))
        await asyncio.wait_for(got_text.wait(), TIMEOUT)
        peer.seen["texts"] = texts
        await session.close(1000)
        await reading

    peer = ScriptedPeer(script)
    with peer, raw(peer) as sock:
        # The request and a masked text frame (zero mask) in one write: the frame is parsed
        # with the request and must wait in the session until its reader runs.
        request = (f"GET /ws/x HTTP/1.1\r\nHost: {HOSTNAME}\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   "Sec-WebSocket-Version: 13\r\n\r\n").encode()
        sock.sendall(request + b"\x81\x85\x00\x00\x00\x00early")
        data = b""
        while b"\x88" not in data.partition(b"\r\n\r\n")[2]:  # up to the close frame
            chunk = sock.recv(65536)
            assert chunk, "closed before the close frame"
            data += chunk
        head, _, frames = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101 ")
        assert frames.startswith(b"\x81\x05by ha\x88")
    assert peer.seen == {"texts": ["early"]}


def test_a_ping_nobody_answers_stays_unanswered() -> None:
    async def script(session: WsSession) -> None:
        request = await session.read_request()
        assert request is not None
        await session.send_response(session.protocol.accept(request))
        answered = await session.ping(b"anyone")
        reading = asyncio.create_task(session.run_reader(lambda text: asyncio.sleep(0)))
        await session.send_text("after the ping")
        await asyncio.sleep(200 * MS)
        peer.seen["answered"] = (answered.is_set(), session.pong_received.is_set())
        reading.cancel()

    peer = ScriptedPeer(script)
    with peer:
        sock, protocol = raw_client(peer.host, peer.port)
        with sock:
            frames = read_frames(sock, protocol, answer=False)
            assert [f.opcode for f in frames] == [Opcode.PING, Opcode.TEXT]
            deadline = time.monotonic() + TIMEOUT
            while "answered" not in peer.seen and time.monotonic() < deadline:
                time.sleep(10 * MS)
    assert peer.seen == {"answered": (False, False)}
