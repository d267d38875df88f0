"""The simulator's REST server time: `GET /api/v3/time` (and the futures `/fapi/v1/time`,
`/dapi/v1/time`) on the stream's own host and port, keep-alive, as Binance answers it.

The clock it reads is the server's (`server_ms`): the `clock-skew` fault sets it ahead or
behind, and the events carry the same clock, so a client sees one consistent Binance.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable

TIME_PATHS = frozenset({"/api/v3/time", "/fapi/v1/time", "/dapi/v1/time"})
MAX_HEAD = 16 * 1024
"""A request head longer than this ends the connection."""


def is_time_path(path: str) -> bool:
    return path.split("?", 1)[0] in TIME_PATHS


def time_response(server_ms: int) -> bytes:
    body = json.dumps({"serverTime": server_ms}, separators=(",", ":")).encode()
    return (b"HTTP/1.1 200 OK\r\nContent-Type: application/json;charset=UTF-8\r\n"
            b"Content-Length: %d\r\nConnection: keep-alive\r\n\r\n" % len(body)) + body


NOT_FOUND = (b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json;charset=UTF-8\r\n"
             b"Content-Length: 2\r\nConnection: close\r\n\r\n{}")


async def serve_time(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                     server_ms: Callable[[], int], seen: Callable[[str], None]) -> None:
    """Answer the request already read, then each keep-alive request after it (`seen` is
    told every further path), until the client goes or asks for something else."""
    with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError,
                             asyncio.LimitOverrunError):
        while True:
            writer.write(time_response(server_ms()))
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            if len(head) > MAX_HEAD:
                return
            parts = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
            path = parts[1] if len(parts) == 3 and parts[0] == "GET" else ""
            seen(path)
            if not is_time_path(path):
                writer.write(NOT_FOUND)
                await writer.drain()
                return
