"""The fake Binance stream server, met by the websockets client (and raw sockets)."""

from __future__ import annotations

import json
import socket
import time
from typing import Any

import pytest
from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed, InvalidHeaderValue, InvalidStatus
from websockets.frames import Close, Opcode
from websockets.sync.client import ClientConnection
from websockets.uri import parse_uri

from binance_diag.simulate.certs import CertificateAuthority
from binance_diag.simulate.http_pages import RESTRICTED_LOCATION_MSG
from binance_diag.simulate.server import BinanceStreamServer, ServerOptions
from tests.simulate.conftest import HOSTNAME, raw_client, read_frames, ws_client
from tests.utils import MS

SPOT_FIELDS = ["e", "E", "s", "a", "p", "q", "f", "l", "T", "m", "M"]


def receive_json(client: ClientConnection, timeout: float = 1000 * MS) -> Any:
    return json.loads(client.recv(timeout=timeout))


def assert_silent(client: ClientConnection, wait: float = 300 * MS) -> None:
    with pytest.raises(TimeoutError):
        client.recv(timeout=wait)


def list_subscriptions(client: ClientConnection, request_id: int = 1) -> Any:
    client.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": request_id}))
    return receive_json(client)


def test_healthy_tls_stream(certs: CertificateAuthority) -> None:
    interval = 100 * MS  # the default, scaled so that the bounds below can scale too
    options = ServerOptions(interval=interval)
    with BinanceStreamServer("healthy", certs=certs, options=options) as server:
        with ws_client(server, certs=certs, user_agent="binance-diag/0.1") as client:
            started = time.perf_counter()
            first, second = receive_json(client), receive_json(client)
            elapsed = time.perf_counter() - started
        assert server.errors == []
    assert list(first) == SPOT_FIELDS
    assert first["e"] == "aggTrade" and first["s"] == "BTCUSDT" and first["M"] is True
    assert second["a"] == first["a"] + 1
    assert interval / 2 <= elapsed <= 10 * interval  # one interval apart
    (request,) = server.requests
    assert request.path == "/ws/btcusdt@aggTrade"
    assert request.header("user-agent") == "binance-diag/0.1"
    assert request.header("Host") == f"{HOSTNAME}:{server.port}"
    assert server.server_names == (HOSTNAME,)
    assert len(server.connections) == 1


def test_combined_stream_wraps_each_event() -> None:
    path = "/stream?streams=btcusdt@aggTrade/ethusdt@aggTrade"
    with BinanceStreamServer() as server, ws_client(server, path) as client:
        messages = [receive_json(client) for _ in range(4)]
    assert {m["stream"] for m in messages} == {"btcusdt@aggTrade", "ethusdt@aggTrade"}
    for message in messages:
        assert message["data"]["s"] == message["stream"].split("@")[0].upper()


def test_usdm_prefix_and_payload() -> None:
    options = ServerOptions(futures=True, path_prefix="/market")
    with BinanceStreamServer(options=options) as server:
        with ws_client(server, "/market/ws/btcusdt@aggTrade") as client:
            event = receive_json(client)
        with pytest.raises(InvalidStatus) as missing_prefix:
            with ws_client(server, "/ws/btcusdt@aggTrade"):
                pass
    assert list(event) == SPOT_FIELDS[:-1]
    assert missing_prefix.value.response.status_code == 404


@pytest.mark.parametrize("path", ["/ws/BTCUSDT@aggTrade", "/ws/btcusdt@aggtrade"])
def test_wrongly_cased_stream_is_accepted_then_silent(path: str) -> None:
    """Binance's trap: the upgrade succeeds, nothing ever comes."""
    with BinanceStreamServer() as server, ws_client(server, path) as client:
        assert_silent(client)
        stream = path.removeprefix("/ws/")
        assert list_subscriptions(client, 7) == {"result": [stream], "id": 7}


def test_unknown_symbol_is_silent_when_symbols_are_known() -> None:
    options = ServerOptions(known_symbols=frozenset({"BTCUSDT"}))
    with BinanceStreamServer(options=options) as server:
        with ws_client(server, "/ws/btcusdx@aggTrade") as client:
            assert_silent(client)


def test_subscribe_after_connecting() -> None:
    with BinanceStreamServer() as server, ws_client(server, "/ws") as client:
        client.send('{"method":"SUBSCRIBE","params":["ethusdt@aggTrade"],"id":1}')
        assert receive_json(client) == {"result": None, "id": 1}
        assert receive_json(client)["s"] == "ETHUSDT"
    assert server.client_messages[0].startswith('{"method":"SUBSCRIBE"')


