"""The `first_message` stage: wait for one valid event per requested stream.

Silence is ambiguous: an unknown symbol or a quiet market looks like a dead link. Halfway
through the budget the stage sends Binance's LIST_SUBSCRIPTIONS request; an answer proves the
link is alive and shows which streams the server thinks we asked for. The check is due at
halfway whatever arrives meanwhile (a flood of pings must not postpone it), and only a reply
with its id, after it was sent, counts as its answer.
"""

from __future__ import annotations

import time

from ..config.probe import ProbeConfig
from ..model import JSON, ErrorKind
from ..safety.sanitize import peer_text
from ..timing import Deadline, format_seconds
from .base import ProbeState, StageOutcome, Tracer, failed, passed
from .connection import Connection
from .sansio.handshake import Closed, DataMessage, Ping, Violation, WebSocketExchange
from .sansio.payload import (
    Event,
    Problem,
    Reply,
    classify_message,
    list_subscriptions_request,
    scalar,
)

LIST_SUBSCRIPTIONS_ID = 1
SHUTDOWN_CLOSE_WAIT = 1.0
"""How long to wait, after a serverShutdown event, for the close frame that follows it."""
UNSOLICITED_LISTED = 5
"""Replies to no request of ours named in the timeline; the rest are only counted (a peer
may send them by the hundred thousand)."""
_SPOT_PRESETS = {"spot", "spot-443", "data-stream", "testnet", "us"}


