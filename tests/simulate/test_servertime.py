"""simulate/servertime.py: the REST server time on the stream's host and port, keep-alive,
by the server's clock (clock-skew moves it), met by a raw loopback socket."""

from __future__ import annotations

import json
import socket
import time

import pytest

from binance_diag.simulate.server import BinanceStreamServer, ServerOptions
from binance_diag.simulate.servertime import is_time_path, time_response
from tests.utils import MS


def test_time_paths() -> None:
    assert is_time_path("/api/v3/time") and is_time_path("/fapi/v1/time?x=1")
    assert is_time_path("/dapi/v1/time") and not is_time_path("/ws/btcusdt@aggTrade")
    head, body = time_response(1764921600123).split(b"\r\n\r\n")
    assert body == b'{"serverTime":1764921600123}' and b"Content-Length: 28" in head


def ask(sock: socket.socket, path: str) -> bytes:
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
    data = b""
    while b"}" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


@pytest.mark.timeout(10)
@pytest.mark.parametrize(("fault", "offset_ms"), [("healthy", 0), ("clock-skew", -7000),
                                                  ("late-delivery", 0)])
def test_keep_alive_time_by_the_servers_clock(fault: str, offset_ms: int) -> None:
    options = ServerOptions(clock_offset_s=-7.0)
    with BinanceStreamServer(fault, options=options) as server, \
            socket.create_connection(("127.0.0.1", server.port), timeout=2000 * MS) as sock:
        times = []
        for path in ("/api/v3/time", "/fapi/v1/time", "/dapi/v1/time"):
            before = time.time() * 1000
            answer = ask(sock, path)
            after = time.time() * 1000
            assert answer.startswith(b"HTTP/1.1 200 OK\r\n"), answer
            server_ms = json.loads(answer.split(b"\r\n\r\n", 1)[1])["serverTime"]
            assert before - 1 <= server_ms - offset_ms <= after + 1
            times.append(server_ms)
        assert ask(sock, "/api/v3/exchangeInfo").startswith(b"HTTP/1.1 404")
        assert sock.recv(4096) == b""  # anything else ends the connection
    assert times == sorted(times) and len(server.connections) == 1
    assert [r.path for r in server.requests] == ["/api/v3/time", "/fapi/v1/time",
                                                 "/dapi/v1/time", "/api/v3/exchangeInfo"]