def test_http_451_restricted_location() -> None:
    with BinanceStreamServer("http-451") as server:
        with pytest.raises(InvalidStatus) as refused, ws_client(server):
            pass
    response = refused.value.response
    assert response.status_code == 451
    assert response.headers["Content-Type"].startswith("application/json")
    assert json.loads(response.body) == {"code": 0, "msg": RESTRICTED_LOCATION_MSG}
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    ("fault", "status", "marker"),
    [
        ("http-403", 403, b"Request blocked."),
        ("http-429", 429, b'"code":-1003'),
        ("http-418", 418, b"banned until"),
        ("http-503", 503, b"503 Service Temporarily Unavailable"),
        ("captive-portal", 200, b"<form"),
    ],
)
def test_status_pages(fault: str, status: int, marker: bytes) -> None:
    with BinanceStreamServer(fault, options=ServerOptions(retry_after=17)) as server:
        with pytest.raises(InvalidStatus) as refused, ws_client(server):
            pass
    response = refused.value.response
    assert response.status_code == status
    assert marker in response.body
    if status in (429, 418):
        assert response.headers["Retry-After"] == "17"
    if fault == "http-403":
        assert response.headers["Server"] == "CloudFront"


def test_bad_accept_fails_the_client_handshake() -> None:
    with BinanceStreamServer("bad-accept") as server:
        with pytest.raises(InvalidHeaderValue, match="Sec-WebSocket-Accept"), ws_client(server):
            pass


@pytest.mark.parametrize(
    ("fault", "code", "reason"),
    [("close-1008", 1008, "Too many requests"), ("close-1011", 1011, "Internal error")],
)
def test_close_frames(fault: str, code: int, reason: str) -> None:
    with BinanceStreamServer(fault) as server, ws_client(server) as client:
        with pytest.raises(ConnectionClosed) as closed:
            client.recv(timeout=1000 * MS)
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (code, reason)


def test_close_reason_can_be_changed() -> None:
    options = ServerOptions(close_reason="Illegal format ws or stream")
    with BinanceStreamServer("close-1008", options=options) as server, ws_client(server) as client:
        with pytest.raises(ConnectionClosed) as closed:
            client.recv(timeout=1000 * MS)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.reason == "Illegal format ws or stream"


def test_silent_stream_still_answers_list_subscriptions() -> None:
    with BinanceStreamServer("silent-stream") as server, ws_client(server) as client:
        assert_silent(client)
        assert list_subscriptions(client, 42) == {"result": ["btcusdt@aggTrade"], "id": 42}
        assert_silent(client, 100 * MS)


def test_wrong_payload_event_type() -> None:
    path = "/stream?streams=btcusdt@aggTrade"
    with BinanceStreamServer("wrong-payload") as server, ws_client(server, path) as client:
        message = receive_json(client)
    assert message["stream"] == "btcusdt@trade"
    assert message["data"]["e"] == "trade" and message["data"]["s"] == "BTCUSDT"


def test_wrong_payload_symbol() -> None:
    options = ServerOptions(wrong_payload="symbol")
    with BinanceStreamServer("wrong-payload", options=options) as server, ws_client(server) as c:
        message = receive_json(c)
    assert message["e"] == "aggTrade" and message["s"] == "ETHUSDT"


def test_invalid_payload_is_not_json() -> None:
    with BinanceStreamServer("invalid-payload") as server, ws_client(server) as client:
        text = client.recv(timeout=1000 * MS)
    with pytest.raises(ValueError):
        json.loads(text)


def test_slow_first_message() -> None:
    options = ServerOptions(delay=300 * MS)
    with BinanceStreamServer("slow-first-message", options=options) as server:
        with ws_client(server) as client:
            started = time.perf_counter()
            assert receive_json(client)["e"] == "aggTrade"
    assert time.perf_counter() - started >= 250 * MS


def test_server_shutdown_notice_then_close() -> None:
    with BinanceStreamServer("server-shutdown") as server, ws_client(server) as client:
        notice = receive_json(client)
        with pytest.raises(ConnectionClosed) as closed:
            client.recv(timeout=1000 * MS)
    assert notice["e"] == "serverShutdown" and isinstance(notice["E"], int)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001


