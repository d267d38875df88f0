"""The WebSocket exchange as a state machine fed with bytes (websockets' Sans-I/O recipe).

`WebSocketExchange` wraps `websockets.client.ClientProtocol`: the I/O shell sends
`bytes_to_send()`, feeds whatever it reads to `feed()`, and asks what happened. Nothing here
touches a socket, so every answer a server can give is tested by feeding bytes.

Events the protocol has parsed but the caller has not consumed stay queued: the 101 response
and the first frame often arrive in one read (docs/howto/sansio.rst in websockets).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from websockets.client import ClientProtocol
from websockets.exceptions import InvalidUpgrade
from websockets.frames import Close, Frame, Opcode
from websockets.http11 import Response
from websockets.protocol import State
from websockets.uri import parse_uri

from ...model import ErrorKind, StageError

# Response headers worth keeping as evidence (CDN, WAF, rate-limit and proxy fingerprints).
EVIDENCE_HEADERS = (
    "server",
    "date",
    "content-type",
    "content-length",
    "retry-after",
    "location",
    "via",
    "x-cache",
    "x-amz-cf-id",
    "x-amz-cf-pop",
    "x-mbx-uuid",
    "x-mbx-used-weight",
    "upgrade",
    "connection",
    "sec-websocket-accept",
)
BODY_EXCERPT = 300
_STATUS_LINE = re.compile(rb"^HTTP/(\d\.\d) (\d{3})(?: ([^\r\n]*))?\r?\n")


@dataclass(frozen=True)
class UpgradeOutcome:
    """The server's answer to the upgrade request, classified."""

    status: int | None
    reason: str
    headers: Mapping[str, str]
    body_excerpt: str
    error: StageError | None


@dataclass(frozen=True)
class DataMessage:
    text: str


@dataclass(frozen=True)
class Ping:
    payload: bytes


@dataclass(frozen=True)
class Closed:
    code: int | None
    reason: str


StreamEvent = DataMessage | Ping | Closed


@dataclass
class WebSocketExchange:
    """One client connection's protocol state, from the upgrade request to the close."""

    url: str
    user_agent: str
    protocol: ClientProtocol = field(init=False)
    received: bytearray = field(init=False, default_factory=bytearray)
    _pending: deque[Frame] = field(init=False, default_factory=deque)
    _upgrade: UpgradeOutcome | None = field(init=False, default=None)
    _eof: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self.protocol = ClientProtocol(parse_uri(self.url), max_size=2**22)
        request = self.protocol.connect()
        request.headers["User-Agent"] = self.user_agent
        self.protocol.send_request(request)

    def bytes_to_send(self) -> bytes:
        """Everything the protocol wants on the wire now (request, pongs, close)."""
        return b"".join(self.protocol.data_to_send())

    def feed(self, data: bytes) -> None:
        """Hand over bytes read from the peer; `b""` means the peer closed (EOF)."""
        if not data:
            self._eof = True
            self.protocol.receive_eof()
        else:
            if self._upgrade is None:
                self.received += data[: 65536 - len(self.received)]
            self.protocol.receive_data(data)
        self._collect()

    @property
    def eof(self) -> bool:
        return self._eof

    @property
    def upgrade(self) -> UpgradeOutcome | None:
        """The classified answer once a full response (or a fatal error) has arrived."""
        return self._upgrade

    def partial_response(self) -> dict[str, object]:
        """What arrived before a timeout: bytes count and the status line, if any."""
        match = _STATUS_LINE.match(bytes(self.received))
        details: dict[str, object] = {"bytes_received": len(self.received)}
        if match:
            details["status"] = int(match.group(2))
            details["reason"] = (match.group(3) or b"").decode("latin-1")
        return details

    def next_event(self) -> StreamEvent | None:
        """The next frame after the upgrade that matters to a market-data reader."""
        while self._pending:
            frame = self._pending.popleft()
            if frame.opcode is Opcode.TEXT or frame.opcode is Opcode.BINARY:
                return DataMessage(bytes(frame.data).decode("utf-8", errors="replace"))
            if frame.opcode is Opcode.PING:
                return Ping(bytes(frame.data))
            if frame.opcode is Opcode.CLOSE:
                close = Close.parse(frame.data) if frame.data else None
                return Closed(close.code if close else None, close.reason if close else "")
        if self._eof or self.protocol.state is State.CLOSED:
            return Closed(self.protocol.close_code, self.protocol.close_reason or "")
        return None

    def send_text(self, text: str) -> None:
        self.protocol.send_text(text.encode())

    def _collect(self) -> None:
        for event in self.protocol.events_received():
            if isinstance(event, Response):
                self._upgrade = classify_response(event, self.protocol.handshake_exc)
            elif isinstance(event, Frame):
                self._pending.append(event)
        if self._upgrade is None and self.protocol.handshake_exc is not None:
            self._upgrade = _malformed(self.protocol.handshake_exc, self)


def classify_response(response: Response, exc: Exception | None) -> UpgradeOutcome:
    """Name what went wrong with an upgrade answer, keeping the evidence.

    RFC 6455 §4.1: only `101 Switching Protocols` with the right `Upgrade`, `Connection` and
    `Sec-WebSocket-Accept` opens a WebSocket; a 2xx page means something else answered.
    """
    headers = {
        name.lower(): value
        for name, value in response.headers.raw_items()
        if name.lower() in EVIDENCE_HEADERS
    }
    body = bytes(response.body)
    excerpt = body[:BODY_EXCERPT].decode("utf-8", errors="replace")
    status, reason = response.status_code, response.reason_phrase
    error: StageError | None = None
    if status != 101:
        extra: dict[str, object] = {"status": status, "reason": reason, "body_excerpt": excerpt}
        if "retry-after" in headers:
            extra["retry_after"] = headers["retry-after"]
        if 200 <= status < 300:
            error = StageError(
                ErrorKind.NOT_WEBSOCKET,
                f"HTTP {status} {reason}: a page was served instead of a WebSocket",
                extra,
            )
        else:
            error = StageError(ErrorKind.HTTP_STATUS, f"HTTP {status} {reason}", extra)
    elif exc is not None:
        kind = ErrorKind.NOT_WEBSOCKET if isinstance(exc, InvalidUpgrade) else (
            ErrorKind.INVALID_HANDSHAKE
        )
        error = StageError(kind, f"invalid 101 response: {exc}", {"status": status})
    return UpgradeOutcome(status, reason, headers, excerpt, error)


def _malformed(exc: Exception, exchange: WebSocketExchange) -> UpgradeOutcome:
    """The bytes were not an HTTP response at all, or the peer closed mid-response."""
    partial = exchange.partial_response()
    cause = exc.__cause__ or exc
    if isinstance(cause, EOFError):
        kind = ErrorKind.EOF
        message = "connection closed before a complete HTTP response"
    else:
        kind = ErrorKind.INVALID_HANDSHAKE
        message = f"not a valid HTTP response: {cause}"
    status = partial.get("status")
    return UpgradeOutcome(
        status if isinstance(status, int) else None,
        str(partial.get("reason", "")),
        {},
        bytes(exchange.received[:BODY_EXCERPT]).decode("utf-8", errors="replace"),
        StageError(kind, message, partial),
    )
