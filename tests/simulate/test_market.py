"""Routing and payloads, the pure part of the fake Binance."""

from __future__ import annotations

import json

import pytest

from binance_diag.simulate.market import (
    Route,
    TradeTape,
    live_symbol,
    parse_route,
    server_shutdown_event,
    wrap,
)
from binance_diag.simulate.server import answer_request

SPOT_FIELDS = ["e", "E", "s", "a", "p", "q", "f", "l", "T", "m", "M"]


@pytest.mark.parametrize(
    ("path", "prefix", "route"),
    [
        ("/ws/btcusdt@aggTrade", "", Route(False, ("btcusdt@aggTrade",))),
        ("/ws", "", Route(False, ())),
        (
            "/stream?streams=btcusdt@aggTrade/ethusdt@aggTrade",
            "",
            Route(True, ("btcusdt@aggTrade", "ethusdt@aggTrade")),
        ),
        ("/stream", "", Route(True, ())),
        ("/market/ws/btcusdt@aggTrade", "/market", Route(False, ("btcusdt@aggTrade",))),
        ("/market/stream?streams=a@aggTrade", "/market/", Route(True, ("a@aggTrade",))),
        ("/ws/btcusdt@aggTrade", "/market", None),
        ("/", "", None),
        ("/api/v3/ping", "", None),
    ],
)
def test_routes(path: str, prefix: str, route: Route | None) -> None:
    assert parse_route(path, prefix) == route


@pytest.mark.parametrize(
    ("stream", "symbol"),
    [
        ("btcusdt@aggTrade", "BTCUSDT"),
        ("BTCUSDT@aggTrade", None),  # Binance: accepted, silent
        ("btcusdt@aggtrade", None),
        ("btcusdt@trade", None),
        ("btc-usdt@aggTrade", None),
    ],
)
def test_only_exact_lowercase_aggtrade_streams_are_live(stream: str, symbol: str | None) -> None:
    assert live_symbol(stream) == symbol


def test_known_symbols_restrict_live_streams() -> None:
    assert live_symbol("btcusdt@aggTrade", {"BTCUSDT"}) == "BTCUSDT"
    assert live_symbol("btcusdx@aggTrade", {"BTCUSDT"}) is None


def test_spot_agg_trade_has_binance_fields_in_order() -> None:
    tape = TradeTape(seed=1)
    first, second = tape.agg_trade("BTCUSDT"), tape.agg_trade("BTCUSDT")
    assert list(first) == SPOT_FIELDS
    assert first["e"] == "aggTrade" and first["s"] == "BTCUSDT" and first["M"] is True
    assert isinstance(first["p"], str) and isinstance(first["q"], str)
    assert float(first["p"]) > 0 and float(first["q"]) > 0
    assert first["f"] <= first["l"] < second["f"]
    assert second["a"] == first["a"] + 1
    assert first["E"] >= first["T"]
    assert isinstance(first["m"], bool)


def test_futures_agg_trade_has_no_m_flag() -> None:
    event = TradeTape(futures=True).agg_trade("BTCUSDT")
    assert list(event) == SPOT_FIELDS[:-1]


def test_other_events() -> None:
    assert TradeTape().trade("BTCUSDT")["e"] == "trade"
    assert set(server_shutdown_event()) == {"e", "E"}
    assert wrap("btcusdt@aggTrade", {"x": 1}) == {"stream": "btcusdt@aggTrade", "data": {"x": 1}}


def test_requests_are_answered_like_binance() -> None:
    subscriptions = ["btcusdt@aggTrade"]
    listed = json.loads(answer_request('{"method":"LIST_SUBSCRIPTIONS","id":3}', subscriptions))
    assert listed == {"result": ["btcusdt@aggTrade"], "id": 3}
    subscribe = '{"method":"SUBSCRIBE","params":["ethusdt@aggTrade"],"id":4}'
    assert json.loads(answer_request(subscribe, subscriptions)) == {"result": None, "id": 4}
    assert subscriptions == ["btcusdt@aggTrade", "ethusdt@aggTrade"]
    unsubscribe = '{"method":"UNSUBSCRIBE","params":["btcusdt@aggTrade"],"id":5}'
    answer_request(unsubscribe, subscriptions)
    assert subscriptions == ["ethusdt@aggTrade"]
    assert json.loads(answer_request("nope", subscriptions))["code"] == 3
    assert json.loads(answer_request('{"method":"PING","id":1}', subscriptions))["code"] == 2
