"""Rules for the `first_message` stage: silence on a live link, closes, and wrong payloads."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...model import Blame, ErrorKind, Severity, StageName
from ...timing import format_ms
from ..describe import code
from ..facts import Facts
from ..rule import Action, Condition, Rule, Scope, Subject
from .common import TRY_DATA_STREAM, USE_PROXY, detail, extra, with_path

CRITICAL, WARNING = Severity.CRITICAL, Severity.WARNING
MESSAGE = StageName.FIRST_MESSAGE

EXCHANGE_INFO = Action("Check the symbol is listed and trading: `curl -s "
                       "'https://api.binance.com/api/v3/exchangeInfo?symbol={symbol}'` "
                       "(\"status\": \"TRADING\")")
LONGER_WAIT = Action("A quiet symbol may just need longer: `{again:--message-timeout 60}`")


def silence_lines(facts: Facts, subject: Subject) -> list[str]:
    if subject is None:
        return []
    lines = [f"waited {_waited(subject)} on {code(facts.target.path)} for the first event"]
    probe = detail(subject, "list_subscriptions") or {}
    if probe.get("answered"):
        lines.append(f"LIST_SUBSCRIPTIONS answered {code(probe.get('result'))}: "
                     "the link is alive")
    elif probe.get("sent"):
        lines.append("LIST_SUBSCRIPTIONS sent halfway through got no answer: the link is dead")
    pings = detail(subject, "pings_seen")
    if isinstance(pings, int):
        lines.append(f"{pings} server ping(s) seen")
    missing = extra(subject, "missing")
    if missing:
        lines.append(f"no event for {', '.join(code(m) for m in missing)}")
    return lines


def _waited(subject: Subject) -> str:
    if subject is None or subject.duration_ms is None:
        return "until the timeout"
    return format_ms(subject.duration_ms)


def close_lines(facts: Facts, subject: Subject) -> list[str]:
    code_, reason = extra(subject, "code"), extra(subject, "reason")
    lines = [f"close code {code(code_ if code_ is not None else 'none')}, "
             f"reason {code(reason or '(none)')}"]
    return lines + silence_lines(facts, subject)[1:]


def payload_lines(facts: Facts, subject: Subject) -> list[str]:
    lines = [subject.error.message] if subject is not None and subject.error else []
    excerpt = extra(subject, "excerpt")
    if excerpt:
        lines.append(f"message begins {code(str(excerpt)[:160])}")
    return lines


def message_values(facts: Facts, subject: Subject) -> Mapping[str, str]:
    """Name the streams still missing: on a combined stream, some may have spoken."""
    probe = detail(subject, "list_subscriptions") or {}
    missing = [str(m) for m in extra(subject, "missing") or detail(subject, "waiting_for") or ()]
    symbols = missing or list(facts.target.symbols)
    return {
        "symbol": symbols[0],
        "streams": ", ".join(f"{s.lower()}@{facts.target.stream}" for s in symbols),
        "code": str(extra(subject, "code")),
        "close_reason": str(extra(subject, "reason") or "none"),
        "subscriptions": str(probe.get("result")),
    }


def link_alive(facts: Facts, subject: Subject) -> bool:
    """LIST_SUBSCRIPTIONS was answered"""
    return bool(extra(subject, "link_alive")) or \
        bool((detail(subject, "list_subscriptions") or {}).get("answered"))


def futures_without_market(facts: Facts, subject: Subject) -> bool:
    """a USD-M futures host without the `/market` path"""
    host, path = facts.target.host.lower(), facts.target.path
    return facts.binance and host.startswith("fstream") and not path.startswith("/market/")


def close_code(*codes: int) -> Condition:
    def condition(facts: Facts, subject: Subject) -> bool:
        return extra(subject, "code") in codes

    condition.__name__ = f"close code {' or '.join(str(c) for c in codes)}"
    return condition


def server_shutdown(facts: Facts, subject: Subject) -> bool:
    """a `serverShutdown` event"""
    return "serverShutdown" in (extra(subject, "event"), extra(subject, "reason"))


FAILURES = (
    Rule(
        "message.futures_path_missing", Scope.FAILURE, CRITICAL, Blame.LOCAL,
        title="USD-M futures streams need the /market path",
        meaning="A USD-M futures URL without `/market`: since the 2026 URL split, market "
                "streams are served under `wss://fstream.binance.com/market/...` and the old "
                "paths stay silent.",
        hypothesis="The URL `{url}` uses the pre-2026 path; USD-M market streams moved under "
                   "`/market`, and the old path accepts the connection but sends nothing.",
        stage=MESSAGE, kinds=frozenset({ErrorKind.TIMEOUT}),
        when=futures_without_market, evidence=with_path(silence_lines), values=message_values,
        analysis="The upgrade succeeded, so the network path is fine; the stream path is not "
                 "the one the server publishes on.",
        actions=(Action("Use the preset: `{again:--endpoint usdm}` "
                        "(wss://fstream.binance.com/market)"),
                 Action("In your program, connect to "
                        "`wss://fstream.binance.com/market/ws/<symbol>@aggTrade`")),
    ),
    Rule(
        "message.silent_stream", Scope.FAILURE, CRITICAL, Blame.LOCAL,
        title="The link is alive but {streams} sends nothing",
        meaning="No event before the timeout while LIST_SUBSCRIPTIONS was answered: the "
                "stream is unknown or idle (a wrong or non-trading symbol, an uppercase "
                "stream name, a futures URL without `/market`).",
        hypothesis="Binance answered LIST_SUBSCRIPTIONS ({subscriptions}), so the connection "
                   "works; the stream itself is silent. Binance accepts any stream name and "
                   "sends nothing for one it does not know: a symbol that is not listed or "
                   "not trading, or a stream name in uppercase (stream names must be "
                   "lowercase, e.g. `btcusdt@aggTrade`).",
        stage=MESSAGE, kinds=frozenset({ErrorKind.TIMEOUT}), when=link_alive,
        evidence=with_path(silence_lines), values=message_values,
        analysis="The connection is alive (LIST_SUBSCRIPTIONS was answered): DNS, TCP, TLS "
                 "and the upgrade are ruled out, and so is a stalled path; what is left is the "
                 "stream itself.",
        actions=(EXCHANGE_INFO,
                 Action("In your program, send stream names in lowercase: "
                        "`btcusdt@aggTrade`, not `BTCUSDT@aggTrade`"),
                 LONGER_WAIT),
    ),
    Rule(
        "message.link_stalled", Scope.FAILURE, CRITICAL, Blame.NETWORK,
        title="The connection to {host} went silent after the upgrade",
        meaning="No event and no answer to LIST_SUBSCRIPTIONS: the link is dead although the "
                "upgrade succeeded (a stalled path, a proxy buffering frames).",
        hypothesis="After a successful upgrade nothing came back at all, not even an answer "
                   "to LIST_SUBSCRIPTIONS: the path stalled, or a proxy holds the frames.",
        stage=MESSAGE, kinds=frozenset({ErrorKind.TIMEOUT}),
        evidence=with_path(silence_lines), values=message_values,
        analysis="The upgrade worked, then the connection carried nothing: not a name, port "
                 "or certificate problem.",
        actions=(TRY_DATA_STREAM, USE_PROXY, LONGER_WAIT),
    ),
    Rule(
        "message.closed_policy", Scope.FAILURE, CRITICAL, Blame.POLICY,
        title="Binance closed the stream with 1008: policy violation",
        meaning="Close code 1008: Binance closes connections that send too many messages "
                "(over 5 per second) or break its limits.",
        hypothesis="Binance closes with 1008 when a connection exceeds its limits: too many "
                   "incoming messages (over 5 per second), too many streams, or a banned "
                   "client.",
        stage=MESSAGE, kinds=frozenset({ErrorKind.CLOSED}), when=close_code(1008),
        evidence=with_path(close_lines), values=message_values,
        analysis="The stream opened and Binance itself closed it: a policy decision.",
        actions=(Action("Send at most 5 messages per second per connection (pings, pongs "
                        "and subscription requests count)"),
                 Action("Use at most 1024 streams per connection")),
    ),
    Rule(
        "message.closed_server_error", Scope.FAILURE, CRITICAL, Blame.REMOTE,
        title="The server closed the stream with 1011: internal error",
        meaning="Close code 1011: the server hit an internal error.",
        hypothesis="The server side failed while serving the stream ({close_reason}).",
        stage=MESSAGE, kinds=frozenset({ErrorKind.CLOSED}), when=close_code(1011),
        evidence=with_path(close_lines), values=message_values,
        analysis="The stream opened; the server failed afterwards.",
        actions=(Action("Reconnect with backoff; check Binance's announcements"),
                 TRY_DATA_STREAM),
    ),
    Rule(
        "message.server_shutdown", Scope.FAILURE, CRITICAL, Blame.REMOTE,
        title="The server announced a shutdown before the first event",
        meaning="Binance sent its `serverShutdown` event: the server is going away "
                "(maintenance); reconnect.",
        hypothesis="The server is being taken out of service and told the client so.",
        stage=MESSAGE, kinds=frozenset({ErrorKind.CLOSED}), when=server_shutdown,
        evidence=with_path(close_lines), values=message_values,
        analysis="The stream opened; the server left on purpose.",
        actions=(Action("Reconnect: a new connection lands on another server"),
                 Action("Handle `serverShutdown` in your program by reconnecting at once")),
    ),
    Rule(
        "message.closed", Scope.FAILURE, CRITICAL, Blame.REMOTE,
        title="The stream closed before the first event (code {code})",
        meaning="The connection was closed or reset after the upgrade, before any event.",
        hypothesis="The server or a proxy ended the stream ({message}).",
        stage=MESSAGE, kinds=frozenset({ErrorKind.CLOSED}),
        evidence=with_path(close_lines), values=message_values,
        analysis="The stream opened and was then closed: the network path worked.",
        actions=(Action("Probe again to see if it repeats: `{again}`"), USE_PROXY),
    ),
    Rule(
        "message.protocol_violation", Scope.FAILURE, CRITICAL, Blame.REMOTE,
        title="The server broke the WebSocket protocol (client closed with {code})",
        meaning="After the upgrade the peer sent a frame RFC 6455 forbids (a reserved close "
                "code, a frame over the size limit, text that is not UTF-8, a reserved "
                "opcode): the client must fail the connection.",
        hypothesis="The peer is not a conforming WebSocket server, or something on the path "
                   "corrupts frames: {message}.",
        stage=MESSAGE, kinds=frozenset({ErrorKind.PROTOCOL_ERROR}),
        evidence=with_path(payload_lines), values=message_values,
        analysis="The upgrade worked and frames came back: the path carries data; what the "
                 "peer sent is invalid.",
        actions=(Action("Check the endpoint `{url}` is Binance's or a faithful relay"),
                 Action("Probe again without the proxy or middlebox in between, if there is "
                        "one: a proxy that rewrites frames shows up like this"), USE_PROXY),
    ),
    Rule(
        "message.wrong_stream", Scope.FAILURE, CRITICAL, Blame.REMOTE,
        title="The first message belongs to another stream",
        meaning="A valid message arrived for another stream or symbol than requested.",
        hypothesis="The server sent data for another stream than `{path}` asks for: a relay "
                   "or proxy that multiplexes streams, or a wrong endpoint.",
        stage=MESSAGE, kinds=frozenset({ErrorKind.WRONG_STREAM}),
        evidence=with_path(payload_lines), values=message_values,
        analysis="Data flows: everything up to the payload works.",
        actions=(Action("Check the endpoint `{url}` is Binance's or a faithful relay"),),
    ),
    Rule(
        "message.invalid_payload", Scope.FAILURE, CRITICAL, Blame.REMOTE,
        title="The first message is not a valid {stream} event",
        meaning="The first message is not JSON, or lacks fields of the expected event.",
        hypothesis="The server speaks WebSocket but not Binance's format: {message}.",
        stage=MESSAGE, kinds=frozenset({ErrorKind.INVALID_PAYLOAD}),
        evidence=with_path(payload_lines), values=message_values,
        analysis="Data flows: everything up to the payload works.",
        actions=(Action("Check the endpoint `{url}` (spot and futures events differ: the "
                        "`M` field is spot-only)"),),
    ),
)

STALL_FLOOR_MS = 5000.0
"""A gap in a held stream shorter than this is never a stall."""
STALL_EVENTS = 20
"""A gap as long as this many average intervals between events is a stall."""


def _hold(subject: Subject) -> Mapping[str, Any]:
    hold = detail(subject, "hold")
    return hold if isinstance(hold, Mapping) and "duration_s" in hold else {}


def hold_closed(facts: Facts, subject: Subject) -> bool:
    """the server closed the stream during `--duration`"""
    return bool(_hold(subject).get("closed"))


def hold_stalled(facts: Facts, subject: Subject) -> bool:
    """events stopped for over 5 s and 20 usual (median) intervals during `--duration`"""
    hold = _hold(subject)
    if not hold or hold.get("closed"):
        return False
    gap = hold.get("largest_gap_ms") or 0.0
    usual = hold.get("median_gap_ms") or 0.0  # none known: the floor alone decides
    return gap >= STALL_FLOOR_MS and gap >= STALL_EVENTS * usual


def hold_send_stalled(facts: Facts, subject: Subject) -> bool:
    """during `--duration`, what the client had to send (pongs, requests) could not leave"""
    return bool(_hold(subject).get("send_stalled"))


def hold_values(facts: Facts, subject: Subject) -> Mapping[str, str]:
    hold = _hold(subject)
    closed = hold.get("closed") or {}
    return {
        "held": f"{hold.get('duration_s', 0):g} s",
        "held_for": format_ms((hold.get("duration_s") or 0.0) * 1000),
        "gap": format_ms(hold.get("largest_gap_ms") or 0.0),
        "code": str(closed.get("code")),
        "close_reason": str(closed.get("reason") or "none"),
        "stalled_for": format_ms(((hold.get("send_stalled") or {}).get("waited_s") or 0.0)
                                 * 1000),
        "unsent": str((hold.get("send_stalled") or {}).get("unsent_bytes")),
        "close_cause": "after Binance's `serverShutdown` notice: the server went away for "
                       "maintenance, not the path; a new connection lands elsewhere"
        if hold.get("server_shutdown") else
        "without a shutdown notice: a proxy or NAT that drops long-lived connections, a "
        "missed pong, or the server going away",
    }


def hold_lines(facts: Facts, subject: Subject) -> list[str]:
    hold = _hold(subject)
    lines = [f"held {hold.get('duration_s')} s: {hold.get('messages')} events "
             f"({hold.get('rate_per_s')}/s), largest gap "
             f"{format_ms(hold.get('largest_gap_ms') or 0.0)}, "
             f"{hold.get('pings_seen')} ping(s) seen, {hold.get('pongs_sent')} pong(s) sent"]
    closed = hold.get("closed")
    if closed:
        lines.append(f"closed with code {code(closed.get('code'))}, reason "
                     f"{code(closed.get('reason') or '(none)')}")
    stalled = hold.get("send_stalled")
    if stalled:
        lines.append(f"{stalled.get('unsent_bytes')} bytes (pongs, requests) could not be "
                     f"sent in {format_ms((stalled.get('waited_s') or 0.0) * 1000)}, "
                     f"{stalled.get('after_s')} s into the hold: the peer's TCP window "
                     "stayed full")
    return lines


OBSERVATIONS = (
    Rule(
        "hold.closed", Scope.STAGE, WARNING, Blame.REMOTE,
        title="The stream was closed after {held_for} held open (code {code})",
        meaning="With `--duration`, the server (or the path) ended the stream while it was "
                "held open: the connection works, but does not last.",
        hypothesis="The first event came, then the stream ended ({close_reason}) "
                   "{close_cause}.",
        stage=MESSAGE, when=hold_closed, evidence=hold_lines, values=hold_values,
        analysis="Held open, the stream was then closed after {held_for} (code {code}): the "
                 "path works; the connection did not last.",
        actions=(Action("Reconnect on close in your program, with backoff"),
                 Action("Answer pings promptly: Binance pings every 20 s and drops a "
                        "connection whose pong is a minute late")),
    ),
    Rule(
        "hold.send_stalled", Scope.STAGE, WARNING, Blame.REMOTE,
        title="The server stopped reading: pongs could not be sent for {stalled_for}",
        meaning="With `--duration`, what the client sends (pongs to the server's pings, "
                "requests) could not leave: the peer stopped reading and its TCP window "
                "stayed full. Binance drops a connection whose pong is a minute late.",
        hypothesis="The stream kept arriving, but the peer read nothing of what this client "
                   "sent ({unsent} bytes waited {stalled_for}): a server or proxy that "
                   "stopped reading its side of the connection. The stream would be dropped "
                   "for missing pongs.",
        stage=MESSAGE, when=hold_send_stalled, evidence=hold_lines, values=hold_values,
        analysis="Held open, the stream flowed one way only: the client's pongs could not "
                 "be sent for {stalled_for}.",
        actions=(Action("Check the endpoint `{url}` is Binance's or a faithful relay; probe "
                        "again without the proxy in between, if there is one"),
                 Action("In your program, bound every send with a timeout and reconnect "
                        "when it fires: `async with asyncio.timeout(10): await ws.pong()`")),
    ),
    Rule(
        "hold.stalled", Scope.STAGE, WARNING, Blame.NETWORK,
        title="The stream went silent for {gap} while held open",
        meaning="With `--duration`, events stopped for far longer than their usual interval "
                "although the connection stayed open: a stalled path or a stuck server.",
        hypothesis="Events arrived, then none for {gap} on a stream that usually sends many "
                   "per second, without a close: the path stalled or the server stopped "
                   "sending. A client without a read timeout waits forever here.",
        stage=MESSAGE, when=hold_stalled, evidence=hold_lines, values=hold_values,
        analysis="Held open, the stream then went silent for {gap} without closing: the path "
                 "carried events, then stalled.",
        actions=(Action("In your program, treat a silence longer than a few seconds as a dead "
                        "connection: `async with asyncio.timeout(10): await ws.recv()`, then "
                        "reconnect"), TRY_DATA_STREAM),
    ),
)