def test_server_shutdown_after_some_events() -> None:
    options = ServerOptions(shutdown_after=2, interval=20 * MS)
    with BinanceStreamServer("server-shutdown", options=options) as server:
        with ws_client(server) as client:
            events = [receive_json(client)["e"] for _ in range(3)]
    assert events == ["aggTrade", "aggTrade", "serverShutdown"]


def test_stall_after_n_messages() -> None:
    options = ServerOptions(message_count=2, interval=20 * MS)
    with BinanceStreamServer("stall-after", options=options) as server, ws_client(server) as c:
        assert [receive_json(c)["e"] for _ in range(2)] == ["aggTrade", "aggTrade"]
        assert_silent(c)
        assert list_subscriptions(c)["result"] == ["btcusdt@aggTrade"]


def test_upgrade_hang_reads_the_request_and_never_answers() -> None:
    with BinanceStreamServer("upgrade-hang") as server:
        with pytest.raises(TimeoutError), ws_client(server, timeout=300 * MS):
            pass
        assert server.requests[0].path == "/ws/btcusdt@aggTrade"


@pytest.mark.timeout(10)
def test_trickle_sends_the_101_byte_by_byte() -> None:
    options = ServerOptions(trickle_interval=2 * MS)
    with BinanceStreamServer("trickle", options=options) as server:
        with socket.create_connection((server.host, server.port), timeout=1000 * MS) as sock:
            protocol = ClientProtocol(parse_uri(f"ws://{HOSTNAME}:{server.port}/ws/x@aggTrade"))
            protocol.send_request(protocol.connect())
            sock.sendall(b"".join(protocol.data_to_send()))
            first_reads = [sock.recv(1024) for _ in range(3)]
        assert all(len(chunk) == 1 for chunk in first_reads)
        with ws_client(server) as client:  # the whole 101 does arrive, then the stream
            assert receive_json(client)["e"] == "aggTrade"


@pytest.mark.timeout(10)
def test_ping_timeout_streams_only_to_clients_that_answer_pings() -> None:
    options = ServerOptions(ping_interval=50 * MS, pong_timeout=200 * MS)
    with BinanceStreamServer("ping-timeout", options=options) as server:
        sock, protocol = raw_client(server.host, server.port)
        with sock:
            frames = read_frames(sock, protocol, answer=True)
        assert [f.opcode for f in frames] == [Opcode.PING, Opcode.TEXT]

        sock, protocol = raw_client(server.host, server.port)
        with sock:
            frames = read_frames(sock, protocol, answer=False)
        assert [f.opcode for f in frames] == [Opcode.PING, Opcode.CLOSE]
        close = Close.parse(frames[-1].data)
        assert (close.code, close.reason) == (1008, "Pong timeout")
        assert server.errors == []


def test_healthy_stream_pings_when_asked() -> None:
    options = ServerOptions(ping_interval=50 * MS, interval=300 * MS)
    with BinanceStreamServer(options=options) as server:
        sock, protocol = raw_client(server.host, server.port)
        with sock:
            frames = read_frames(sock, protocol, answer=True)  # the first event
            frames = read_frames(sock, protocol, answer=True)  # pings, then the second
    assert Opcode.PING in [f.opcode for f in frames]


def test_plain_http_request_gets_upgrade_required() -> None:
    with BinanceStreamServer() as server:
        with socket.create_connection((server.host, server.port), timeout=1000 * MS) as sock:
            sock.sendall(b"GET /ws/btcusdt@aggTrade HTTP/1.1\r\nHost: x\r\n\r\n")
            assert sock.recv(1024).startswith(b"HTTP/1.1 426 ")
        assert server.errors == []


def test_raw_tcp_tls_faults_record_the_client_hello(certs: CertificateAuthority) -> None:
    with BinanceStreamServer("tls-reset-after-hello", certs=certs) as server:
        with socket.create_connection((server.host, server.port), timeout=1000 * MS) as sock:
            with pytest.raises(ConnectionResetError):
                certs.client_context().wrap_socket(sock, server_hostname=HOSTNAME)
        assert server.wait_for(lambda s: len(s.first_bytes) == 1, 1000 * MS)
        assert server.first_bytes[0][:2] == b"\x16\x03"


def test_fault_argument_checks(certs: CertificateAuthority) -> None:
    with pytest.raises(KeyError, match="unknown fault"):
        BinanceStreamServer("nope")
    with pytest.raises(ValueError, match="needs TLS"):
        BinanceStreamServer("tls-expired")
    with pytest.raises(ValueError, match="not played by the stream server"):
        BinanceStreamServer("dns-nxdomain")
