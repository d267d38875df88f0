"""The I/O shells of the experiments: one connection, one handshake, classified.

Each function opens its own socket to a `Route` (the run's own address or proxy, never
another), does one thing under the caller's deadline and returns what happened as data;
nothing here decides what it means (that is the families' pure `decide_*` functions).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from dataclasses import dataclass

from ...addresses import hostport
from ...config.proxies import Proxy
from ...timing import Deadline
from ..connection import Connection
from ..sansio.tunnel import HttpConnect, Socks5, TunnelHandshake

SMALL_MSS = 536
"""The classic minimum IPv4 MSS (RFC 879): packets this small cross any tunnel."""
_ALERT_WORDS = ("ALERT", "HANDSHAKE_FAILURE", "PROTOCOL_VERSION", "NO_PROTOCOLS",
                "INAPPROPRIATE_FALLBACK", "UNRECOGNIZED_NAME", "NO_APPLICATION_PROTOCOL")
_NOT_TLS_WORDS = ("WRONG_VERSION_NUMBER", "HTTP_REQUEST", "RECORD_LAYER", "UNKNOWN_PROTOCOL",
                  "PACKET_LENGTH_TOO_LONG")


@dataclass(frozen=True)
class Route:
    """How an attempt reaches a host and port: to `address` directly, or through `proxy`
    (which resolves `host` itself when `address` is None)."""

    host: str
    port: int
    address: str | None
    proxy: Proxy | None = None

    def describe(self) -> str:
        where = hostport(self.host, self.port)
        if self.proxy is not None:
            return f"{where} through {self.proxy.url}"
        if self.address is not None and self.address != self.host:
            return f"{where} at {self.address}"
        return where


@dataclass(frozen=True)
class Hello:
    """One ClientHello: its name (None: no SNI), ALPN, versions, trust, the MSS."""

    sni: str | None
    alpn: tuple[str, ...] = ("http/1.1",)
    tls12_only: bool = False
    verify: bool = True
    """The run's own trust; False only asks whether the server answers at all."""
    mss: int | None = None

    def describe(self) -> str:
        parts = [f"SNI {self.sni}" if self.sni else "no SNI"]
        parts.append(f"ALPN {','.join(self.alpn)}" if self.alpn else "no ALPN")
        if self.tls12_only:
            parts.append("TLS 1.2 only")
        if self.mss:
            parts.append(f"MSS {self.mss}")
        return ", ".join(parts)


@dataclass(frozen=True)
class Attempt:
    """What one connection and handshake did. `bytes_in` counts the TLS peer's bytes only
    (never a proxy's CONNECT reply)."""

    outcome: str
    """handshake_ok, answered (the server spoke TLS, then something failed), alert, stalled,
    silent, reset, closed, not_tls, connect_failed, tunnel_failed, unsupported"""
    detail: str = ""
    bytes_in: int = 0
    connect_ms: float | None = None
    elapsed_ms: float = 0.0
    mss: int | None = None
    """The MSS the kernel negotiated for this connection, when asked for a small one."""

    @property
    def answered(self) -> bool:
        """The TLS server answered the ClientHello (whatever came after)."""
        return self.outcome in ("handshake_ok", "answered", "alert", "stalled")


async def open_route(route: Route, deadline: Deadline, mss: int | None = None,
                     user_agent: str = "binance-diag") -> tuple[Connection | None, Attempt | None]:
    """A connection to `route` (through its proxy's tunnel if it has one), or the failure."""
    started = time.perf_counter()
    if route.proxy is not None:
        proxy_address = await _proxy_address(route.proxy, deadline)
        if proxy_address is None:
            return None, Attempt("connect_failed", "cannot resolve the proxy")
        peer = (proxy_address, route.proxy.port)
    else:
        assert route.address is not None
        peer = (route.address, route.port)
    sock = socket.socket(socket.AF_INET6 if ":" in peer[0] else socket.AF_INET,
                         socket.SOCK_STREAM)
    sock.setblocking(False)
    if mss is not None:
        try:  # before connect: the SYN announces it (Linux; ignored where unsupported)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, mss)
        except (OSError, AttributeError):
            sock.close()
            return None, Attempt("unsupported", "TCP_MAXSEG cannot be set on this system")
    connection = Connection(sock, peer)
    try:
        async with asyncio.timeout(max(deadline.remaining(), 0.0)):
            await asyncio.get_running_loop().sock_connect(sock, peer)
    except (OSError, TimeoutError) as exc:
        connection.close()
        what = "timed out" if isinstance(exc, TimeoutError) else str(exc)
        return None, Attempt("connect_failed", f"TCP connect to {hostport(*peer)}: {what}",
                             elapsed_ms=_ms(started))
    connect_ms = _ms(started)
    if route.proxy is None:
        return connection, Attempt("connected", connect_ms=connect_ms, mss=_mss(sock, mss))
    failure = await _tunnel(connection, route, deadline, user_agent)
    if failure is not None:
        connection.close()
        return None, Attempt("tunnel_failed", failure, connect_ms=connect_ms,
                             elapsed_ms=_ms(started))
    return connection, Attempt("connected", connect_ms=connect_ms)


