"""Validating what a market stream sends: is it the aggTrade event we asked for?

Pure. Field sets follow Binance's documentation: spot aggTrade carries `M` ("ignore"),
USD-M futures does not. Combined streams wrap each event as {"stream": ..., "data": ...}.

A peer may send anything: `classify_message` never raises, whatever the text (nesting that
overflows the JSON parser's recursion, numbers no clock holds, a list where a name belongs),
and nothing taken from a message into a result is unbounded: strings are cut and escaped,
containers are named by their type.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ...model import ErrorKind
from ...safety.sanitize import peer_text

AGG_TRADE_FIELDS = ("e", "E", "s", "a", "p", "q", "f", "l", "T", "m")
SPOT_ONLY_FIELDS = ("M",)
EXCERPT = 200
"""Characters of a message kept as evidence (escaped, so up to 4x as many are printed)."""
MAX_EVENT_TIME_MS = 2**53
"""Event times are Unix milliseconds; beyond 2**53 a float (and any report) loses them."""
MAX_PARSED = 65536
"""Characters of a message worth parsing: an aggTrade event is ~200, Binance's answer to
LIST_SUBSCRIPTIONS for 1 024 streams ~30 000. Parsing is the one cost per message a peer
chooses (720 KB nested 900 deep: ~0.3 s of a blocked loop, and 75 MB); past this, the
message is a problem, not parsed."""
MAX_SCALAR = 100
"""Characters kept of a string value quoted in a problem (a stream or symbol name)."""


@dataclass(frozen=True)
class Event:
    """A valid market event for one of the requested streams."""

    stream: str
    symbol: str
    event_time_ms: int
    data: dict[str, Any]


@dataclass(frozen=True)
class Reply:
    """An answer to a request we sent (e.g. LIST_SUBSCRIPTIONS): `{"result": ..., "id": N}`."""

    id: int | str | None
    result: Any
    error: Any = None


@dataclass(frozen=True)
class Problem:
    kind: ErrorKind
    message: str
    extra: dict[str, Any] = field(default_factory=dict)


def stream_name(symbol: str, stream: str) -> str:
    """Binance stream names use the lowercase symbol: `btcusdt@aggTrade`."""
    return f"{symbol.lower()}@{stream}"


def classify_message(
    text: str | bytes,
    symbols: Sequence[str],
    stream: str = "aggTrade",
    *,
    require_spot_fields: bool = False,
) -> Event | Reply | Problem:
    """Decide what one data frame is: the expected event, a reply, or a problem."""
    excerpt = excerpt_of(text)
    if len(text) > MAX_PARSED:
        return Problem(ErrorKind.INVALID_PAYLOAD,
                       f"message of {len(text)} characters, over the {MAX_PARSED} any market "
                       "event or reply takes: not parsed", {"excerpt": excerpt,
                                                            "length": len(text)})
    try:
        message = json.loads(text)
    except RecursionError:
        # CPython's JSON parser recurses once per nesting level: a deep enough document
        # exhausts the interpreter's stack. The peer's data is at fault, not ours.
        return Problem(ErrorKind.INVALID_PAYLOAD,
                       "message is JSON nested deeper than a parser can follow",
                       {"excerpt": excerpt})
    except (ValueError, UnicodeDecodeError):
        return Problem(ErrorKind.INVALID_PAYLOAD, "first message is not JSON", {"excerpt": excerpt})
    if not isinstance(message, dict):
        return Problem(
            ErrorKind.INVALID_PAYLOAD, "first message is not a JSON object", {"excerpt": excerpt}
        )
    if "id" in message and ("result" in message or "error" in message):
        request_id = message.get("id")
        if not isinstance(request_id, int | str) or isinstance(request_id, bool):
            request_id = None
        return Reply(request_id, _plain(message.get("result"), excerpt),
                     _plain(message.get("error"), excerpt))
    wrapper_stream = None
    if "stream" in message and isinstance(message.get("data"), dict):
        wrapper_stream = message["stream"]
        message = message["data"]
        if not isinstance(wrapper_stream, str):
            return Problem(
                ErrorKind.INVALID_PAYLOAD,
                f"the combined-stream wrapper's stream name is a {_type(wrapper_stream)}, "
                "not a string",
                {"stream": scalar(wrapper_stream), "excerpt": excerpt},
            )
    event_type = message.get("e")
    expected_streams = {stream_name(s, stream) for s in symbols}
    if event_type != stream:
        return Problem(
            ErrorKind.WRONG_STREAM,
            f"expected an event of type {stream!r}, got {scalar(event_type)!r}",
            {"event": scalar(event_type), "stream": scalar(wrapper_stream),
             "excerpt": excerpt},
        )
    required = AGG_TRADE_FIELDS + (SPOT_ONLY_FIELDS if require_spot_fields else ())
    missing = [f for f in required if f not in message]
    if missing:
        return Problem(
            ErrorKind.INVALID_PAYLOAD,
            f"{stream} event lacks field(s) {', '.join(missing)}",
            {"missing": missing, "excerpt": excerpt},
        )
    symbol = message["s"]
    if not isinstance(symbol, str) or symbol.upper() not in {s.upper() for s in symbols}:
        return Problem(
            ErrorKind.WRONG_STREAM,
            f"event for symbol {scalar(symbol)!r}, asked for {', '.join(symbols)}",
            {"symbol": scalar(symbol), "excerpt": excerpt},
        )
    if wrapper_stream is not None and wrapper_stream not in expected_streams:
        return Problem(
            ErrorKind.WRONG_STREAM,
            f"event from stream {scalar(wrapper_stream)!r}",
            {"stream": scalar(wrapper_stream), "excerpt": excerpt},
        )
    event_time = message["E"]
    if not isinstance(event_time, int) or isinstance(event_time, bool):
        return Problem(
            ErrorKind.INVALID_PAYLOAD,
            f"event time E is not an integer: {scalar(event_time)!r}",
            {"excerpt": excerpt},
        )
    if not 0 <= event_time <= MAX_EVENT_TIME_MS:
        return Problem(
            ErrorKind.INVALID_PAYLOAD,
            f"event time E is not a time in milliseconds: {scalar(event_time)}",
            {"excerpt": excerpt},
        )
    return Event(
        stream=wrapper_stream or stream_name(symbol, stream),
        symbol=symbol.upper(),
        event_time_ms=event_time,
        data=message,
    )


def list_subscriptions_request(request_id: int) -> str:
    """Binance's request to list a connection's streams; a live link answers it."""
    return json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": request_id})


def excerpt_of(text: str | bytes, limit: int = EXCERPT) -> str:
    """The start of a message, escaped: control characters, lone surrogates and invalid
    UTF-8 would garble a terminal or break a report's encoding."""
    if isinstance(text, bytes):
        text = text[: limit * 4].decode("utf-8", errors="replace")
    return _escaped(text[:limit]) + ("…" if len(text) > limit else "")


def scalar(value: object) -> str | int | float | bool | None:
    """A value quoted from a message, bounded: a short string or number, or the name of a
    container (`<list>`) - never a structure of the peer's making."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if abs(value) < 10**30 else f"<{len(str(value))}-digit integer>"
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    if isinstance(value, str):
        return _escaped(value[:MAX_SCALAR]) + ("…" if len(value) > MAX_SCALAR else "")
    return f"<{_type(value)}>"


def _plain(value: object, excerpt: str) -> Any:
    """A reply's result or error as kept: a scalar or a list of scalars (Binance's
    LIST_SUBSCRIPTIONS answers a list of names); anything else by the message's excerpt."""
    if isinstance(value, list) and len(value) <= 1024 and all(
            not isinstance(item, list | dict) for item in value):
        return [scalar(item) for item in value]
    if isinstance(value, list | dict):
        return excerpt
    return scalar(value)


def _type(value: object) -> str:
    if isinstance(value, dict):
        return "JSON object"
    return "JSON list" if isinstance(value, list) else type(value).__name__


def _escaped(text: str) -> str:
    return peer_text(text, limit=None)
