"""Binance's server time fed as the bytes a REST host sends, and the NTP-style estimate."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from binance_diag.probe.sansio.servertime import (
    MAX_RESPONSE_BYTES,
    TIME_RESOLUTION_MS,
    TimeResponse,
    TimeSample,
    estimate_offset,
    event_lags,
    time_request,
)

BODY = b'{"serverTime":1764921600123}'
OK = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json;charset=UTF-8\r\n"
      b"Content-Length: %d\r\n\r\n" % len(BODY)) + BODY


def fed(*chunks: bytes) -> TimeResponse:
    response = TimeResponse()
    for chunk in chunks:
        response.feed(chunk)
    return response


def test_request_is_one_keep_alive_get() -> None:
    request = time_request("api.binance.com", 443, "/api/v3/time")
    assert request.startswith(b"GET /api/v3/time HTTP/1.1\r\nHost: api.binance.com\r\n")
    assert b"Connection: keep-alive\r\n" in request and request.endswith(b"\r\n\r\n")
    assert b"Host: [::1]:8443\r\n" in time_request("::1", 8443, "/fapi/v1/time")


@pytest.mark.timeout(5)
def test_content_length_response_byte_by_byte() -> None:
    response = TimeResponse()
    for i in range(len(OK) - 1):
        response.feed(OK[i:i + 1])
        assert not response.done
    response.feed(OK[-1:])
    assert response.server_time_ms == 1764921600123 and response.error is None
    assert response.keep_alive and response.status == 200


def test_chunked_response() -> None:
    response = fed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                   b"a\r\n" + BODY[:10] + b"\r\n", b"%x\r\n" % (len(BODY) - 10)
                   + BODY[10:] + b"\r\n0\r\n\r\n")
    assert response.server_time_ms == 1764921600123


def test_body_until_close_is_not_keep_alive() -> None:
    response = fed(b"HTTP/1.1 200 OK\r\n\r\n" + BODY)
    assert not response.done
    response.feed(b"")
    assert response.server_time_ms == 1764921600123 and not response.keep_alive


def test_connection_close_header() -> None:
    assert not fed(OK.replace(b"Content-Type", b"Connection: close\r\nContent-Type")).keep_alive


@pytest.mark.parametrize(("data", "words"), [
    (b"HTTP/1.1 451 Unavailable For Legal Reasons\r\nContent-Length: 2\r\n\r\n{}",
     "HTTP 451 Unavailable For Legal Reasons: {}"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n{\"serverTime\":1", "closed in the middle"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nnot json", "not JSON"),
    (b'HTTP/1.1 200 OK\r\nContent-Length: 19\r\n\r\n{"serverTime":true}', "no serverTime"),
    (b'HTTP/1.1 200 OK\r\nContent-Length: 18\r\n\r\n{"serverTime":1.5}', "no serverTime"),
    (b'HTTP/1.1 200 OK\r\nContent-Length: 17\r\n\r\n{"serverTime":-1}', "no serverTime"),
    (b"SSH-2.0-OpenSSH_9.6\r\n\r\n", "not an HTTP response"),
    (b"HTTP/1.1 200 OK\r\nContent-Le", "closed before a complete response"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: x1\r\n\r\n", "Content-Length is not a number"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "bad chunk size"),
])
def test_what_is_not_a_server_time_says_why(data: bytes, words: str) -> None:
    response = fed(data, b"")
    assert response.server_time_ms is None and response.error is not None
    assert words in response.error


def test_peer_text_is_escaped_and_bounded() -> None:
    response = fed(b"HTTP/1.1 403 \x1b]0;x\x07\r\nContent-Length: 500\r\n\r\n" + b"\n" * 500)
    assert response.error is not None and "\x1b" not in response.error
    assert "\n" not in response.error and len(response.error) < 400


def test_an_endless_head_is_cut_off() -> None:
    response = fed(b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * (MAX_RESPONSE_BYTES // 6 + 1))
    assert response.error is not None and "over" in response.error


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_end_in_a_time_or_a_reason(data: bytes) -> None:
    response = fed(data, b"")
    assert response.done


def test_offset_is_the_smallest_round_trip_sample() -> None:
    samples = [TimeSample(sent_ms=1000.0, rtt_ms=80.0, server_ms=6100),  # offset 5060
               TimeSample(sent_ms=2000.0, rtt_ms=10.0, server_ms=7005),  # offset 5000
               TimeSample(sent_ms=3000.0, rtt_ms=40.0, server_ms=8010)]  # offset 4990
    offset = estimate_offset(samples)
    assert offset is not None
    assert offset.offset_ms == 5000.0 and offset.rtt_ms == 10.0 and offset.samples == 3
    assert offset.bound_ms == 5.0 + TIME_RESOLUTION_MS
    assert offset.latency_ms(-4900.0) == 100.0  # a lag read on Binance's clock
    assert offset.to_dict() == {"offset_ms": 5000.0, "bound_ms": 6.0, "rtt_ms": 10.0,
                                "samples": 3}


def test_no_samples_no_offset() -> None:
    assert estimate_offset([]) is None


@given(st.floats(0, 1e12), st.floats(0, 10_000), st.floats(0, 1))
def test_the_true_offset_lies_within_the_bound(sent: float, rtt: float, when: float) -> None:
    """Whenever in the round trip the server read its clock, the truth is within bound."""
    true_offset = 1234.0
    server_ms = int(sent + rtt * when + true_offset)  # the server's whole milliseconds
    offset = estimate_offset([TimeSample(sent, rtt, server_ms)])
    assert offset is not None
    assert abs(offset.offset_ms - true_offset) <= offset.bound_ms + 1e-6


def test_event_lags_of_the_first_message_details() -> None:
    streams = {"btcusdt@aggTrade": {"event_time_lag_ms": -4990.5},
               "ethusdt@aggTrade": {"event_time_lag_ms": True},
               "bnbusdt@aggTrade": {"latency_ms": 3.0}, "x": "not a mapping"}
    assert event_lags(streams) == {"btcusdt@aggTrade": -4990.5}
    assert event_lags(None) == {} and event_lags([1, 2]) == {}
