"""The WebSocket exchange as a state machine fed with bytes (websockets' Sans-I/O recipe).

`WebSocketExchange` wraps `websockets.client.ClientProtocol`: the I/O shell sends
`bytes_to_send()`, feeds whatever it reads to `feed()`, and asks what happened. Nothing here
touches a socket, so every answer a server can give is tested by feeding bytes.

Events the protocol has parsed but the caller has not consumed stay queued: the 101 response
and the first frame often arrive in one read (docs/howto/sansio.rst in websockets).

Whatever the peer sends, nothing here raises: an invalid answer to the upgrade is classified
by the exception websockets raises for it (`PROBLEMS`), a frame that breaks RFC 6455 is a
`Violation` event, and sending after the protocol gave up is refused, not an InvalidState.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from websockets.client import ClientProtocol
from websockets.exceptions import (
    HeaderLineTooLong,
    InvalidHeader,
    InvalidUpgrade,
    NegotiationError,
    PayloadTooBig,
    ProtocolError,
    SecurityError,
    StatusLineTooLong,
    TooManyHeaders,
)
from websockets.frames import Close, Frame, Opcode
from websockets.http11 import Response
from websockets.protocol import State
from websockets.uri import parse_uri

from ...model import ErrorKind, StageError
from ...safety.sanitize import peer_text

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
MAX_MESSAGE = 2**22
"""The largest message (all its fragments) the exchange accepts: 4 MiB, far above any
market event; a bigger one is the peer's violation (close 1009), not our memory's problem."""
_STATUS_LINE = re.compile(rb"^HTTP/(\d\.\d) (\d{3})(?: ([^\r\n]*))?\r?\n")
_HTTP_VERSION = re.compile(rb"^HTTP/(\d+\.\d+) ")

PROBLEMS: tuple[tuple[type[Exception], str, str], ...] = (
    # (what websockets raises, the problem's name, what it means), most specific first.
    (TooManyHeaders, "too_many_headers", "more header lines than a client accepts (128)"),
    (HeaderLineTooLong, "header_line_too_long", "a header line longer than 8 KiB"),
    (StatusLineTooLong, "status_line_too_long", "a status line longer than 8 KiB"),
    (SecurityError, "too_large", "a response beyond a client's size limits"),
    (NegotiationError, "negotiation",
     "an extension or subprotocol the client did not offer (RFC 6455 §4.1)"),
    (InvalidUpgrade, "upgrade_header", "no `Upgrade: websocket` / `Connection: Upgrade`"),
    (InvalidHeader, "header", "a missing or invalid handshake header"),
    (NotImplementedError, "malformed", "a transfer coding a handshake does not use"),
    (LookupError, "malformed", "a response that is not valid HTTP/1.1"),
    (ValueError, "malformed", "a response that is not valid HTTP/1.1"),
)
"""How an invalid answer to the upgrade is named: by the exception websockets raises for
it, looked up by type (a subclass matches its base's row unless it has its own)."""


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


@dataclass(frozen=True)
class Violation:
    """The peer broke RFC 6455 (a bad close code, a frame over the size limit, text that
    is not UTF-8...): the client failed the connection with `code` (§7.1.7)."""

    code: int
    message: str
    exception: str


StreamEvent = DataMessage | Ping | Closed | Violation


@dataclass
class WebSocketExchange:
    """One client connection's protocol state, from the upgrade request to the close."""

    url: str
    user_agent: str
    protocol: ClientProtocol = field(init=False)
    received: bytearray = field(init=False, default_factory=bytearray)
    _pending: deque[Frame] = field(init=False, default_factory=deque)
    _fragments: list[bytes] = field(init=False, default_factory=list)
    _text: bool = field(init=False, default=False)
    _bad_text: Violation | None = field(init=False, default=None)
    _upgrade: UpgradeOutcome | None = field(init=False, default=None)
    _eof: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self.protocol = ClientProtocol(parse_uri(self.url), max_size=MAX_MESSAGE)
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
            details["reason"] = peer_text((match.group(3) or b"").decode("latin-1"))
        return details

    def next_event(self) -> StreamEvent | None:
        """The next frame after the upgrade that matters to a market-data reader.

        A fragmented message (RFC 6455 §5.4) is one event, once its last fragment came;
        control frames may come between its fragments and are events of their own."""
        while self._pending:
            frame = self._pending.popleft()
            if frame.opcode in (Opcode.TEXT, Opcode.BINARY, Opcode.CONT):
                if frame.opcode is not Opcode.CONT:
                    self._text = frame.opcode is Opcode.TEXT
                self._fragments.append(bytes(frame.data))
                if not frame.fin:
                    continue
                data, self._fragments = b"".join(self._fragments), []
                if not self._text:
                    return DataMessage(data.decode("utf-8", errors="replace"))
                try:
                    return DataMessage(data.decode("utf-8"))
                except UnicodeDecodeError as exc:
                    return self._fail_invalid_text(exc)
            if frame.opcode is Opcode.PING:
                return Ping(bytes(frame.data))
            if frame.opcode is Opcode.CLOSE:
                close = Close.parse(frame.data) if frame.data else None
                return Closed(close.code if close else None, close.reason if close else "")
        violation = self.violation
        if violation is not None:
            return violation
        if self._eof or self.protocol.state is State.CLOSED:
            return Closed(self.protocol.close_code, self.protocol.close_reason or "")
        return None

    def _fail_invalid_text(self, exc: UnicodeDecodeError) -> Violation:
        """RFC 6455 §8.1: a text message that is not UTF-8 fails the connection (1007).
        websockets' Sans-I/O layer leaves that check to its I/O layers; ours is here."""
        message = f"text message is not UTF-8: {exc.reason} at position {exc.start}"
        self._bad_text = Violation(1007, message, type(exc).__name__)
        self._pending.clear()
        if self.can_send:
            self.protocol.fail(1007, "invalid UTF-8")
        return self._bad_text

    @property
    def violation(self) -> Violation | None:
        """How the peer broke the protocol after the upgrade, if it did (EOF is no
        violation: it is reported as a close)."""
        if self._bad_text is not None:
            return self._bad_text
        exc = self.protocol.parser_exc
        if exc is None or isinstance(exc, EOFError) or self._upgrade is None:
            return None
        code = 1002
        if isinstance(exc, PayloadTooBig):
            code = 1009
        elif isinstance(exc, UnicodeDecodeError):
            code = 1007
        elif not isinstance(exc, ProtocolError):
            code = 1011
        return Violation(code, str(exc) or type(exc).__name__, type(exc).__name__)

    @property
    def can_send(self) -> bool:
        return self.protocol.state is State.OPEN

    def send_text(self, text: str) -> bool:
        """Queue a text frame; False when the connection is no longer open (a close or a
        violation came first), instead of websockets' InvalidState."""
        if not self.can_send:
            return False
        self.protocol.send_text(text.encode())
        return True

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
        name.lower(): peer_text(value)
        for name, value in response.headers.raw_items()
        if name.lower() in EVIDENCE_HEADERS
    }
    body = bytes(response.body)
    excerpt = peer_text(body, limit=BODY_EXCERPT)
    status, reason = response.status_code, peer_text(response.reason_phrase)
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
        problem, meaning = problem_of(exc)
        extra = {"status": status, "problem": problem, "problem_text": meaning,
                 "exception": type(exc).__name__}
        if isinstance(exc, InvalidHeader):
            extra["header"] = exc.name
        error = StageError(kind, f"invalid 101 response: {peer_text(str(exc))}", extra)
    return UpgradeOutcome(status, reason, headers, excerpt, error)


