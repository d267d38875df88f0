"""`--duration S`: after the first message, keep the stream open and measure it.

Message count and rate, the largest gap between two events, server pings seen and pongs
sent (Binance pings every 20 s and drops a connection whose pong is a minute late), and the
close code if the server ends the stream. Not a stage: the stages answer "can I connect";
this answers "does the stream stay healthy".

Every write is bounded (`SEND_STALL`): a peer that stops reading fills the TCP window and
would otherwise hold the hold hostage until its end, figures lost; the stall is reported.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from ..config.probe import ProbeConfig
from ..figures.distribution import Distribution as GapStats
from ..model import JSON
from ..safety.sanitize import peer_text
from ..timing import Deadline
from .base import ProbeState
from .sansio.handshake import Closed, DataMessage, Ping, Violation
from .sansio.payload import Event, Problem, classify_message

SEND_STALL = 2.0
"""Seconds a write may wait for room in the TCP window: a pong is a few bytes, so a window
still full after this means the peer stopped reading."""


HoldListener = Callable[[str, float, object], None]
"""Told of what the hold sees as it happens, with its perf_counter() time (`watch`):
("event", t, Event), ("other", t, Reply | Problem), ("ping", t, None) and
("pongs_sent", t, how many)."""


async def hold_stream(config: ProbeConfig, state: ProbeState, duration: float,
                      listener: HoldListener | None = None, poll: float | None = None,
                      ) -> dict[str, JSON]:
    """`poll`: wake at least this often (seconds) to send what was queued on the exchange
    meanwhile (a request, a ping), even when the peer is silent."""
    connection, exchange = state.connection, state.exchange
    assert connection is not None and exchange is not None
    deadline = Deadline(duration)
    counts: dict[str, int] = {}
    other = 0
    pings = 0
    first_ping = last_ping = 0.0
    pongs = pending_pongs = 0
    last_event = time.perf_counter()
    largest_gap = 0.0
    gaps = GapStats()  # bounded: a list of every gap grew with the message rate
    closed: dict[str, JSON] | None = None
    shutdown = False  # Binance's serverShutdown notice came
    send_stalled: dict[str, JSON] | None = None
    while not deadline.expired:
        event = exchange.next_event()
        if event is None:
            out = exchange.bytes_to_send()
            if out:  # the protocol queued a pong for each ping it parsed (RFC 6455 §5.5.2)
                wait = min(SEND_STALL, deadline.remaining())
                try:
                    await connection.send(out, Deadline(wait))
                except TimeoutError:
                    if wait >= SEND_STALL:
                        send_stalled = {"after_s": round(deadline.elapsed_ms() / 1000 - wait, 3),
                                        "waited_s": wait, "unsent_bytes": len(out)}
                    break
                except OSError as exc:
                    closed = {"code": None, "reason": f"connection error: {exc}"}
                    break
                if listener is not None and pending_pongs:
                    listener("pongs_sent", time.perf_counter(), pending_pongs)
                pongs, pending_pongs = pongs + pending_pongs, 0
            try:
                exchange.feed(await connection.recv(
                    Deadline(min(poll, deadline.remaining())) if poll else deadline))
            except TimeoutError:
                if poll and not deadline.expired:
                    continue
                break
            except OSError as exc:
                closed = {"code": None, "reason": f"connection error: {exc}"}
                break
            continue
        now = time.perf_counter()
        if isinstance(event, Ping):
            pings += 1
            first_ping, last_ping = first_ping or now, now
            pending_pongs += 1
            if listener is not None:
                listener("ping", now, None)
        elif isinstance(event, Closed):
            closed = {"code": event.code, "reason": peer_text(event.reason)}
            break
        elif isinstance(event, Violation):
            closed = {"code": event.code,
                      "reason": f"protocol violation: {peer_text(event.message)}"}
            break
        elif isinstance(event, DataMessage):
            result = classify_message(event.text, config.target.symbols, config.target.stream)
            if isinstance(result, Event):
                counts[result.stream] = counts.get(result.stream, 0) + 1
                gaps.add(now - last_event)
                largest_gap = max(largest_gap, now - last_event)
                last_event = now
                if listener is not None:
                    listener("event", now, result)
            else:
                other += 1
                if listener is not None:
                    listener("other", now, result)
                shutdown = shutdown or (isinstance(result, Problem)
                                        and result.extra.get("event") == "serverShutdown")
    elapsed = deadline.elapsed_ms() / 1000
    largest_gap = max(largest_gap, time.perf_counter() - last_event)
    total = sum(counts.values())
    return {
        "duration_s": round(elapsed, 3),
        "messages": total,
        "per_stream": dict(counts),
        "other_messages": other,
        "rate_per_s": round(total / elapsed, 2) if elapsed else 0.0,
        "largest_gap_ms": round(largest_gap * 1000, 1),
        # The usual spacing, which a stall does not inflate (an average would: 2 events
        # then 8 s of silence average 4 s apart).
        # Both within 1 % (figures/distribution.py): constant memory, whatever the rate.
        "median_gap_ms": _ms(gaps.quantile(0.5)),
        "p99_gap_ms": _ms(gaps.quantile(0.99)),
        "pings_seen": pings,
        "pongs_sent": pongs,
        # The mean of the intervals between pings: (last - first) / (pings - 1).
        "ping_interval_s": round((last_ping - first_ping) / (pings - 1), 3)
        if pings > 1 else None,
        "closed": closed,
        "server_shutdown": shutdown,
        "send_stalled": send_stalled,
    }


def _ms(seconds: float | None) -> float | None:
    return round(seconds * 1000, 1) if seconds is not None else None
