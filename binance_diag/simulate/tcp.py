"""Raw TCP peers that break a connection before TLS or HTTP can start.

These reproduce what middleboxes do to a TLS connection: accept and stay silent (the seed
incident: TCP accepted, no ServerHello ever), reset at once or right after the ClientHello
(a DPI box filtering on SNI), or close cleanly mid-handshake. `run_behaviour` is reused by
the market-stream server for its `tls-hang` and `tls-reset-after-hello` faults.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Callable
from enum import StrEnum
from types import TracebackType
from typing import Self

from .peer import LOOPBACK_V4, StreamPeer, check_loopback

READ_SIZE = 65536


class TcpBehaviour(StrEnum):
    SILENT = "silent"
    """Accept, read whatever comes, never send a byte."""
    RESET = "reset"
    """Accept and reset at once (RST, not FIN)."""
    RESET_AFTER_FIRST_BYTES = "reset_after_first_bytes"
    """Read the client's first bytes (a TLS ClientHello), then reset."""
    CLOSE_AFTER_FIRST_BYTES = "close_after_first_bytes"
    """Read the client's first bytes, then close cleanly (FIN): EOF during the handshake."""


def reset(writer: asyncio.StreamWriter) -> None:
    """Close with an RST: SO_LINGER on with a zero timeout discards the socket at close."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def run_behaviour(
    behaviour: TcpBehaviour,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    on_first_bytes: Callable[[bytes], None] | None = None,
) -> None:
    """Apply `behaviour` to one connection, reporting the client's first bytes when read."""
    if behaviour is TcpBehaviour.RESET:
        reset(writer)
        return
    first = await reader.read(READ_SIZE)
    if on_first_bytes is not None:
        on_first_bytes(first)
    if behaviour is TcpBehaviour.SILENT:
        while await reader.read(READ_SIZE):
            pass
    elif behaviour is TcpBehaviour.RESET_AFTER_FIRST_BYTES:
        reset(writer)
    else:
        writer.close()
        await writer.wait_closed()


class TcpPeer(StreamPeer):
    """A listener applying one `TcpBehaviour` to every connection it accepts."""

    def __init__(
        self,
        behaviour: TcpBehaviour,
        *,
        host: str = LOOPBACK_V4,
        port: int = 0,
        allow_external: bool = False,
    ) -> None:
        super().__init__(host, port, allow_external=allow_external)
        self.behaviour = behaviour
        self._first_bytes: list[bytes] = []

    @property
    def first_bytes(self) -> tuple[bytes, ...]:
        """What each connection sent before the behaviour acted (a ClientHello starts 0x16)."""
        with self._lock:
            return tuple(self._first_bytes)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await run_behaviour(self.behaviour, reader, writer, self._record_first_bytes)

    def _record_first_bytes(self, data: bytes) -> None:
        with self._lock:
            self._first_bytes.append(data)


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


class RefusingPort:
    """A loopback port where connections are refused, held so nobody else can take it.

    The socket is bound but never listens: Linux answers a SYN to it with RST, exactly like
    a closed port, and the port cannot be reused by another test meanwhile.
    """

    def __init__(
        self, host: str = LOOPBACK_V4, port: int = 0, *, allow_external: bool = False
    ) -> None:
        self.host = check_loopback(host, allow_external=allow_external)
        self.port = port
        self._sock: socket.socket | None = None

    def __enter__(self) -> Self:
        self._sock = socket.socket(_family(self.host), socket.SOCK_STREAM)
        try:
            self._sock.bind((self.host, self.port))
        except BaseException:
            self._sock.close()
            self._sock = None
            raise
        self.port = self._sock.getsockname()[1]
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


class BlackholePeer:
    """A loopback port whose SYNs go unanswered: connect() hangs until the client gives up.

    How: listen with backlog 0 and fill the accept queue with connections never accepted.
    Linux then drops further SYNs (`sk_acceptq_is_full`, with the default
    tcp_abort_on_overflow=0), so the client retransmits its SYN and times out - the
    signature of a firewall that drops packets. The filling is checked, not assumed:
    entering fails with RuntimeError if a trial connection still completes.
    """

    FILL_TIMEOUT = 0.2
    MAX_FILLERS = 16

    def __init__(
        self, host: str = LOOPBACK_V4, port: int = 0, *, allow_external: bool = False
    ) -> None:
        self.host = check_loopback(host, allow_external=allow_external)
        self.port = port
        self._listener: socket.socket | None = None
        self._fillers: list[socket.socket] = []

    def __enter__(self) -> Self:
        family = _family(self.host)
        self._listener = socket.socket(family, socket.SOCK_STREAM)
        try:
            self._listener.bind((self.host, self.port))
            self._listener.listen(0)
            self.port = self._listener.getsockname()[1]
            for _ in range(self.MAX_FILLERS):
                if not self._connect_filler(family):
                    return self
            raise RuntimeError("could not fill the accept queue: SYNs are still answered")
        except BaseException:
            self._close()
            raise

    def _connect_filler(self, family: socket.AddressFamily) -> bool:
        """Open one more never-accepted connection; False when it hung (the queue is full)."""
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(self.FILL_TIMEOUT)
        try:
            sock.connect((self.host, self.port))
        except TimeoutError:
            sock.close()  # abandons the SYN_SENT trial; the queue stays full
            return False
        except BaseException:
            sock.close()
            raise
        self._fillers.append(sock)
        return True

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._close()

    def _close(self) -> None:
        for sock in self._fillers:
            sock.close()
        self._fillers.clear()
        if self._listener is not None:
            self._listener.close()
            self._listener = None


async def splice(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 up_reader: asyncio.StreamReader, up_writer: asyncio.StreamWriter) -> None:
    """Relay both ways until each side ends (a half-close passed on), then drop upstream:
    what a proxy's tunnel or a transparent middlebox does with the bytes it lets through."""

    async def copy(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await src.read(READ_SIZE):
                dst.write(data)
                await dst.drain()
        with contextlib.suppress(OSError):
            dst.write_eof()

    try:
        await asyncio.gather(copy(reader, up_writer), copy(up_reader, writer))
    finally:
        up_writer.transport.abort()
