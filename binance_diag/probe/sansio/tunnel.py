"""Proxy handshakes as byte-in/byte-out state machines: HTTP CONNECT and SOCKS5.

Pure (the Sans-I/O shape of handshake.py): the proxy stage sends `bytes_to_send()`, feeds
what it reads to `feed()`, until `done` or `error`. RFC 9110 §9.3.6 (CONNECT), RFC 1928
(SOCKS5) and RFC 1929 (SOCKS5 username/password).
"""

from __future__ import annotations

import base64
import ipaddress
import struct
from dataclasses import dataclass, field
from typing import Any

from ...addresses import hostport
from ...model import ErrorKind
from ...safety.sanitize import peer_text

MAX_RESPONSE = 16384
SOCKS5_FIELD = 255
"""RFC 1929 §2 and RFC 1928 §5: a user name, a password and a host name are each sent with
a one-byte length, so none can exceed 255 bytes."""

SOCKS5_REPLIES = {
    1: "general SOCKS server failure",
    2: "connection not allowed by ruleset",
    3: "network unreachable",
    4: "host unreachable",
    5: "connection refused",
    6: "TTL expired",
    7: "command not supported",
    8: "address type not supported",
}


@dataclass(frozen=True)
class TunnelError:
    kind: ErrorKind
    message: str
    extra: dict[str, Any] = field(default_factory=dict)


class TunnelHandshake:
    """What both handshakes share: an outgoing queue, an input buffer, a verdict."""

    def __init__(self) -> None:
        self._out = bytearray()
        self._buffer = bytearray()
        self.done = False
        self.error: TunnelError | None = None

    def bytes_to_send(self) -> bytes:
        data, self._out = bytes(self._out), bytearray()
        return data

    def feed(self, data: bytes) -> None:
        if self.done or self.error:
            return
        if not data:
            self.error = TunnelError(ErrorKind.REJECTED, "proxy closed the connection "
                                     "during the handshake", {"bytes_received": len(self._buffer)})
            return
        self._buffer += data
        self._advance()

    def _advance(self) -> None:
        raise NotImplementedError


class HttpConnect(TunnelHandshake):
    """`CONNECT host:port HTTP/1.1`; any 2xx opens the tunnel, 407 asks for credentials."""

    def __init__(self, host: str, port: int, username: str | None = None,
                 password: str | None = None, user_agent: str = "binance-diag") -> None:
        super().__init__()
        authority = hostport(host, port)
        lines = [f"CONNECT {authority} HTTP/1.1", f"Host: {authority}",
                 f"User-Agent: {user_agent}"]
        if username is not None:
            token = base64.b64encode(f"{username}:{password or ''}".encode()).decode()
            lines.append(f"Proxy-Authorization: Basic {token}")
        self._out += ("\r\n".join(lines) + "\r\n\r\n").encode()
        self.status: int | None = None
        self.reason = ""
        self.headers: dict[str, str] = {}

    def _advance(self) -> None:
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buffer) > MAX_RESPONSE:
                self.error = TunnelError(ErrorKind.REJECTED, "proxy response too long")
            return
        head = bytes(self._buffer[:end]).decode("latin-1").split("\r\n")
        parts = head[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/") or not (
                parts[1].isascii() and parts[1].isdigit()):
            self.error = TunnelError(ErrorKind.REJECTED,
                                     f"not an HTTP proxy answer: '{peer_text(head[0])}'")
            return
        self.status = int(parts[1])
        self.reason = peer_text(parts[2]) if len(parts) > 2 else ""
        for line in head[1:]:
            name, _, value = line.partition(":")
            self.headers[peer_text(name.strip().lower())] = peer_text(value.strip())
        extra: dict[str, Any] = {"status": self.status, "reason": self.reason}
        if 200 <= self.status < 300:
            self.done = True
        elif self.status == 407:
            scheme = self.headers.get("proxy-authenticate", "")
            extra["proxy_authenticate"] = scheme
            self.error = TunnelError(ErrorKind.AUTH_REQUIRED,
                                     f"proxy requires authentication (407 {self.reason})", extra)
        else:
            self.error = TunnelError(ErrorKind.REJECTED,
                                     f"proxy refused CONNECT: {self.status} {self.reason}", extra)


