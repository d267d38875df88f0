"""The Sans-I/O exchange, fed with the bytes servers really send."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.frames import Close, Frame, Opcode
from websockets.utils import accept_key

from binance_diag.model import ErrorKind
from binance_diag.probe.sansio.handshake import (
    Closed,
    DataMessage,
    Ping,
    Violation,
    WebSocketExchange,
)

URL = "wss://stream.binance.com:9443/ws/btcusdt@aggTrade"


def exchange() -> WebSocketExchange:
    ex = WebSocketExchange(URL, "binance-diag/test")
    request = ex.bytes_to_send()
    assert request.startswith(b"GET /ws/btcusdt@aggTrade HTTP/1.1\r\n")
    assert b"User-Agent: binance-diag/test\r\n" in request
    assert b"Host: stream.binance.com:9443\r\n" in request
    return ex


def switching(ex: WebSocketExchange, accept: str | None = None) -> bytes:
    accept = accept or accept_key(ex.protocol.key)
    return (
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Accept: {accept}\r\n\r\n"
    ).encode()


def server_frame(opcode: Opcode, data: bytes) -> bytes:
    return Frame(opcode, data).serialize(mask=False)


def test_101_and_first_frame_in_one_read_keeps_the_frame() -> None:
    ex = exchange()
    ex.feed(switching(ex) + server_frame(Opcode.TEXT, b'{"e":"aggTrade"}'))
    assert ex.upgrade is not None and ex.upgrade.error is None
    assert ex.upgrade.status == 101
    assert ex.next_event() == DataMessage('{"e":"aggTrade"}')
    assert ex.next_event() is None


def test_451_keeps_status_reason_body_and_headers() -> None:
    ex = exchange()
    body = b'{"code":0,"msg":"Service unavailable from a restricted location"}'
    ex.feed(
        b"HTTP/1.1 451 Unavailable For Legal Reasons\r\nServer: CloudFront\r\n"
        b"Content-Type: application/json\r\nX-Secret: no\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode() + body
    )
    outcome = ex.upgrade
    assert outcome is not None and outcome.error is not None
    assert outcome.error.kind is ErrorKind.HTTP_STATUS
    assert outcome.error.extra["status"] == 451
    assert "restricted location" in outcome.body_excerpt
    assert outcome.headers["server"] == "CloudFront"
    assert "x-secret" not in outcome.headers


def test_429_retry_after_is_evidence() -> None:
    ex = exchange()
    ex.feed(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 30\r\nContent-Length: 0\r\n\r\n")
    assert ex.upgrade is not None and ex.upgrade.error is not None
    assert ex.upgrade.error.extra["retry_after"] == "30"


def test_html_200_is_not_a_websocket() -> None:
    ex = exchange()
    ex.feed(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 13\r\n\r\n"
            b"<html>login</")
    assert ex.upgrade is not None and ex.upgrade.error is not None
    assert ex.upgrade.error.kind is ErrorKind.NOT_WEBSOCKET


def test_wrong_accept_is_invalid_handshake() -> None:
    ex = exchange()
    ex.feed(switching(ex, accept="AAAAAAAAAAAAAAAAAAAAAAAAAAA="))
    assert ex.upgrade is not None and ex.upgrade.error is not None
    assert ex.upgrade.error.kind is ErrorKind.INVALID_HANDSHAKE


def test_garbage_is_invalid_handshake_and_eof_is_eof() -> None:
    ex = exchange()
    ex.feed(b"SSH-2.0-OpenSSH_9.6\r\n")
    assert ex.upgrade is not None and ex.upgrade.error is not None
    assert ex.upgrade.error.kind is ErrorKind.INVALID_HANDSHAKE
    ex = exchange()
    ex.feed(b"HTTP/1.1 101 Swi")
    assert ex.upgrade is None
    assert ex.partial_response() == {"bytes_received": 16}
    ex.feed(b"")
    assert ex.upgrade is not None and ex.upgrade.error is not None
    assert ex.upgrade.error.kind is ErrorKind.EOF


def test_partial_status_line_is_kept_for_a_timeout_report() -> None:
    ex = exchange()
    ex.feed(b"HTTP/1.1 101 Switching Protocols\r\nUpgr")
    assert ex.partial_response() == {"bytes_received": 38, "status": 101,
                                     "reason": "Switching Protocols"}


def test_ping_is_answered_and_close_reported() -> None:
    ex = exchange()
    ex.feed(switching(ex) + server_frame(Opcode.PING, b"hb"))
    assert ex.next_event() == Ping(b"hb")
    pong = ex.bytes_to_send()
    assert pong[0] == 0x8A  # FIN + PONG, RFC 6455 §5.5.3
    ex.feed(server_frame(Opcode.CLOSE, Close(1008, "Too many requests").serialize()))
    assert ex.next_event() == Closed(1008, "Too many requests")


# Hostile peers (issue 16): an invalid answer is classified by what is wrong with it.

def _101(ex: WebSocketExchange, *extra: bytes, version: bytes = b"1.1") -> bytes:
    return (b"HTTP/" + version + b" 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: "
            + accept_key(ex.protocol.key).encode() + b"\r\n" + b"".join(extra) + b"\r\n")


def _problem(ex: WebSocketExchange) -> object:
    assert ex.upgrade is not None and ex.upgrade.error is not None
    assert ex.upgrade.error.kind is ErrorKind.INVALID_HANDSHAKE, ex.upgrade.error
    return ex.upgrade.error.extra.get("problem")


def test_a_wrong_accept_is_named_as_such() -> None:
    ex = exchange()
    ex.feed(switching(ex, accept="AAAAAAAAAAAAAAAAAAAAAAAAAAA="))
    assert _problem(ex) == "accept"


def test_an_http_1_0_answer_is_an_http_version_problem() -> None:
    ex = exchange()
    ex.feed(_101(ex, version=b"1.0"))
    assert _problem(ex) == "http_version"
    assert ex.upgrade is not None and ex.upgrade.error is not None
    assert ex.upgrade.error.extra["http_version"] == "1.0"


def test_an_unsolicited_extension_is_a_negotiation_problem() -> None:
    ex = exchange()
    ex.feed(_101(ex, b"Sec-WebSocket-Extensions: permessage-deflate\r\n"))
    assert _problem(ex) == "negotiation"
    assert ex.upgrade is not None and ex.upgrade.error is not None
    assert "extension" in ex.upgrade.error.message


def test_too_many_headers_and_an_endless_header_line_are_size_problems() -> None:
    ex = exchange()
    ex.feed(_101(ex, *(f"X-Filler-{n}: {n}\r\n".encode() for n in range(200))))
    assert _problem(ex) == "too_many_headers"
    ex = exchange()
    ex.feed(b"HTTP/1.1 101 Switching Protocols\r\nX-Endless: ")
    for _ in range(20):
        ex.feed(b"a" * 1000)
    assert _problem(ex) == "header_line_too_long"


def test_another_bad_header_is_named() -> None:
    ex = exchange()
    ex.feed(_101(ex, b"Sec-WebSocket-Protocol: chat\r\n"))
    assert _problem(ex) == "negotiation"
    ex = exchange()
    ex.feed(switching(ex).replace(b"Sec-WebSocket-Accept", b"X-Accept"))
    assert _problem(ex) == "header"
    assert ex.upgrade is not None and ex.upgrade.error is not None
    assert ex.upgrade.error.extra["header"] == "Sec-WebSocket-Accept"


def test_a_fragmented_message_is_one_message() -> None:
    ex = exchange()
    ex.feed(switching(ex)
            + Frame(Opcode.TEXT, b'{"e":"agg', fin=False).serialize(mask=False)
            + server_frame(Opcode.PING, b"in between")
            + Frame(Opcode.CONT, 'Trade","p":"€'.encode()[:-1], fin=False).serialize(mask=False)
            + Frame(Opcode.CONT, '€"}'.encode()[2:], fin=True).serialize(mask=False))
    assert ex.next_event() == Ping(b"in between")
    assert ex.next_event() == DataMessage('{"e":"aggTrade","p":"€"}')
    assert ex.next_event() is None


@pytest.mark.parametrize(
    ("frames", "code"),
    [
        (server_frame(Opcode.CLOSE, b"\x03\xe7odd"), 1002),  # close code 999
        (server_frame(Opcode.CLOSE, b"\x03\xed"), 1002),  # 1005 must never be sent
        (b"\x81\x7f" + (2**23).to_bytes(8, "big"), 1009),  # an 8 MiB frame announced
        (server_frame(Opcode.TEXT, b"\xff\xfe"), 1007),  # not UTF-8
        (b"\x83\x00", 1002),  # reserved opcode
    ],
)
def test_a_protocol_violation_is_an_event_and_sending_after_it_is_harmless(
        frames: bytes, code: int) -> None:
    ex = exchange()
    ex.feed(switching(ex) + frames)
    event = ex.next_event()
    assert isinstance(event, Violation), event
    assert event.code == code and event.message
    assert not ex.send_text('{"method":"LIST_SUBSCRIPTIONS","id":1}')
    ex.bytes_to_send()
    assert isinstance(ex.next_event(), Violation | Closed | None)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_any_answer_in_any_chunks_is_classified(data: st.DataObject) -> None:
    ex = exchange()
    parts = data.draw(st.lists(st.one_of(
        st.sampled_from([_101(ex), _101(ex, version=b"1.0"), b"HTTP/1.1 ", b"101 ", b"\r\n",
                         b"Upgrade: websocket\r\n", b"Connection: Upgrade\r\n",
                         b"Sec-WebSocket-Extensions: x\r\n", b"Content-Length: 3\r\n",
                         b"Transfer-Encoding: chunked\r\n", b"HTTP/1.1 200 OK\r\n",
                         server_frame(Opcode.TEXT, b"{}"), server_frame(Opcode.PING, b""),
                         b"\x81\x7f\xff\xff\xff\xff\xff\xff\xff\xff", b"\x88\x02\x03\xe7",
                         Frame(Opcode.TEXT, b"[", fin=False).serialize(mask=False),
                         Frame(Opcode.CONT, b"]").serialize(mask=False)]),
        st.binary(max_size=64)), max_size=12))
    stream = b"".join(parts)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=6)))
    eof = data.draw(st.booleans())
    for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        if end > start:
            ex.feed(stream[start:end])
    if eof:
        ex.feed(b"")
    if ex.upgrade is not None and ex.upgrade.error is not None:
        assert ex.upgrade.error.kind in (ErrorKind.INVALID_HANDSHAKE, ErrorKind.NOT_WEBSOCKET,
                                         ErrorKind.HTTP_STATUS, ErrorKind.EOF)
    for _ in range(50):
        event = ex.next_event()
        assert isinstance(event, DataMessage | Ping | Closed | Violation | None)
        if event is None or isinstance(event, Closed | Violation):
            break
    ex.send_text("{}")
    ex.bytes_to_send()
    ex.partial_response()