async def tls_attempt(route: Route, hello: Hello, deadline: Deadline,
                      context: ssl.SSLContext | None = None) -> Attempt:
    """One connection and one TLS handshake with `hello`, classified; always closed."""
    started = time.perf_counter()
    connection, opened = await open_route(route, deadline, hello.mss)
    if connection is None:
        assert opened is not None
        return opened
    assert opened is not None
    baseline = connection.bytes_in  # a proxy's CONNECT reply is not the TLS peer's
    try:
        outcome, detail = await _handshake(connection, hello, deadline, context)
    finally:
        connection.close()
    got = connection.bytes_in - baseline
    if outcome == "silent" and got:
        outcome, detail = "stalled", f"{got} bytes, then silence"
    return Attempt(outcome, detail, got, opened.connect_ms, _ms(started), opened.mss)


async def tcp_connect_ms(route: Route, deadline: Deadline) -> float | None:
    """One TCP connect (the round trip of SYN / SYN-ACK), closed at once; None if failed."""
    connection, opened = await open_route(route, deadline)
    if connection is None or opened is None:
        return None
    connection.close()
    return opened.connect_ms


def hello_context(hello: Hello, trusted: ssl.SSLContext | None) -> ssl.SSLContext:
    """The SSL context for `hello`: the run's own (its trust, ALPN http/1.1) for a hello
    that verifies, else one that accepts any certificate - a variant only asks whether the
    server answers - with the variant's ALPN and versions."""
    if hello.verify and trusted is not None:
        return trusted
    # Not ssl.create_default_context(): it loads the system's CA store (100+ ms of blocked
    # event loop per variant, more under load), which an unverified context never reads.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    if hello.alpn:
        context.set_alpn_protocols(list(hello.alpn))
    if hello.tls12_only:
        context.maximum_version = ssl.TLSVersion.TLSv1_2
    return context


async def _handshake(connection: Connection, hello: Hello, deadline: Deadline,
                     context: ssl.SSLContext | None) -> tuple[str, str]:
    context = hello_context(hello, context)
    try:
        tls = await connection.handshake(context, hello.sni, deadline)
    except TimeoutError:
        return "silent", "no answer before the attempt's deadline"
    except ssl.SSLCertVerificationError as exc:
        return "answered", f"certificate rejected: {exc.verify_message}"
    except (ConnectionResetError, BrokenPipeError):
        return "reset", "connection reset by peer"
    except (ConnectionAbortedError, ssl.SSLEOFError, ssl.SSLZeroReturnError):
        return "closed", "connection closed by peer"
    except ssl.SSLError as exc:
        reason = str(exc.reason or exc)
        if any(word in reason.upper() for word in _NOT_TLS_WORDS):
            return "not_tls", reason
        if any(word in reason.upper() for word in _ALERT_WORDS):
            return "alert", reason
        return "answered", reason
    except OSError as exc:
        return "reset", str(exc)
    return "handshake_ok", f"{tls.version()} {(tls.cipher() or ('',))[0]}".strip()


async def _tunnel(connection: Connection, route: Route, deadline: Deadline,
                  user_agent: str) -> str | None:
    """The CONNECT / SOCKS5 handshake to `route`'s host; the failure in words, or None."""
    proxy = route.proxy
    assert proxy is not None
    goal = route.address or route.host
    handshake: TunnelHandshake
    if proxy.scheme == "http":
        handshake = HttpConnect(goal, route.port, proxy.username, proxy.password, user_agent)
    else:
        handshake = Socks5(goal, route.port, proxy.username, proxy.password)
    try:
        while not (handshake.done or handshake.error):
            await connection.send(handshake.bytes_to_send(), deadline)
            handshake.feed(await connection.recv(deadline))
    except TimeoutError:
        return "the proxy did not answer the tunnel request in time"
    except OSError as exc:
        return f"the proxy dropped the tunnel request: {exc}"
    return handshake.error.message if handshake.error is not None else None


async def _proxy_address(proxy: Proxy, deadline: Deadline) -> str | None:
    """The proxy's address, found the way the proxy stage found it."""
    from ..proxy import _proxy_addresses

    try:
        addresses = await _proxy_addresses(proxy.host, proxy.port, deadline)
    except (OSError, TimeoutError):
        return None
    return addresses[0] if addresses else None


def _mss(sock: socket.socket, asked: int | None) -> int | None:
    if asked is None:
        return None
    try:
        return int(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG))
    except (OSError, AttributeError):
        return None


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
