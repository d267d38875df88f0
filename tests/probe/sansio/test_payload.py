import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from binance_diag.model import ErrorKind
from binance_diag.probe.sansio.payload import (
    MAX_PARSED,
    Event,
    Problem,
    Reply,
    classify_message,
)


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


# Hostile peers (issue 16): whatever a frame holds, the answer is a classified result.

def test_deeply_nested_json_is_invalid_payload_not_a_crash() -> None:
    text = "[" * 20_000 + "]" * 20_000  # under MAX_PARSED: parsed, and too deep
    result = classify_message(text, ["BTCUSDT"])
    assert isinstance(result, Problem) and result.kind is ErrorKind.INVALID_PAYLOAD
    assert "nest" in result.message
    assert len(result.extra["excerpt"]) <= 250


@pytest.mark.parametrize("event_time", [10**400, -1, 2**70])
def test_an_event_time_no_clock_can_hold_is_invalid(event_time: int) -> None:
    result = classify_message(json.dumps(agg(E=event_time)), ["BTCUSDT"])
    assert isinstance(result, Problem) and result.kind is ErrorKind.INVALID_PAYLOAD


def test_a_list_where_a_stream_name_belongs_is_invalid() -> None:
    text = json.dumps({"stream": ["btcusdt@aggTrade"], "data": agg()})
    result = classify_message(text, ["BTCUSDT"])
    assert isinstance(result, Problem) and result.kind is ErrorKind.INVALID_PAYLOAD


def test_the_excerpt_is_short_and_escaped() -> None:
    text = "\x00\x1b[31m" + "x" * 5_000_000
    result = classify_message(text, ["BTCUSDT"])
    assert isinstance(result, Problem)
    excerpt = result.extra["excerpt"]
    assert len(excerpt) <= 250
    assert "\x00" not in excerpt and "\x1b" not in excerpt and "\\x1b" in excerpt


def test_odd_values_in_fields_never_leak_unbounded_into_the_problem() -> None:
    text = json.dumps({"e": ["x" * 500] * 100})
    result = classify_message(text, ["BTCUSDT"])
    assert isinstance(result, Problem) and result.kind is ErrorKind.WRONG_STREAM
    assert len(json.dumps(result.extra)) < 1000


def test_a_reply_keeps_its_id_only_if_it_is_a_plain_scalar() -> None:
    result = classify_message('{"result": null, "id": [1]}', ["BTCUSDT"])
    assert isinstance(result, Reply) and result.id is None


KEYS = st.sampled_from(["e", "E", "s", "stream", "data", "id", "result", "p", "q", "a", "f",
                        "l", "T", "m", "M"]) | st.text(max_size=3)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=6),
    max_leaves=20,
)
events_with_odd_fields = st.fixed_dictionaries(
    {}, optional={k: st.just(v) for k, v in agg().items()}).flatmap(
    lambda base: st.dictionaries(st.sampled_from(list(agg())), json_values, max_size=4).map(
        lambda over: json.dumps({**base, **over})))


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300),
                 json_values.map(json.dumps),
                 st.builds(lambda depth, open_: open_ * depth, st.integers(0, 50_000),
                           st.sampled_from(["[", '{"a":', '{"stream":"x","data":'])),
                 events_with_odd_fields))
def test_any_text_gets_a_classified_bounded_answer(text: str | bytes) -> None:
    result = classify_message(text, ["BTCUSDT", "ETHUSDT"], require_spot_fields=True)
    assert isinstance(result, Event | Reply | Problem)
    if isinstance(result, Problem):
        assert result.kind in (ErrorKind.INVALID_PAYLOAD, ErrorKind.WRONG_STREAM)
        # What a report keeps of the message is short and encodes as UTF-8 JSON.
        kept = json.dumps(result.extra, ensure_ascii=False, allow_nan=False)
        kept.encode("utf-8")
        assert len(kept) < 3000
    if isinstance(result, Event):
        assert 0 <= result.event_time_ms <= 2**53


def test_a_message_too_big_for_any_market_event_is_not_parsed() -> None:
    """720 KB nested 900 deep: ~0.3 s of a blocked loop and 75 MB to parse, for nothing."""
    text = '{"result":[' + ",".join(["[" * 900 + "]" * 900] * 400) + '],"id":1}'
    assert len(text) > MAX_PARSED
    result = classify_message(text, ["BTCUSDT"])
    assert isinstance(result, Problem) and result.kind is ErrorKind.INVALID_PAYLOAD
    assert result.extra["length"] == len(text) and len(result.extra["excerpt"]) <= 250