async def receive_first_message(
    config: ProbeConfig, state: ProbeState, tracer: Tracer, deadline: Deadline
) -> StageOutcome:
    connection, exchange = state.connection, state.exchange
    assert connection is not None and exchange is not None
    target = config.target
    upgraded_at = state.upgraded_at or time.perf_counter()
    spot = target.endpoint in _SPOT_PRESETS
    waiting = set(target.symbols)
    firsts: dict[str, JSON] = {}
    pings = 0
    probe: dict[str, JSON] = {"sent": False, "answered": False}
    probe_at = deadline.started + deadline.budget / 2

    def details() -> dict[str, JSON]:
        return {"streams": firsts, "pings_seen": pings, "list_subscriptions": probe,
                "waiting_for": sorted(waiting)}

    while waiting:
        event = exchange.next_event()
        if event is None:
            if not probe["sent"] and time.perf_counter() >= probe_at and \
                    exchange.send_text(list_subscriptions_request(LIST_SUBSCRIPTIONS_ID)):
                probe["sent"] = True
                tracer.event("no data yet: LIST_SUBSCRIPTIONS sent")
            try:
                await connection.send(exchange.bytes_to_send(), deadline)
                before_probe = probe_at - time.perf_counter()
                wait = Deadline(min(before_probe, deadline.remaining())) if (
                    not probe["sent"] and before_probe > 0) else deadline
                data = await connection.recv(wait)
            except TimeoutError:
                if deadline.expired:
                    break
                continue
            except (ConnectionResetError, BrokenPipeError):
                return failed(ErrorKind.CLOSED, "connection reset before the first message",
                              {"code": None, "reason": "reset"}, **details())
            exchange.feed(data)
            continue
        if isinstance(event, Ping):
            pings += 1
            continue
        if isinstance(event, Violation):
            violation = peer_text(event.message)
            tracer.event(f"protocol violation: {violation}")
            return failed(ErrorKind.PROTOCOL_ERROR,
                          f"the server broke the WebSocket protocol: {violation}",
                          {"code": event.code, "exception": event.exception}, **details())
        if isinstance(event, Closed):
            close_reason = peer_text(event.reason)  # up to 123 bytes of the peer's choosing
            tracer.event(f"close frame received: {event.code} {close_reason}")
            reason = f" '{close_reason}'" if close_reason else ""
            code = event.code if event.code is not None else "no close frame"
            return failed(ErrorKind.CLOSED, f"server closed the stream: {code}{reason}",
                          {"code": event.code, "reason": close_reason}, **details())
        assert isinstance(event, DataMessage)
        received_ms = time.time() * 1000
        result = classify_message(event.text, target.symbols, target.stream,
                                  require_spot_fields=spot)
        if isinstance(result, Reply):
            if probe["sent"] and result.id == LIST_SUBSCRIPTIONS_ID:
                probe.update(answered=True, result=result.result, error=result.error)
                tracer.event(f"LIST_SUBSCRIPTIONS answered: {scalar(str(result.result))}")
            else:
                unsolicited = int(probe.get("unsolicited_replies", 0)) + 1
                probe["unsolicited_replies"] = unsolicited
                if unsolicited <= UNSOLICITED_LISTED:
                    ident = scalar(result.id)
                    tracer.event("a reply to no request of ours ignored (id "
                                 f"{repr(ident) if isinstance(result.id, int) else ident})")
                if unsolicited == UNSOLICITED_LISTED:
                    tracer.event(f"further replies to no request of ours are counted, not "
                                 f"listed (cap {UNSOLICITED_LISTED})")
            continue
        if isinstance(result, Problem):
            if result.extra.get("event") == "serverShutdown":
                tracer.event("serverShutdown event received")
                closed = await _close_after_shutdown(exchange, connection, deadline)
                close_code = closed.code if closed else None
                shutdown_reason = peer_text(closed.reason) if closed else None
                if close_code is None:
                    then = ", and did not close within its wait"
                else:
                    then = f", then closed with {close_code}" + \
                        (f" '{shutdown_reason}'" if shutdown_reason else "")
                return failed(ErrorKind.CLOSED,
                              f"server announced a shutdown (serverShutdown event){then}",
                              {"code": close_code, "reason": shutdown_reason or "serverShutdown",
                               "event": "serverShutdown"}, **details())
            tracer.event(f"unexpected first message: {result.message}")
            return failed(result.kind, result.message, result.extra, **details())
        assert isinstance(result, Event)
        if result.symbol in waiting:
            waiting.discard(result.symbol)
            latency = round((time.perf_counter() - upgraded_at) * 1000, 3)
            firsts[result.stream] = {
                "latency_ms": latency,
                "event_time": result.event_time_ms,
                "event_time_lag_ms": round(received_ms - result.event_time_ms, 1),
                "price": scalar(result.data.get("p")),
                "quantity": scalar(result.data.get("q")),
            }
            tracer.event(f"first {target.stream} for {result.symbol} after {latency:.1f} ms")
    if not waiting:
        return passed(**details())
    tracer.event("first-message timeout fired")
    if probe["answered"]:
        why = f"the link is alive (LIST_SUBSCRIPTIONS answered {probe.get('result')})"
    elif probe["sent"]:
        why = "LIST_SUBSCRIPTIONS got no answer either: the link looks dead"
    elif pings:
        why = f"only {pings} server ping(s) received"
    else:
        why = "nothing received"
    message = f"no {target.stream} message for {', '.join(sorted(waiting))} in " \
              f"{format_seconds(deadline.budget)}; {why}"
    return failed(ErrorKind.TIMEOUT, message, {"missing": sorted(waiting),
                  "link_alive": bool(probe["answered"])}, **details())


async def _close_after_shutdown(exchange: WebSocketExchange, connection: Connection,
                                deadline: Deadline) -> Closed | None:
    """The close frame that follows a serverShutdown event (its code says how the server
    went away), waited for briefly and never past the stage's deadline."""
    wait = Deadline(min(SHUTDOWN_CLOSE_WAIT, deadline.remaining()))
    while True:
        event = exchange.next_event()
        if isinstance(event, Closed):
            return event
        if isinstance(event, Violation):
            return None
        if event is not None:
            continue  # pings, a last event: not what we wait for
        try:
            await connection.send(exchange.bytes_to_send(), wait)
            exchange.feed(await connection.recv(wait))
        except (TimeoutError, ConnectionResetError, BrokenPipeError):
            return None
