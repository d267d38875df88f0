import json
from typing import Any

import pytest

from binance_diag.model import ErrorKind
from binance_diag.probe.sansio.payload import Event, Problem, Reply, classify_message


def agg(symbol: str = "BTCUSDT", **changes: Any) -> dict[str, Any]:
    event = {"e": "aggTrade", "E": 1_700_000_000_000, "s": symbol, "a": 1, "p": "1.0",
             "q": "2.0", "f": 1, "l": 2, "T": 1_700_000_000_000, "m": True, "M": True}
    event.update(changes)
    return event


def test_spot_agg_trade() -> None:
    result = classify_message(json.dumps(agg()), ["BTCUSDT"], require_spot_fields=True)
    assert isinstance(result, Event)
    assert (result.symbol, result.stream, result.event_time_ms) == (
        "BTCUSDT", "btcusdt@aggTrade", 1_700_000_000_000)


def test_usdm_payload_without_M_passes_unless_spot_required() -> None:
    event = agg()
    del event["M"]
    assert isinstance(classify_message(json.dumps(event), ["BTCUSDT"]), Event)
    result = classify_message(json.dumps(event), ["BTCUSDT"], require_spot_fields=True)
    assert isinstance(result, Problem) and result.kind is ErrorKind.INVALID_PAYLOAD
    assert result.extra["missing"] == ["M"]


def test_combined_stream_wrapper() -> None:
    text = json.dumps({"stream": "ethusdt@aggTrade", "data": agg("ETHUSDT")})
    result = classify_message(text, ["BTCUSDT", "ETHUSDT"])
    assert isinstance(result, Event) and result.stream == "ethusdt@aggTrade"


@pytest.mark.parametrize(
    ("payload", "kind"),
    [
        ("<html>", ErrorKind.INVALID_PAYLOAD),
        ("[1, 2]", ErrorKind.INVALID_PAYLOAD),
        (json.dumps({"e": "trade", "s": "BTCUSDT"}), ErrorKind.WRONG_STREAM),
        (json.dumps(agg("ETHUSDT")), ErrorKind.WRONG_STREAM),
        (json.dumps(agg(E="soon")), ErrorKind.INVALID_PAYLOAD),
        (json.dumps({"stream": "btcusdt@trade", "data": agg()}), ErrorKind.WRONG_STREAM),
    ],
)
def test_problems(payload: str, kind: ErrorKind) -> None:
    result = classify_message(payload, ["BTCUSDT"])
    assert isinstance(result, Problem)
    assert result.kind is kind


def test_reply_to_a_request() -> None:
    result = classify_message('{"result": ["btcusdt@aggTrade"], "id": 1}', ["BTCUSDT"])
    assert result == Reply(1, ["btcusdt@aggTrade"])
