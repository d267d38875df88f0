"""The `ws_upgrade` stage: the HTTP/1.1 upgrade through websockets' Sans-I/O client.

Running the upgrade ourselves over an already-handshaken connection is what lets the report
say "TLS took 40 ms, the upgrade then waited 5 s" instead of one opaque connect() time.
"""

from __future__ import annotations

import ssl
import time

from ..config.probe import ProbeConfig
from ..model import JSON, ErrorKind
from ..timing import Deadline, format_seconds
from .base import ProbeState, StageOutcome, Tracer, failed, passed
from .sansio.handshake import WebSocketExchange


async def upgrade_websocket(
    config: ProbeConfig, state: ProbeState, tracer: Tracer, deadline: Deadline
) -> StageOutcome:
    connection = state.connection
    assert connection is not None
    exchange = WebSocketExchange(config.target.url, config.user_agent)
    state.exchange = exchange
    common: dict[str, JSON] = {"path": config.target.path, "user_agent": config.user_agent}
    try:
        await connection.send(exchange.bytes_to_send(), deadline)
        tracer.event(f"HTTP upgrade request sent: GET {config.target.path}")
        while exchange.upgrade is None:
            exchange.feed(await connection.recv(deadline))
    except TimeoutError:
        partial = exchange.partial_response()
        got = partial["bytes_received"]
        if got:
            message = (f"response incomplete after {format_seconds(deadline.budget)} "
                       f"({got} bytes received)")
        else:
            message = f"no HTTP response in {format_seconds(deadline.budget)}"
        tracer.event("upgrade timeout fired")
        return failed(ErrorKind.TIMEOUT, message, partial, **common, **partial)
    except (ConnectionResetError, BrokenPipeError):
        tracer.event("connection reset during the upgrade")
        return failed(ErrorKind.RESET, "connection reset during the upgrade", **common)
    except ssl.SSLError as exc:
        return failed(ErrorKind.EOF, f"TLS error during the upgrade: {exc.reason or exc}",
                      **common)
    outcome = exchange.upgrade
    details: dict[str, JSON] = {
        **common,
        "status": outcome.status,
        "reason": outcome.reason,
        "headers": dict(outcome.headers),
    }
    if outcome.body_excerpt:
        details["body_excerpt"] = outcome.body_excerpt
    if outcome.error is not None:
        tracer.event(f"upgrade refused: {outcome.error.message}")
        error = outcome.error
        return failed(error.kind, error.message, dict(error.extra), **details)
    state.upgraded_at = time.perf_counter()
    tracer.event("HTTP 101 Switching Protocols")
    return passed(**details)