def problem_of(exc: BaseException) -> tuple[str, str]:
    """The name and meaning of what websockets found wrong (`PROBLEMS`)."""
    if isinstance(exc, InvalidHeader) and exc.name.lower() == "sec-websocket-accept" \
            and exc.value is not None:
        return "accept", "a Sec-WebSocket-Accept that does not answer the request's key"
    for exc_type, problem, meaning in PROBLEMS:
        if isinstance(exc, exc_type):
            return problem, meaning
    return "malformed", "a response that is not valid HTTP/1.1"


def _malformed(exc: Exception, exchange: WebSocketExchange) -> UpgradeOutcome:
    """The bytes were not an HTTP response at all, or the peer closed mid-response."""
    partial = exchange.partial_response()
    cause = exc.__cause__ or exc
    if isinstance(cause, EOFError):
        kind = ErrorKind.EOF
        message = "connection closed before a complete HTTP response"
    else:
        kind = ErrorKind.INVALID_HANDSHAKE
        message = f"not a valid HTTP response: {peer_text(str(cause), BODY_EXCERPT)}"
        problem, meaning = problem_of(cause)
        version = _HTTP_VERSION.match(bytes(exchange.received[:32]))
        if version and version.group(1) != b"1.1":
            problem, meaning = "http_version", "an answer in another HTTP version than 1.1"
            partial["http_version"] = version.group(1).decode()
        partial.update(problem=problem, problem_text=meaning,
                       exception=type(cause).__name__)
    status = partial.get("status")
    return UpgradeOutcome(
        status if isinstance(status, int) else None,
        str(partial.get("reason", "")),
        {},
        peer_text(bytes(exchange.received[:BODY_EXCERPT]), BODY_EXCERPT),
        StageError(kind, message, partial),
    )
