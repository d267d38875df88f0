"""Middleboxes in front of a healthy server: a path-MTU black hole and an SNI filter.

Each is a TCP relay on loopback that decides, per connection, whether to carry it to the
backend or to swallow it, the way the real thing decides:

- `mtu`: by the connection's negotiated MSS (getsockopt TCP_MAXSEG on the accepted socket).
  On loopback the MSS is large unless the client announced a small one in its SYN; a large
  one stands for full-size packets that a smaller link downstream loses: the ClientHello
  gets in, nothing comes back.
- `sni`: by the server name in the ClientHello: the blocked name gets silence (`silent`) or
  a reset (`reset`); any other name, or none, is relayed.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Literal

from .peer import LOOPBACK_V4, StreamPeer
from .tcp import READ_SIZE, reset, splice

MTU_LIMIT = 1400
"""An MSS above this stands for packets the simulated link cannot carry."""
BLOCKED_NAME = "stream.binance.com"
Policy = Literal["mtu", "sni-silent", "sni-reset"]


def client_hello_sni(data: bytes) -> str | None:
    """The server_name of a TLS ClientHello (RFC 8446 §4.1.2, RFC 6066 §3), or None.

    Tolerant: anything short or malformed reads as "no name"."""
    try:
        if len(data) < 43 or data[0] != 0x16 or data[5] != 0x01:
            return None
        pos = 9 + 2 + 32  # record header, handshake header, version, random
        pos += 1 + data[pos]  # session id
        pos += 2 + int.from_bytes(data[pos:pos + 2], "big")  # cipher suites
        pos += 1 + data[pos]  # compression methods
        end = pos + 2 + int.from_bytes(data[pos:pos + 2], "big")
        pos += 2
        while pos + 4 <= end:
            kind = int.from_bytes(data[pos:pos + 2], "big")
            size = int.from_bytes(data[pos + 2:pos + 4], "big")
            body = data[pos + 4:pos + 4 + size]
            if kind == 0 and len(body) >= 5:  # server_name: list, type 0 (host_name)
                length = int.from_bytes(body[3:5], "big")
                return body[5:5 + length].decode("ascii", errors="replace")
            pos += 4 + size
    except IndexError:
        return None
    return None


class Middlebox(StreamPeer):
    """`with Middlebox("mtu", backend_port) as box:` relays box.port to the backend."""

    def __init__(self, policy: Policy, backend_port: int, *, host: str = LOOPBACK_V4,
                 port: int = 0, blocked: str = BLOCKED_NAME) -> None:
        super().__init__(host, port)
        self.policy = policy
        self.backend = (host, backend_port)
        self.blocked = blocked.lower()
        self.decisions: list[str] = []
        """Per connection: "relayed", or why it was swallowed (for tests)."""

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        first = await reader.read(READ_SIZE)
        verdict = self._verdict(writer, first)
        self.decisions.append(verdict)
        if verdict == "relayed":
            await self._relay(first, reader, writer)
        elif verdict.startswith("reset"):
            reset(writer)
        else:
            while await reader.read(READ_SIZE):
                pass

    def _verdict(self, writer: asyncio.StreamWriter, first: bytes) -> str:
        if self.policy == "mtu":
            sock = writer.get_extra_info("socket")
            mss = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG) if sock else 0
            return f"silent: MSS {mss}" if mss > MTU_LIMIT else "relayed"
        name = client_hello_sni(first)
        if name is not None and name.lower() == self.blocked:
            return f"{'reset' if self.policy == 'sni-reset' else 'silent'}: SNI {name}"
        return "relayed"

    async def _relay(self, first: bytes, reader: asyncio.StreamReader,
                     writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.backend)
        except OSError:
            reset(writer)
            return
        up_writer.write(first)
        await splice(reader, writer, up_reader, up_writer)
