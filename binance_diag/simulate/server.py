"""The fake Binance market-stream server: healthy, or broken in one named way.

One listener, plain (ws://) or TLS (wss://), playing one fault from `faults.FAULTS` for
every connection. It records what it saw (TLS server names, request paths and headers,
client messages) so tests can assert on the probe's behaviour, not only on its verdict.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import json
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from websockets.frames import Frame, Opcode
from websockets.http11 import Response

from .certs import CertKind, ServerCertificates
from .faults import get_fault
from .http_pages import STATUS_FAULTS, not_found, status_response
from .market import (
    Route,
    TradeTape,
    live_symbol,
    now_ms,
    other_symbol,
    parse_route,
    server_shutdown_event,
    wrap,
)
from .peer import LOOPBACK_V4, StreamPeer
from .servertime import is_time_path, serve_time
from .session import WsSession
from .tcp import READ_SIZE, TcpBehaviour, run_behaviour

PING_TIMEOUT_FAULT_INTERVAL = 0.25
"""Ping cadence of `ping-timeout` when none is given: Binance's 20 s, scaled down."""

_CERT_KINDS = {
    "tls-untrusted": CertKind.OTHER_CA,
    "tls-expired": CertKind.EXPIRED,
    "tls-not-yet-valid": CertKind.NOT_YET_VALID,
    "tls-wrong-host": CertKind.WRONG_HOST,
}
_RAW_TCP_FAULTS = {
    "tls-hang": TcpBehaviour.SILENT,
    "tls-reset-after-hello": TcpBehaviour.RESET_AFTER_FIRST_BYTES,
    "tls-eof": TcpBehaviour.CLOSE_AFTER_FIRST_BYTES,
}
_CLOSE_CODES = {"close-1008": (1008, "Too many requests"), "close-1011": (1011, "Internal error")}
WRONG_ACCEPT = "AAAAAAAAAAAAAAAAAAAAAAAAAAA="
"""Well-formed but matching no key: the client must fail the connection (RFC 6455 §4.1)."""
INVALID_PAYLOAD = '{"e":"aggTrade","E":17'
"""A truncated event, as a broken proxy or a cut-short buffer delivers it: not JSON."""
NESTING = 100_000
"""nested-payload: levels of `[`, far past any JSON parser's recursion limit."""
PING_FLOOD_INTERVAL = 0.001
"""ping-flood: seconds between two bursts of 16 pings."""
STALE_REPLY = '{"result":null,"id":1}'
"""stale-reply: what a proxy replaying another connection's frames could deliver."""
_WATCH_FAULTS = ("stall-held", "stall-all", "market-quiet", "pong-lost", "maintenance",
                 "daily-disconnect")
"""Faults that strike after the first messages: what `watch` must catch on a held stream."""
REPLY_FLOOD_BATCH = 4096
"""reply-flood: replies written per turn of the loop (event-flood: events, 64)."""
NESTED_REPLY_DEPTH = 900
"""nested-reply: levels of one nested list, under CPython's JSON recursion limit (1000)."""
NESTED_REPLY_BYTES = 720_000
"""nested-reply: about the size of the frame that made a report of 658 MB (issue 16)."""
FRAGMENT_SIZE = 65536
"""fragment-flood: bytes per continuation frame."""
HOSTILE_CLOSE_REASON = "\x1b]0;pwned\x07\x1b[31mred\x07\n::error::x"
"""control-close: a window title (OSC 0), colour, a bell and a GitHub workflow command."""
HOSTILE_PAGE = (
    b"HTTP/1.1 403 Forbidden\x9b2J\x9d0;pwned\x9c\r\n"
    b"Server: evil\x9b31m\x9d8;;http://x.invalid\x9c\r\n"
    b"Content-Type: text/html\r\nContent-Length: 70\r\nConnection: close\r\n\r\n"
    b"<h1>403</h1>\x1b]0;pwned\x07\x1b[2J\n::error::pwned\r::warning::x\n##[error]y\n\x1b[0m"
)
"""control-reason: C1 controls where HTTP allows bytes 0x80-0xFF (reason phrase, headers),
ESC, BEL, OSC and workflow commands in the body (70 bytes)."""
_HOSTILE_101 = {
    # fault: (status line, extra header lines) of a 101 that breaks the handshake's rules
    "http-1.0": (b"HTTP/1.0 101 Switching Protocols", ()),
    "unsolicited-extension": (None, (("Sec-WebSocket-Extensions", "permessage-deflate"),)),
    "header-flood": (None, tuple((f"X-Filler-{n}", str(n)) for n in range(200))),
}