class Socks5(TunnelHandshake):
    """SOCKS5 CONNECT, with username/password when given; remote DNS sends the host name."""

    def __init__(self, host: str, port: int, username: str | None = None,
                 password: str | None = None) -> None:
        super().__init__()
        self.host, self.port = host, port
        self.username, self.password = username, password
        methods = b"\x00\x02" if username is not None else b"\x00"
        self._out += bytes([5, len(methods)]) + methods
        self._step = "method"

    def _take(self, n: int) -> bytes | None:
        if len(self._buffer) < n:
            return None
        data = bytes(self._buffer[:n])
        del self._buffer[:n]
        return data

    def _advance(self) -> None:
        while not (self.done or self.error):
            before = self._step
            getattr(self, f"_on_{self._step}")()
            if self._step == before and not (self.done or self.error):
                return  # waiting for more bytes

    def _on_method(self) -> None:
        reply = self._take(2)
        if reply is None:
            return
        if reply[0] != 5:
            self.error = TunnelError(ErrorKind.REJECTED, "not a SOCKS5 proxy")
        elif reply[1] == 0xFF:
            self.error = TunnelError(ErrorKind.AUTH_REQUIRED,
                                     "SOCKS5 proxy accepts none of our authentication methods")
        elif reply[1] == 2:
            if self.username is None:
                self.error = TunnelError(ErrorKind.AUTH_REQUIRED,
                                         "SOCKS5 proxy requires a username and password")
                return
            user, password = self.username.encode(), (self.password or "").encode()
            if len(user) > SOCKS5_FIELD or len(password) > SOCKS5_FIELD:
                self.error = TunnelError(
                    ErrorKind.AUTH_REQUIRED,
                    "SOCKS5 user name and password are limited to 255 bytes each (RFC 1929): "
                    f"these are {len(user)} and {len(password)} bytes")
                return
            self._out += bytes([1, len(user)]) + user + bytes([len(password)]) + password
            self._step = "auth"
        else:
            self._send_request()

    def _on_auth(self) -> None:
        reply = self._take(2)
        if reply is None:
            return
        if reply[1] != 0:
            self.error = TunnelError(ErrorKind.AUTH_REQUIRED,
                                     "SOCKS5 proxy rejected the username/password")
        else:
            self._send_request()

    def _send_request(self) -> None:
        try:
            address = ipaddress.ip_address(self.host)
            atyp = b"\x01" if address.version == 4 else b"\x04"
            encoded = address.packed
        except ValueError:
            try:
                name = self.host.encode("idna")
            except UnicodeError:
                name = b""
            if not 0 < len(name) <= SOCKS5_FIELD:
                self.error = TunnelError(ErrorKind.REJECTED, "the target host name cannot be "
                                         "sent to a SOCKS5 proxy (empty, over 255 bytes, or "
                                         "not a valid IDNA name)")
                return
            atyp, encoded = b"\x03", bytes([len(name)]) + name
        self._out += b"\x05\x01\x00" + atyp + encoded + struct.pack("!H", self.port)
        self._step = "reply"

    def _on_reply(self) -> None:
        if len(self._buffer) >= 2 and self._buffer[1] != 0:
            rep = self._buffer[1]
            text = SOCKS5_REPLIES.get(rep, f"reply code {rep}")
            self.error = TunnelError(ErrorKind.REJECTED, f"SOCKS5 proxy: {text}", {"reply": rep})
            return
        if len(self._buffer) < 5:
            return
        atyp = self._buffer[3]
        length = {1: 4, 4: 16, 3: 1 + self._buffer[4]}.get(atyp)
        if length is None:
            self.error = TunnelError(ErrorKind.REJECTED, "SOCKS5 reply with a bad address type")
            return
        if self._take(4 + length + 2) is not None:
            self.done = True
