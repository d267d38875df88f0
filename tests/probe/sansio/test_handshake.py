"""The Sans-I/O exchange, fed with the bytes servers really send."""

from websockets.frames import Close, Frame, Opcode
from websockets.utils import accept_key

from binance_diag.model import ErrorKind
from binance_diag.probe.sansio.handshake import Closed, DataMessage, Ping, WebSocketExchange

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