@dataclass(frozen=True)
class ServerOptions:
    """Knobs of the faults. Defaults are short so tests stay fast; Binance's real values
    are noted where they differ."""

    interval: float = 0.1
    """Seconds between two events of one stream."""
    delay: float = 1.0
    """slow-first-message: seconds before the first event."""
    message_count: int = 3
    """stall-after: events per stream sent before the silence."""
    shutdown_after: int = 0
    """server-shutdown: events per stream sent before the serverShutdown event."""
    trickle_interval: float = 1.0
    """trickle: seconds between two bytes of the 101 response."""
    ping_interval: float | None = None
    """Seconds between server pings; None: no pings (ping-timeout: 0.25 s). Binance: 20 s."""
    pong_timeout: float = 1.0
    """Close with 1008 "Pong timeout" when a ping is unanswered this long. Binance: 60 s."""
    retry_after: int = 60
    """Retry-After header of http-429 and http-418, in seconds."""
    futures: bool = False
    """USD-M payloads: aggTrade without the spot-only "M" field."""
    path_prefix: str = ""
    """Serve streams under this prefix, e.g. "/market" for USD-M futures."""
    known_symbols: frozenset[str] | None = None
    """Symbols that trade; None: every well-formed lowercase symbol does."""
    close_reason: str | None = None
    """close-1008 / close-1011: reason text instead of the default."""
    wrong_payload: Literal["event", "symbol"] = "event"
    """wrong-payload: send `trade` events, or aggTrade for another symbol."""
    tls_handshake_timeout: float = 10.0
    stall_after_s: float = 2.0
    """stall-held: seconds of events on each connection before its silence; stall-all and
    market-quiet: seconds after the server started before every stream goes silent."""
    shutdown_at: float = 2.0
    """maintenance: seconds after the server started when open connections are shut down."""
    lifetime: float = 3.0
    """daily-disconnect: seconds a connection lives. Binance: 24 hours."""
    clock_offset_s: float = 5.0
    """clock-skew: seconds the server's clock is ahead of the real time (negative: behind);
    its event times and its REST server time alike."""
    delivery_delay_s: float = 3.0
    """late-delivery: seconds between an event's time and its delivery."""


@dataclass(frozen=True)
class SeenConnection:
    client: tuple[str, int]
    at: float = field(default_factory=time.time)
    """time.time() when accepted."""


@dataclass(frozen=True)
class SeenRequest:
    path: str
    headers: tuple[tuple[str, str], ...]
    client: tuple[str, int]
    at: float = field(default_factory=time.time)

    def header(self, name: str) -> str | None:
        """The first value of a header, case-insensitively (e.g. "User-Agent")."""
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


