"""The server side of one WebSocket connection: websockets' Sans-I/O protocol plus a socket.

`ServerProtocol` does the RFC 6455 work (parsing, masking, answering pings and closes);
this shell only moves bytes, so a fault can bend any step: tamper with the 101 response,
trickle it byte by byte, or never send it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from websockets.frames import Frame, Opcode
from websockets.http11 import Request, Response
from websockets.protocol import State
from websockets.server import ServerProtocol

from .tcp import READ_SIZE

CLOSE_TIMEOUT = 1.0
"""How long to wait for the client's answer to our close frame before dropping TCP."""


class WsSession:
    """One connection, from the HTTP request to the closing handshake.

    `closed` is set once the connection is gone, whoever ended it; a fault script waits on
    it to "keep the socket open" without busy-looping.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.protocol = ServerProtocol(max_size=2**20)
        self.closed = asyncio.Event()
        self._pending: list[Request | Response | Frame] = []
        self._pongs: dict[bytes, asyncio.Event] = {}
        self.pong_received = asyncio.Event()
        """Set once the client answered one of our pings."""

    @property
    def is_open(self) -> bool:
        """Open for writing: the protocol's state, and a transport the client has not gone
        from (asyncio logs every write to a lost connection otherwise)."""
        return (not self.closed.is_set() and self.protocol.state is State.OPEN
                and not self.writer.is_closing())

    async def read_request(self) -> Request | None:
        """The client's upgrade request; None if it sent garbage or went away first."""
        while True:
            data = await self.reader.read(READ_SIZE)
            if data:
                self.protocol.receive_data(data)
            else:
                self.protocol.receive_eof()
            events = self.protocol.events_received()
            if events:
                first, *self._pending = events
                if isinstance(first, Request):
                    return first
            if not data or self.protocol.handshake_exc is not None:
                await self.flush()  # websockets may have queued a 4xx for a bad request
                self.closed.set()
                return None

    async def send_response(self, response: Response, *, trickle: float | None = None) -> None:
        """Send the handshake response, whole or one byte every `trickle` seconds."""
        self.protocol.send_response(response)
        await self.flush(trickle=trickle)

    async def flush(self, *, trickle: float | None = None) -> None:
        """Write what the protocol queued; an empty chunk means "close TCP now"."""
        for chunk in self.protocol.data_to_send():
            if not chunk:
                self.writer.close()
                continue
            if trickle is None:
                self.writer.write(chunk)
            else:
                for i in range(len(chunk)):
                    self.writer.write(chunk[i : i + 1])
                    await self.writer.drain()
                    await asyncio.sleep(trickle)
            await self.writer.drain()

    async def send_raw(self, data: bytes) -> None:
        """Bytes straight to the socket, past the protocol: frames websockets would refuse
        to build (a bad close code, a length over the limit) or fragments written by hand."""
        if self.is_open:
            self.writer.write(data)
            await self.writer.drain()

    async def send_text(self, text: str) -> None:
        if self.is_open:
            self.protocol.send_text(text.encode())
            await self.flush()

    async def ping(self, payload: bytes) -> asyncio.Event:
        """Send a ping; the returned event is set when its pong arrives."""
        answered = self._pongs.setdefault(payload, asyncio.Event())
        if self.is_open:
            self.protocol.send_ping(payload)
            await self.flush()
        return answered

    async def close(self, code: int, reason: str = "") -> None:
        """Start the closing handshake (RFC 6455 §7.1.2) and drop TCP if it does not finish."""
        if self.is_open:
            self.protocol.send_close(code, reason)
            await self.flush()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.closed.wait(), CLOSE_TIMEOUT)
        self.writer.transport.abort()

    async def run_reader(self, on_text: Callable[[str], Awaitable[None]]) -> None:
        """Feed incoming frames to the protocol until the connection ends; sets `closed`."""
        try:
            for event in self._pending:
                await self._dispatch(event, on_text)
            self._pending = []
            while not self.closed.is_set():
                data = await self.reader.read(READ_SIZE)
                if data:
                    self.protocol.receive_data(data)
                else:
                    self.protocol.receive_eof()
                for event in self.protocol.events_received():
                    await self._dispatch(event, on_text)
                await self.flush()  # pongs and close replies queued by the protocol
                if not data or self.protocol.state is State.CLOSED:
                    break
        finally:
            self.closed.set()

    async def _dispatch(
        self, event: Request | Response | Frame, on_text: Callable[[str], Awaitable[None]]
    ) -> None:
        if not isinstance(event, Frame):
            return
        if event.opcode is Opcode.TEXT:
            await on_text(bytes(event.data).decode("utf-8", "replace"))
        elif event.opcode is Opcode.PONG:
            answered = self._pongs.get(bytes(event.data))
            if answered is not None:
                answered.set()
                self.pong_received.set()
