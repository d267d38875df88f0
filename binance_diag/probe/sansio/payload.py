"""Validating what a market stream sends: is it the aggTrade event we asked for?

Pure. Field sets follow Binance's documentation: spot aggTrade carries `M` ("ignore"),
USD-M futures does not. Combined streams wrap each event as {"stream": ..., "data": ...}.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ...model import ErrorKind

AGG_TRADE_FIELDS = ("e", "E", "s", "a", "p", "q", "f", "l", "T", "m")
SPOT_ONLY_FIELDS = ("M",)


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
    excerpt = _excerpt(text)
    try:
        message = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        return Problem(ErrorKind.INVALID_PAYLOAD, "first message is not JSON", {"excerpt": excerpt})
    if not isinstance(message, dict):
        return Problem(
            ErrorKind.INVALID_PAYLOAD, "first message is not a JSON object", {"excerpt": excerpt}
        )
    if "id" in message and ("result" in message or "error" in message):
        return Reply(message.get("id"), message.get("result"), message.get("error"))
    wrapper_stream = None
    if "stream" in message and isinstance(message.get("data"), dict):
        wrapper_stream = message["stream"]
        message = message["data"]
    event_type = message.get("e")
    expected_streams = {stream_name(s, stream) for s in symbols}
    if event_type != stream:
        return Problem(
            ErrorKind.WRONG_STREAM,
            f"expected an event of type {stream!r}, got {event_type!r}",
            {"event": event_type, "stream": wrapper_stream, "excerpt": excerpt},
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
            f"event for symbol {symbol!r}, asked for {', '.join(symbols)}",
            {"symbol": symbol, "excerpt": excerpt},
        )
    if wrapper_stream is not None and wrapper_stream not in expected_streams:
        return Problem(
            ErrorKind.WRONG_STREAM,
            f"event from stream {wrapper_stream!r}",
            {"stream": wrapper_stream, "excerpt": excerpt},
        )
    event_time = message["E"]
    if not isinstance(event_time, int) or isinstance(event_time, bool):
        return Problem(
            ErrorKind.INVALID_PAYLOAD,
            f"event time E is not an integer: {event_time!r}",
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


def _excerpt(text: str | bytes, limit: int = 200) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return text if len(text) <= limit else text[:limit] + "…"