class BinanceStreamServer(StreamPeer):
    """`with BinanceStreamServer("healthy", certs=ca) as server:` serves wss:// on `port`.

    `certs` turns TLS on (required by every `tls-*` fault). Unknown faults raise KeyError.
    """

    def __init__(
        self,
        fault: str = "healthy",
        *,
        certs: ServerCertificates | None = None,
        options: ServerOptions | None = None,
        host: str = LOOPBACK_V4,
        port: int = 0,
        allow_external: bool = False,
    ) -> None:
        spec = get_fault(fault)
        if spec.peer != "server":
            raise ValueError(f"fault {fault!r} is not played by the stream server")
        if spec.requires_tls and certs is None:
            raise ValueError(f"fault {fault!r} needs TLS: pass certs=CertificateAuthority()")
        super().__init__(host, port, allow_external=allow_external)
        self.fault = fault
        self.options = options or ServerOptions()
        self.tls = certs is not None
        self._ssl: ssl.SSLContext | None = None
        if certs is not None and fault not in _RAW_TCP_FAULTS:
            self._ssl = certs.server_context(_CERT_KINDS.get(fault, CertKind.VALID))
            self._ssl.sni_callback = self._on_sni
        self._tape = TradeTape(futures=self.options.futures)
        self._started: float | None = None
        """When the first client connected: the clock of the server-wide faults (stall-all,
        market-quiet, maintenance), so a test's schedule does not depend on start-up time."""
        self._changed = threading.Condition(threading.RLock())  # predicates read snapshots
        self._seen: dict[str, list[Any]] = {
            "connections": [],
            "server_names": [],
            "first_bytes": [],
            "requests": [],
            "client_messages": [],
        }

    @property
    def scheme(self) -> str:
        return "wss" if self.tls else "ws"

    @property
    def connections(self) -> tuple[SeenConnection, ...]:
        return self._snapshot("connections")

    @property
    def server_names(self) -> tuple[str | None, ...]:
        """The SNI of every TLS ClientHello, in order (None: the client sent no SNI)."""
        return self._snapshot("server_names")

    @property
    def first_bytes(self) -> tuple[bytes, ...]:
        """For tls-hang, tls-reset-after-hello, tls-eof: what each client sent first."""
        return self._snapshot("first_bytes")

    @property
    def requests(self) -> tuple[SeenRequest, ...]:
        return self._snapshot("requests")

    @property
    def client_messages(self) -> tuple[str, ...]:
        """Text frames clients sent (e.g. a LIST_SUBSCRIPTIONS request)."""
        return self._snapshot("client_messages")

    def wait_for(self, predicate: Callable[[BinanceStreamServer], bool], timeout: float) -> bool:
        """Block until `predicate(self)` holds (re-checked on every record), or timeout."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
            return True

    def _snapshot(self, kind: str) -> tuple[Any, ...]:
        with self._changed:
            return tuple(self._seen[kind])

    def _record(self, kind: str, item: object) -> None:
        with self._changed:
            self._seen[kind].append(item)
            self._changed.notify_all()

    def _on_sni(self, sslobj: ssl.SSLObject, name: str | None, context: ssl.SSLContext) -> None:
        self._record("server_names", name)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        client = (str(peer[0]), int(peer[1]))
        self._record("connections", SeenConnection(client))
        if self._started is None:
            self._started = time.monotonic()
        behaviour = _RAW_TCP_FAULTS.get(self.fault)
        if behaviour is not None:
            await run_behaviour(
                behaviour, reader, writer, lambda data: self._record("first_bytes", data)
            )
            return
        if self._ssl is not None:
            await writer.start_tls(
                self._ssl, ssl_handshake_timeout=self.options.tls_handshake_timeout
            )
        await self._serve_http(WsSession(reader, writer), client)

    async def _serve_http(self, session: WsSession, client: tuple[str, int]) -> None:
        request = await session.read_request()
        if request is None:
            return
        headers = tuple(request.headers.raw_items())
        self._record("requests", SeenRequest(request.path, headers, client))
        if is_time_path(request.path):  # the REST server time, on the stream's host and port
            await serve_time(session.reader, session.writer, self.server_ms,
                             lambda path: self._record("requests",
                                                       SeenRequest(path, (), client)))
            return
        if self.fault == "upgrade-hang":
            while await session.reader.read(READ_SIZE):
                pass
            return
        if self.fault == "control-reason":
            session.writer.write(HOSTILE_PAGE)
            with contextlib.suppress(ConnectionError):
                await session.writer.drain()
                while await session.reader.read(READ_SIZE):
                    pass
            return
        if self.fault in STATUS_FAULTS:
            page = status_response(
                self.fault, retry_after=self.options.retry_after, client_ip=client[0]
            )
            await session.send_response(page)
            return
        route = parse_route(request.path, self.options.path_prefix)
        if route is None:
            await session.send_response(not_found())
            return
        response = session.protocol.accept(request)
        if response.status_code != 101:  # not a WebSocket request: websockets' 4xx
            await session.send_response(response)
            return
        if self.fault == "bad-accept":
            del response.headers["Sec-WebSocket-Accept"]
            response.headers["Sec-WebSocket-Accept"] = WRONG_ACCEPT
        if self.fault in _HOSTILE_101 or self.fault == "endless-header":
            await self._send_hostile_101(session, response)
            return
        trickle = self.options.trickle_interval if self.fault == "trickle" else None
        await session.send_response(response, trickle=trickle)
        await self._serve_stream(session, route)

    async def _send_hostile_101(self, session: WsSession, response: Response) -> None:
        """A 101 bent past what a client accepts, written raw; then wait for the client
        to go (endless-header: keep the header line coming until it does)."""
        head = response.serialize().split(b"\r\n\r\n", 1)[0]
        if self.fault == "endless-header":
            session.writer.write(head + b"\r\nX-Endless: ")
            with contextlib.suppress(ConnectionError):
                while not session.reader.at_eof():
                    session.writer.write(b"a" * 1024)
                    await session.writer.drain()
                    await asyncio.sleep(0.01)
            return
        status_line, extra = _HOSTILE_101[self.fault]
        if status_line is not None:
            head = status_line + head[head.index(b"\r\n"):]
        lines = b"".join(f"\r\n{name}: {value}".encode() for name, value in extra)
        session.writer.write(head + lines + b"\r\n\r\n")
        with contextlib.suppress(ConnectionError):
            await session.writer.drain()
            while await session.reader.read(READ_SIZE):
                pass

    async def _serve_stream(self, session: WsSession, route: Route) -> None:
        """Run the fault's script after 101, answering client requests all along."""
        subscriptions = list(route.streams)

        async def on_text(text: str) -> None:
            self._record("client_messages", text)
            if self.fault == "stall-all" and self._since_start() >= self.options.stall_after_s:
                return  # a dead backend: requests go unanswered too
            if self.fault == "nested-reply":  # the answer is the hostile part
                await session.send_raw(_nested_reply_frame(_request_id(text)))
                return
            # stale-reply and reply-flood: replies to nothing, and requests go unanswered
            if self.fault not in ("stale-reply", "reply-flood"):
                await session.send_text(answer_request(text, subscriptions))

        # deaf-peer never reads after the upgrade: the client's frames pile up in TCP.
        tasks = [] if self.fault == "deaf-peer" else [
            asyncio.create_task(session.run_reader(on_text))]
        ping_interval = self.options.ping_interval
        if ping_interval is None and self.fault in ("ping-timeout", "pong-lost"):
            ping_interval = PING_TIMEOUT_FAULT_INTERVAL
        if ping_interval is not None:
            tasks.append(asyncio.create_task(self._keepalive(session, ping_interval)))
        try:
            await self._play(session, route.combined, subscriptions)
            await session.closed.wait()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _keepalive(self, session: WsSession, interval: float) -> None:
        """Binance's rule: a ping every `interval`; no pong in `pong_timeout`: disconnect."""
        for n in itertools.count(1):
            await asyncio.sleep(interval)
            if not session.is_open:
                return
            answered = await session.ping(str(n).encode())
            if self.fault == "pong-lost":  # the pong never reaches us, as if lost on the way
                answered = asyncio.Event()
            try:
                await asyncio.wait_for(answered.wait(), self.options.pong_timeout)
            except TimeoutError:
                await session.close(1008, "Pong timeout")
                return

    async def _play(self, session: WsSession, combined: bool, subscriptions: list[str]) -> None:
        fault, options = self.fault, self.options
        if fault == "silent-stream":
            return
        if fault in ("bad-close-code", "oversized-frame", "nested-payload", "stale-reply"):
            await session.send_raw(_HOSTILE_FRAMES[fault])
            return
        if fault in _HOSTILE_STREAMS:
            await self._hostile_stream(session, combined, subscriptions)
            return
        if fault == "ping-flood":
            while session.is_open:
                await session.send_raw(b"\x89\x00" * 16)  # empty pings
                await asyncio.sleep(PING_FLOOD_INTERVAL)
            return
        if fault == "deaf-peer":
            await self._send_events(session, combined, subscriptions, options.message_count)
            await self._flood(session, combined, subscriptions)
            return
        if fault in _CLOSE_CODES:
            code, reason = _CLOSE_CODES[fault]
            await session.close(code, options.close_reason or reason)
            return
        if fault == "slow-first-message":
            await asyncio.sleep(options.delay)
        if fault == "ping-timeout":
            await _first_of(session.pong_received, session.closed)
        if fault == "server-shutdown":
            await self._send_events(session, combined, subscriptions, options.shutdown_after)
            await session.send_text(_dumps(server_shutdown_event()))
            await session.close(1001, "server shutdown")
            return
        if fault in _WATCH_FAULTS:
            await self._play_watch_fault(session, combined, subscriptions)
            return
        count = options.message_count if fault == "stall-after" else None
        await self._send_events(session, combined, subscriptions, count)

    def _since_start(self) -> float:
        return time.monotonic() - (self._started or time.monotonic())

    async def _play_watch_fault(self, session: WsSession, combined: bool,
                                subscriptions: list[str]) -> None:
        """The faults that strike a held stream, after its first messages."""
        fault, options = self.fault, self.options
        now = time.monotonic()
        started = self._started or now
        if fault == "stall-held":
            until = now + options.stall_after_s
        elif fault in ("stall-all", "market-quiet"):
            until = started + options.stall_after_s
        elif fault == "maintenance":
            until = started + options.shutdown_at
            if until <= now:
                until = None  # opened after the maintenance: another server, healthy
        elif fault == "daily-disconnect":
            until = now + options.lifetime
        else:  # pong-lost: events until the server gives up on the pongs
            until = None
        await self._send_events(session, combined, subscriptions, None, until=until)
        if fault == "maintenance" and until is not None and session.is_open:
            await session.send_text(_dumps(server_shutdown_event()))
            await session.close(1001, "server shutdown")
        elif fault == "daily-disconnect" and session.is_open:
            await session.close(1001, "")

    async def _hostile_stream(self, session: WsSession, combined: bool,
                              subscriptions: list[str]) -> None:
        """Issue 16's peers: floods, nesting, surrogates, control characters."""
        fault = self.fault
        if fault == "control-close":
            await session.close(1008, HOSTILE_CLOSE_REASON)
        elif fault == "nested-reply":  # unprompted, and as the answer to any request
            await session.send_raw(_nested_reply_frame(7))
        elif fault == "surrogate-payload":
            await session.send_text('{"result":"\\ud800x","id":"\\udc80"}')
            for stream in subscriptions:
                symbol = live_symbol(stream, self.options.known_symbols) or "BTCUSDT"
                data = self._tape.agg_trade(symbol)
                data.update(s=symbol + "\ud800", p="\udcff")
                await session.send_text(_dumps(wrap(stream, data) if combined else data))
        elif fault == "fragment-flood":
            chunk = b"a" * FRAGMENT_SIZE
            first = Frame(Opcode.TEXT, chunk, fin=False).serialize(mask=False)
            more = Frame(Opcode.CONT, chunk, fin=False).serialize(mask=False)
            with contextlib.suppress(ConnectionError):
                await session.send_raw(first)
                while session.is_open:
                    await session.send_raw(more)
                    await asyncio.sleep(0)  # drain() need not yield: let the loop stop us
        else:  # reply-flood, event-flood: as fast as the client reads
            with contextlib.suppress(ConnectionError):
                while session.is_open:
                    if fault == "reply-flood":
                        batch = _reply_batch()
                    else:
                        batch = b"".join(
                            _text_frame(self._event_text(stream, name, combined))
                            for _ in range(64 // max(len(subscriptions), 1))
                            for stream in subscriptions
                            if (name := live_symbol(stream, self.options.known_symbols)))
                    await session.send_raw(batch)
                    await asyncio.sleep(0)

    async def _send_events(
        self, session: WsSession, combined: bool, subscriptions: list[str], count: int | None,
        until: float | None = None,
    ) -> None:
        """One event per live stream every `interval`, `count` rounds (None: until closed),
        and not at or after `until` (time.monotonic()), when given."""
        rounds = itertools.count() if count is None else range(count)
        for n in rounds:
            if n:
                await asyncio.sleep(self.options.interval)
            if not session.is_open or (until is not None and time.monotonic() >= until):
                return
            for stream in list(subscriptions):
                symbol = live_symbol(stream, self.options.known_symbols)
                if symbol is not None:
                    text = self._event_text(stream, symbol, combined)
                    if self.fault == "fragmented":
                        await session.send_raw(_text_frames(text.encode(), 3))
                    else:
                        await session.send_text(text)

    async def _flood(self, session: WsSession, combined: bool, subscriptions: list[str]) -> None:
        """deaf-peer: pings with the largest control payload (125 bytes) and events, as fast
        as the client reads them, while nothing the client sends is read."""
        ping = b"\x89\x7d" + b"p" * 125
        while not session.closed.is_set():
            try:
                await session.send_raw(ping * 64)
                for stream in subscriptions:
                    symbol = live_symbol(stream, self.options.known_symbols)
                    if symbol is not None:
                        await session.send_text(self._event_text(stream, symbol, combined))
            except ConnectionError:
                return
            await asyncio.sleep(0)

    def server_ms(self) -> int:
        """The server's clock in ms: the real time, but for clock-skew."""
        return now_ms() + self._clock_shift_ms()

    def _clock_shift_ms(self) -> int:
        return round(self.options.clock_offset_s * 1000) if self.fault == "clock-skew" else 0

    def _stamped(self, data: dict[str, Any]) -> dict[str, Any]:
        """An event's times by the server's clock; late-delivery: made `delivery_delay_s`
        before it is sent."""
        shift = self._clock_shift_ms()
        if self.fault == "late-delivery":
            shift = -round(self.options.delivery_delay_s * 1000)
        if shift:
            data["E"] += shift
            data["T"] += shift
        return data

    def _event_text(self, stream: str, symbol: str, combined: bool) -> str:
        if self.fault == "invalid-payload":
            return INVALID_PAYLOAD
        data = self._stamped(self._tape.agg_trade(symbol))
        if self.fault == "wrong-payload" and self.options.wrong_payload == "event":
            data, stream = self._tape.trade(symbol), f"{symbol.lower()}@trade"
        elif self.fault == "wrong-payload":
            other = other_symbol(symbol)
            data, stream = self._tape.agg_trade(other), f"{other.lower()}@aggTrade"
        return _dumps(wrap(stream, data) if combined else data)


def _text_frames(text: bytes, pieces: int) -> bytes:
    """An unmasked text message split over `pieces` frames (RFC 6455 §5.4), a ping after
    the first fragment: control frames may come between fragments."""
    size = -(-len(text) // pieces)
    chunks = [text[i:i + size] for i in range(0, len(text), size)]
    frames = []
    for n, chunk in enumerate(chunks):
        opcode = 0x1 if n == 0 else 0x0
        fin = 0x80 if n == len(chunks) - 1 else 0
        frames.append(Frame(Opcode(opcode), chunk, fin=bool(fin)).serialize(mask=False))
        if n == 0:
            frames.append(b"\x89\x00")
    return b"".join(frames)


_HOSTILE_STREAMS = ("reply-flood", "nested-reply", "event-flood", "fragment-flood",
                    "surrogate-payload", "control-close")


def _text_frame(text: str) -> bytes:
    return Frame(Opcode.TEXT, text.encode()).serialize(mask=False)


@functools.cache
def _reply_batch() -> bytes:
    """REPLY_FLOOD_BATCH replies, made once: the flood is as fast as the client can read."""
    ids = range(2, 2 + REPLY_FLOOD_BATCH)  # 1 is the probe's LIST_SUBSCRIPTIONS
    return b"".join(_text_frame(f'{{"result":null,"id":{n}}}') for n in ids)


@functools.cache
def _nested_reply_frame(request_id: int | str | None) -> bytes:
    """`{"result":[[[...]]],[[[...]]],...],"id":N}`: many lists nested NESTED_REPLY_DEPTH
    deep, as the answer to request N."""
    unit = "[" * NESTED_REPLY_DEPTH + "]" * NESTED_REPLY_DEPTH
    count = NESTED_REPLY_BYTES // (len(unit) + 1)
    return _text_frame('{"result":[' + ",".join([unit] * count) + '],"id":'
                       + json.dumps(request_id) + "}")


def _request_id(text: str) -> int | str | None:
    """The id of a client's request, if it has a usable one."""
    try:
        request = json.loads(text)
    except ValueError:
        return None
    value = request.get("id") if isinstance(request, dict) else None
    return value if isinstance(value, int | str) and not isinstance(value, bool) else None


_HOSTILE_FRAMES = {
    "bad-close-code": b"\x88\x05\x03\xe7odd",  # close 999 'odd' (RFC 6455 §7.4.2)
    "oversized-frame": b"\x81\x7f" + (2**23).to_bytes(8, "big"),  # 8 MiB text announced
    "nested-payload": Frame(Opcode.TEXT, b"[" * NESTING + b"]" * NESTING).serialize(
        mask=False),
    "stale-reply": Frame(Opcode.TEXT, STALE_REPLY.encode()).serialize(mask=False),
}


def answer_request(text: str, subscriptions: list[str]) -> str:
    """Binance's replies to LIST_SUBSCRIPTIONS, SUBSCRIBE and UNSUBSCRIBE (updating
    `subscriptions`), and its error shapes for anything else."""
    try:
        request = json.loads(text)
    except ValueError:
        return _dumps({"code": 3, "msg": "Invalid JSON: expected value at line 1 column 1"})
    if not isinstance(request, dict) or "method" not in request:
        return _dumps({"code": 2, "msg": "Invalid request: missing field `method`"})
    method, request_id = request.get("method"), request.get("id")
    params = request.get("params") or []
    if method == "LIST_SUBSCRIPTIONS":
        return _dumps({"result": list(subscriptions), "id": request_id})
    if method == "SUBSCRIBE":
        subscriptions.extend(p for p in params if isinstance(p, str) and p not in subscriptions)
        return _dumps({"result": None, "id": request_id})
    if method == "UNSUBSCRIBE":
        subscriptions[:] = [s for s in subscriptions if s not in params]
        return _dumps({"result": None, "id": request_id})
    return _dumps(
        {
            "code": 2,
            "msg": f"Invalid request: unknown variant `{method}`, expected one of `SUBSCRIBE`, "
            "`UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY`",
            "id": request_id,
        }
    )


def _dumps(message: Mapping[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"))


async def _first_of(*events: asyncio.Event) -> None:
    waiters = [asyncio.create_task(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)
