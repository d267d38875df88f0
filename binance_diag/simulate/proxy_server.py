"""Loopback proxies, HTTP CONNECT and SOCKS5, for probing the `proxy` stage for real.

They forward only to loopback: a target host name is looked up in the proxy's own `hosts`
table (so `stream.binance.com` can mean a local fake Binance) and anything that does not end
on 127.0.0.0/8 or ::1 is refused, like a proxy's ACL would (403, or SOCKS5 reply 2).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ipaddress
import struct
from collections.abc import Mapping

from .peer import LOOPBACK_V4, StreamPeer
from .tcp import splice

READ_SIZE = 65536


class ForwardingProxy(StreamPeer):
    """What both proxies share: credentials, the hosts table, the byte pump, a request log."""

    def __init__(self, host: str = LOOPBACK_V4, port: int = 0, *,
                 hosts: Mapping[str, str] | None = None,
                 username: str | None = None, password: str | None = None) -> None:
        super().__init__(host, port)
        self.hosts = {k.lower(): v for k, v in (hosts or {}).items()}
        self.username, self.password = username, password
        self.requests: list[str] = []
        """Each tunnel asked for, as `host:port`."""

    @property
    def url(self) -> str:
        raise NotImplementedError

    def _destination(self, host: str) -> str | None:
        """The loopback address to forward to, or None when the ACL refuses it."""
        address = self.hosts.get(host.lower(), host)
        try:
            if ipaddress.ip_address(address).is_loopback:
                return address
        except ValueError:
            pass
        return None

    async def _open(self, host: str, port: int
                    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        try:
            return await asyncio.open_connection(host, port)
        except OSError:
            return None

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter]) -> None:
        up_reader, up_writer = upstream
        await splice(reader, writer, up_reader, up_writer)


class HttpConnectProxy(ForwardingProxy):
    """`CONNECT host:port`; with credentials set, a request without them gets 407.

    `dead_tunnels`: every CONNECT is answered 200 and the tunnel then goes nowhere (what the
    client sends is read and dropped, nothing comes back): a proxy whose upstream is cut."""

    def __init__(self, host: str = LOOPBACK_V4, port: int = 0, *,
                 hosts: Mapping[str, str] | None = None, username: str | None = None,
                 password: str | None = None, dead_tunnels: bool = False) -> None:
        super().__init__(host, port, hosts=hosts, username=username, password=password)
        self.dead_tunnels = dead_tunnels

    @property
    def url(self) -> str:
        creds = f"{self.username}:{self.password}@" if self.username else ""
        return f"http://{creds}{self.host}:{self.port}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, _, rest = lines[0].partition(" ")
        authority = rest.partition(" ")[0]
        headers = {n.strip().lower(): v.strip()
                   for n, _, v in (line.partition(":") for line in lines[1:] if line)}
        self.requests.append(authority)
        if method != "CONNECT":
            writer.write(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        if self.username is not None:
            token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            if headers.get("proxy-authorization") != f"Basic {token}":
                writer.write(b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                             b'Proxy-Authenticate: Basic realm="binance-diag"\r\n'
                             b"Content-Length: 0\r\n\r\n")
                await writer.drain()
                return
        host, _, port_text = authority.rpartition(":")
        destination = self._destination(host.strip("[]"))
        if destination is None or not (port_text.isascii() and port_text.isdigit()):
            writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            return
        if self.dead_tunnels:
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
            while await reader.read(READ_SIZE):
                pass
            return
        upstream = await self._open(destination, int(port_text))
        if upstream is None:
            writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            return
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        await self._pump(reader, writer, upstream)


class Socks5Proxy(ForwardingProxy):
    """RFC 1928 CONNECT with optional RFC 1929 username/password."""

    @property
    def url(self) -> str:
        creds = f"{self.username}:{self.password}@" if self.username else ""
        return f"socks5h://{creds}{self.host}:{self.port}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        version, count = await reader.readexactly(2)
        methods = await reader.readexactly(count)
        wanted = 2 if self.username is not None else 0
        if version != 5 or wanted not in methods:
            writer.write(b"\x05\xff")
            await writer.drain()
            return
        writer.write(bytes([5, wanted]))
        if wanted == 2:
            _, ulen = await reader.readexactly(2)
            user = (await reader.readexactly(ulen)).decode()
            (plen,) = await reader.readexactly(1)
            password = (await reader.readexactly(plen)).decode()
            ok = (user, password) == (self.username, self.password)
            writer.write(b"\x01\x00" if ok else b"\x01\x01")
            if not ok:
                await writer.drain()
                return
        _, command, _, atyp = await reader.readexactly(4)
        if atyp == 1:
            host = str(ipaddress.IPv4Address(await reader.readexactly(4)))
        elif atyp == 4:
            host = str(ipaddress.IPv6Address(await reader.readexactly(16)))
        else:
            (length,) = await reader.readexactly(1)
            host = (await reader.readexactly(length)).decode("idna")
        (port,) = struct.unpack("!H", await reader.readexactly(2))
        self.requests.append(f"{host}:{port}")
        destination = self._destination(host)
        if command != 1 or destination is None:
            writer.write(b"\x05\x02\x00\x01\x00\x00\x00\x00\x00\x00")
            await writer.drain()
            return
        upstream = await self._open(destination, port)
        if upstream is None:
            writer.write(b"\x05\x05\x00\x01\x00\x00\x00\x00\x00\x00")
            await writer.drain()
            return
        writer.write(b"\x05\x00\x00\x01\x7f\x00\x00\x01" + struct.pack("!H", port))
        await writer.drain()
        await self._pump(reader, writer, upstream)


HOSTILE_407 = (
    b"HTTP/1.1 407 Proxy Authentication Required\x1b]0;pwned\x07\x1b[2J\r\n"
    b"Proxy-Authenticate: Basic realm=\"\x1b]52;c;cHduZWQ=\x07\x1b[31m::error::x\"\r\n"
    b"Content-Length: 0\r\n\r\n"
)
"""A proxy's 407 bent as an attacker would: a window title (OSC 0), a clipboard write
(OSC 52), a screen clear and a workflow command, in the reason phrase and a header."""


class ScriptedProxy(StreamPeer):
    """A "proxy" that answers every connection with `reply` (default: HOSTILE_407), then
    reads until the client goes: proxy abuse, for the hostile-peer tests."""

    def __init__(self, reply: bytes = HOSTILE_407, host: str = LOOPBACK_V4,
                 port: int = 0) -> None:
        super().__init__(host, port)
        self.reply = reply

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            await reader.read(READ_SIZE)  # the CONNECT request
            writer.write(self.reply)
            await writer.drain()
            while await reader.read(READ_SIZE):
                pass
