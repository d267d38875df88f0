"""What the fake Binance says: stream routing and the exact JSON of its market events.

Pure. Routing follows Binance's documented URL scheme: `/ws/<stream>` (raw) and
`/stream?streams=<a>/<b>` (combined, each event wrapped as {"stream": ..., "data": ...}),
optionally under a prefix such as USD-M's `/market`. Stream names are matched exactly as
Binance does: `BTCUSDT@aggTrade` or `btcusdt@aggtrade` is accepted and then stays silent.
"""

from __future__ import annotations

import itertools
import random
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

AGG_TRADE = "aggTrade"
_LIVE_STREAM_RE = re.compile(r"([a-z0-9]+)@aggTrade")

BASE_PRICES = {"BTCUSDT": 97000.0, "ETHUSDT": 3500.0, "BNBUSDT": 650.0, "SOLUSDT": 200.0}
DEFAULT_PRICE = 10.0


@dataclass(frozen=True)
class Route:
    """A stream request the server accepted: raw or combined, and the streams it names."""

    combined: bool
    streams: tuple[str, ...]


def parse_route(path: str, prefix: str = "") -> Route | None:
    """The streams a request path asks for, or None where Binance has no such endpoint.

    `/ws` and `/stream` without streams are valid: the client may SUBSCRIBE afterwards.
    """
    parts = urlsplit(path)
    route = parts.path
    prefix = prefix.rstrip("/")
    if prefix:
        if not route.startswith(prefix + "/"):
            return None
        route = route[len(prefix) :]
    if route in ("/ws", "/ws/"):
        return Route(False, ())
    if route.startswith("/ws/"):
        return Route(False, tuple(s for s in route[len("/ws/") :].split("/") if s))
    if route in ("/stream", "/stream/"):
        values = parse_qs(parts.query).get("streams", [])
        streams = [s for value in values for s in value.split("/") if s]
        return Route(True, tuple(streams))
    return None


def live_symbol(stream: str, known_symbols: Iterable[str] | None = None) -> str | None:
    """The symbol (uppercase) if Binance would publish on `stream`, else None.

    Only lowercase `<symbol>@aggTrade` names are live; `known_symbols`, when given, also
    restricts which symbols exist (an unknown pair is accepted and silent, like a typo).
    """
    match = _LIVE_STREAM_RE.fullmatch(stream)
    if match is None:
        return None
    symbol = match.group(1).upper()
    if known_symbols is not None and symbol not in {s.upper() for s in known_symbols}:
        return None
    return symbol


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class TradeTape:
    """Plausible, internally consistent trades: ids increase, prices walk a little.

    Spot aggTrade carries `"M": true` ("ignore", per Binance's docs); USD-M futures does
    not (`futures=True`). Prices and quantities are strings, as Binance sends them.
    """

    def __init__(self, *, futures: bool = False, seed: int | None = None) -> None:
        self.futures = futures
        self._random = random.Random(seed)
        self._agg_ids = itertools.count(self._random.randrange(10**9, 4 * 10**9))
        self._trade_ids = itertools.count(self._random.randrange(10**9, 4 * 10**9))
        self._prices: dict[str, float] = {}

    def _price(self, symbol: str) -> str:
        price = self._prices.get(symbol, BASE_PRICES.get(symbol, DEFAULT_PRICE))
        price = max(price * (1 + self._random.uniform(-0.0005, 0.0005)), 0.00000001)
        self._prices[symbol] = price
        return f"{price:.2f}" if self.futures else f"{price:.8f}"

    def _quantity(self) -> str:
        quantity = self._random.uniform(0.0001, 2.0)
        return f"{quantity:.3f}" if self.futures else f"{quantity:.8f}"

    def agg_trade(self, symbol: str) -> dict[str, Any]:
        """One aggTrade event, field order as Binance sends it."""
        trade_time = now_ms()
        first = next(self._trade_ids)
        last = first + self._random.randrange(0, 3)
        for _ in range(last - first):
            next(self._trade_ids)
        event: dict[str, Any] = {
            "e": AGG_TRADE,
            "E": trade_time + self._random.randrange(0, 3),
            "s": symbol,
            "a": next(self._agg_ids),
            "p": self._price(symbol),
            "q": self._quantity(),
            "f": first,
            "l": last,
            "T": trade_time,
            "m": self._random.random() < 0.5,
        }
        if not self.futures:
            event["M"] = True
        return event

    def trade(self, symbol: str) -> dict[str, Any]:
        """A `trade` event: valid JSON, wrong stream type for an aggTrade subscriber."""
        trade_time = now_ms()
        return {
            "e": "trade",
            "E": trade_time,
            "s": symbol,
            "t": next(self._trade_ids),
            "p": self._price(symbol),
            "q": self._quantity(),
            "T": trade_time,
            "m": self._random.random() < 0.5,
            "M": True,
        }


def wrap(stream: str, data: dict[str, Any]) -> dict[str, Any]:
    """Binance's combined-stream envelope."""
    return {"stream": stream, "data": data}


def server_shutdown_event() -> dict[str, Any]:
    """Sent before Binance takes a stream server down for maintenance."""
    return {"e": "serverShutdown", "E": now_ms()}


def other_symbol(symbol: str) -> str:
    """A symbol that is not `symbol`, for a wrong-symbol payload."""
    return "ETHUSDT" if symbol != "ETHUSDT" else "BTCUSDT"
