"""The one object that touches the connected socket, with TLS through memory BIOs.

TLS runs over `ssl.MemoryBIO` instead of a wrapped socket so that the handshake is driven by
our own reads: each read waits only for what is left of the stage's absolute deadline, and we
can tell "no byte ever came back" (a silent middlebox) from "the peer reset us".
"""

from __future__ import annotations

import asyncio
import socket
import ssl

from ..timing import Deadline

READ_SIZE = 65536


class Connection:
    """A connected non-blocking socket, optionally carrying TLS after `start_tls`."""

    def __init__(self, sock: socket.socket, peer: tuple[str, int]) -> None:
        self.sock = sock
        self.peer = peer
        self.bytes_in = 0
        self.bytes_out = 0
        self.tls: ssl.SSLObject | None = None
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._pending_read: asyncio.Task[bytes] | None = None
        self.closed = False

    async def send(self, data: bytes, deadline: Deadline) -> None:
        """Send application bytes; a peer that stops reading cannot outlast the deadline."""
        if not data:
            return
        async with asyncio.timeout(deadline.remaining()):
            if self.tls is not None:
                self.tls.write(data)
                await self._flush_tls()
            else:
                await self._send_raw(data)

    async def recv(self, deadline: Deadline) -> bytes:
        """Application bytes, or `b""` at EOF; `TimeoutError` when the deadline passes."""
        if self.tls is None:
            return await self._recv_raw(deadline)
        while True:
            try:
                return self.tls.read(READ_SIZE)
            except ssl.SSLWantReadError:
                await self._flush_tls()
                if not await self._pump(deadline):
                    return b""
            except ssl.SSLZeroReturnError:
                return b""

    async def handshake(self, context: ssl.SSLContext, server_hostname: str | None,
                        deadline: Deadline) -> ssl.SSLObject:
        """Drive the TLS handshake to completion; raises ssl errors, EOF or TimeoutError."""
        self.tls = context.wrap_bio(self._incoming, self._outgoing, server_hostname=server_hostname)
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                await self._flush_tls()
                if not await self._pump(deadline):
                    raise ConnectionAbortedError("peer closed the connection") from None
        await self._flush_tls()
        return self.tls

    async def _pump(self, deadline: Deadline) -> bool:
        """Move one read from the socket into the TLS engine; False at EOF."""
        data = await self._recv_raw(deadline)
        if not data:
            self._incoming.write_eof()
            return False
        self._incoming.write(data)
        return True

    async def _flush_tls(self) -> None:
        data = self._outgoing.read()
        if data:
            await self._send_raw(data)

    async def _send_raw(self, data: bytes) -> None:
        self._check_open()
        loop = asyncio.get_running_loop()
        await loop.sock_sendall(self.sock, data)
        self.bytes_out += len(data)

    async def _recv_raw(self, deadline: Deadline) -> bytes:
        """One read, never lost to a timeout: a read still pending when the deadline passes
        is kept for the next call.

        Cancelling `sock_recv` is not safe: when the bytes arrive in the same loop iteration
        as the timeout, the read has already consumed them and the cancellation discards
        them (a TLS record lost this way fails the next one with bad_record_mac).
        `asyncio.wait` times out without cancelling what it waits for.

        `close()` may run while this waits (the run is stopping): the read it cancelled is
        then a closed connection, never an error of ours.
        """
        self._check_open()
        remaining = deadline.remaining()
        if remaining <= 0:
            raise TimeoutError
        read = self._pending_read
        if read is None:
            loop = asyncio.get_running_loop()
            read = self._pending_read = loop.create_task(loop.sock_recv(self.sock, READ_SIZE))
        done, _ = await asyncio.wait({read}, timeout=remaining)
        if not done:
            raise TimeoutError
        if self._pending_read is read:
            self._pending_read = None
        self._check_open()
        data = read.result()
        self.bytes_in += len(data)
        return data

    def _check_open(self) -> None:
        if self.closed:
            raise ConnectionAbortedError("the connection was closed by this side")

    def close(self) -> None:
        """Close the socket; a read still pending is cancelled (its waiter is told the
        connection is closed). Safe to call twice."""
        self.closed = True
        read, self._pending_read = self._pending_read, None
        if read is not None and not read.done():
            read.cancel()
        elif read is not None and not read.cancelled():
            read.exception()  # a reset nobody waited for any more: retrieved, not logged
        try:
            self.sock.close()
        except OSError:
            pass
