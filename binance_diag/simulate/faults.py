"""The fault catalogue: every way the simulators can break, and what a probe must conclude.

Pure data, one table (h11's "tables before code"), shared by the probe's tests,
`binance-diag simulate` and `demo` (catalogue.py words it for people). `expected` is the
(stage, error kind) a correct probe reports against the fault run with default
`ServerOptions`, with stage timeouts of a second or so (a `note` says when the outcome
depends on them); None means the probe must pass. Option names in descriptions are
`binance-diag simulate`'s (`--delay` is `ServerOptions.delay`, and so on).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from ..model import ErrorKind, ProbeReport, StageName, StageStatus

PeerKind = Literal["dns", "refused", "blackhole", "server", "middlebox", "proxy"]
"""Which simulator plays the fault (see scenario.start_fault)."""


@dataclass(frozen=True)
class Fault:
    name: str
    description: str
    stage: StageName | None
    """The stage a probe must fail at; None for a fault the probe passes."""
    error: ErrorKind | None
    peer: PeerKind
    requires_tls: bool = False
    dns_mode: str | None = None
    """For peer "dns": the `DnsMode` value the DNS server runs in."""
    note: str = ""
    """When the expectation needs something more than defaults, or why it is what it is."""
    confirmed: str = ""
    """The finding a probe with its experiments on must confirm (docs/experiments.md)."""
    for_watch: bool = False
    """The fault strikes on a held stream, after the first message: only `watch` (or a
    long `--duration`) sees it, and a probe must pass it (`stage` and `error` None)."""

    @property
    def expected(self) -> tuple[StageName, ErrorKind] | None:
        if self.stage is None or self.error is None:
            return None
        return (self.stage, self.error)

    @property
    def expectation(self) -> str:
        """"tls/timeout", or "passes": what a probe must conclude, in one word."""
        if self.stage is None or self.error is None:
            return "passes"
        return f"{self.stage.value}/{self.error.value}"

    def mismatch(self, report: ProbeReport) -> str | None:
        """Why `report` is not the catalogued diagnosis of this fault; None when it is.

        The check `demo --all` and the probe's tests share: the expected stage fails with
        the expected kind and every later stage is skipped, or every stage passes.
        """
        failed = report.failed_stage
        if failed is None:
            got = "passes"
        elif failed.error is None:
            got = f"{failed.name.value}/{failed.status.value} (no error)"
        else:
            got = f"{failed.name.value}/{failed.error.kind.value}"
        if got != self.expectation:
            return f"expected {self.expectation}, got {got}"
        if failed is None:
            bad = [s.name.value for s in report.stages if s.status is not StageStatus.OK]
            return f"stages not ok: {', '.join(bad)}" if bad else None
        after = report.stages[report.stages.index(failed) + 1:]
        ran = [s.name.value for s in after if s.status is not StageStatus.SKIPPED]
        return f"stages run after the failure: {', '.join(ran)}" if ran else None


_S = StageName
_E = ErrorKind

_CATALOGUE = (
    Fault("healthy", "101, then an aggTrade event per stream every 100 ms", None, None, "server"),
    Fault(
        "dns-nxdomain",
        "the resolver says the Binance host does not exist (a DNS filter)",
        _S.DNS, _E.NXDOMAIN, "dns", dns_mode="nxdomain",
    ),
    Fault(
        "dns-timeout",
        "the resolver never answers (port 53 dropped, dead resolver)",
        _S.DNS, _E.TIMEOUT, "dns", dns_mode="silent",
    ),
    Fault(
        "dns-servfail",
        "the resolver answers SERVFAIL (upstream or DNSSEC failure)",
        _S.DNS, _E.SERVFAIL, "dns", dns_mode="servfail",
    ),
    Fault(
        "dns-refused",
        "the resolver answers REFUSED (not allowed to use it)",
        _S.DNS, _E.REFUSED, "dns", dns_mode="refused",
    ),
    Fault(
        "tcp-refused",
        "nothing listens on the port: the SYN is answered with RST",
        _S.TCP, _E.REFUSED, "refused",
    ),
    Fault(
        "tcp-blackhole",
        "SYNs go unanswered, like a firewall dropping packets",
        _S.TCP, _E.TIMEOUT, "blackhole",
        note="Linux only: relies on a full accept queue dropping SYNs (see tcp.BlackholePeer)",
    ),
    Fault(
        "tls-hang",
        "TCP accepted, the ClientHello is never answered (the seed incident)",
        _S.TLS, _E.TIMEOUT, "server", requires_tls=True,
        confirmed="tls.blocked_whatever_name",
    ),
    Fault(
        "tls-reset-after-hello",
        "the connection is reset right after every ClientHello, whatever its name",
        _S.TLS, _E.RESET, "server", requires_tls=True,
        confirmed="tls.blocked_whatever_name",
    ),
    Fault(
        "tls-eof",
        "the connection is closed cleanly right after every ClientHello",
        _S.TLS, _E.EOF, "server", requires_tls=True,
        confirmed="tls.blocked_whatever_name",
    ),
    Fault(
        "tls-untrusted",
        "the certificate is issued by a CA the client does not trust (interception)",
        _S.TLS, _E.CERT_UNTRUSTED, "server", requires_tls=True,
    ),
    Fault(
        "tls-expired",
        "the certificate expired (or the client's clock is far ahead)",
        _S.TLS, _E.CERT_EXPIRED, "server", requires_tls=True,
    ),
    Fault(
        "tls-not-yet-valid",
        "the certificate is not valid yet (or the client's clock is far behind)",
        _S.TLS, _E.CERT_NOT_YET_VALID, "server", requires_tls=True,
    ),
    Fault(
        "tls-wrong-host",
        "the certificate is for another name (example.invalid)",
        _S.TLS, _E.HOSTNAME_MISMATCH, "server", requires_tls=True,
    ),
    Fault(
        "path-mtu-blackhole",
        "full-size packets lost: silent after the ClientHello unless the SYN's MSS is small",
        _S.TLS, _E.TIMEOUT, "middlebox", requires_tls=True, confirmed="tls.path_mtu_blackhole",
    ),
    Fault(
        "sni-filter",
        "a middlebox drops ClientHellos naming stream.binance.com; other names get through",
        _S.TLS, _E.TIMEOUT, "middlebox", requires_tls=True, confirmed="tls.sni_filtered",
    ),
    Fault(
        "sni-reset",
        "a middlebox resets ClientHellos naming stream.binance.com; other names get through",
        _S.TLS, _E.RESET, "middlebox", requires_tls=True, confirmed="tls.sni_filtered",
    ),
    Fault(
        "proxy-dead-tunnel",
        "an HTTP proxy answers CONNECT with 200, then carries nothing; the server is fine",
        _S.TLS, _E.TIMEOUT, "proxy", requires_tls=True, confirmed="tls.proxy_tunnel_dead",
        note="probed through the proxy (--proxy), with --resolve so that the direct "
        "comparison knows the server's address",
    ),
    Fault(
        "http-451",
        "Binance's restricted-location refusal (HTTP 451, JSON body)",
        _S.WS_UPGRADE, _E.HTTP_STATUS, "server",
    ),
    Fault(
        "http-403",
        "CloudFront's 'Request blocked' page (HTTP 403, HTML)",
        _S.WS_UPGRADE, _E.HTTP_STATUS, "server",
    ),
    Fault(
        "http-429",
        "rate limited (HTTP 429 with Retry-After)",
        _S.WS_UPGRADE, _E.HTTP_STATUS, "server",
    ),
    Fault(
        "http-418",
        "IP banned after ignoring 429s (HTTP 418 with Retry-After)",
        _S.WS_UPGRADE, _E.HTTP_STATUS, "server",
    ),
    Fault(
        "http-503",
        "service unavailable (HTTP 503, HTML)",
        _S.WS_UPGRADE, _E.HTTP_STATUS, "server",
    ),
    Fault(
        "http-403-filter",
        "a corporate web filter's block page (HTTP 403) naming the blocked category",
        _S.WS_UPGRADE, _E.HTTP_STATUS, "server", confirmed="upgrade.web_filter",
    ),
    Fault(
        "http-403-location",
        "HTTP 403 whose JSON body says the location is restricted (the body decides)",
        _S.WS_UPGRADE, _E.HTTP_STATUS, "server", confirmed="upgrade.restricted_location",
    ),
    Fault(
        "http-503-maintenance",
        "HTTP 503 whose body says the system is under maintenance",
        _S.WS_UPGRADE, _E.HTTP_STATUS, "server", confirmed="upgrade.maintenance",
    ),
    Fault(
        "captive-portal",
        "a Wi-Fi login page answers 200 OK instead of Binance",
        _S.WS_UPGRADE, _E.NOT_WEBSOCKET, "server",
    ),
    Fault(
        "bad-accept",
        "101 with a wrong Sec-WebSocket-Accept (a broken proxy)",
        _S.WS_UPGRADE, _E.INVALID_HANDSHAKE, "server",
    ),
    Fault(
        "http-1.0",
        "the 101 comes in an HTTP/1.0 status line (an old proxy in the way)",
        _S.WS_UPGRADE, _E.INVALID_HANDSHAKE, "server",
    ),
    Fault(
        "unsolicited-extension",
        "101 that imposes permessage-deflate, which the client did not offer",
        _S.WS_UPGRADE, _E.INVALID_HANDSHAKE, "server",
    ),
    Fault(
        "header-flood",
        "101 with 200 header lines (over the 128 a client accepts)",
        _S.WS_UPGRADE, _E.INVALID_HANDSHAKE, "server",
    ),
    Fault(
        "endless-header",
        "101 with one header line that never ends (bytes until the client gives up)",
        _S.WS_UPGRADE, _E.INVALID_HANDSHAKE, "server",
    ),
    Fault(
        "upgrade-hang",
        "the HTTP upgrade request is never answered",
        _S.WS_UPGRADE, _E.TIMEOUT, "server",
    ),
    Fault(
        "trickle",
        "the 101 response arrives one byte per --trickle-interval (1 s)",
        _S.WS_UPGRADE, _E.TIMEOUT, "server",
        note="when the upgrade timeout is shorter than the trickled response (~130 bytes x "
        "--trickle-interval)",
    ),
    Fault(
        "silent-stream",
        "101, then nothing; LIST_SUBSCRIPTIONS is still answered",
        _S.FIRST_MESSAGE, _E.TIMEOUT, "server",
    ),
    Fault(
        "close-1008",
        "101, then close frame 1008 'Too many requests'",
        _S.FIRST_MESSAGE, _E.CLOSED, "server",
    ),
    Fault(
        "close-1011",
        "101, then close frame 1011 'Internal error'",
        _S.FIRST_MESSAGE, _E.CLOSED, "server",
    ),
    Fault(
        "wrong-payload",
        "valid JSON of another stream: trade events (or another symbol)",
        _S.FIRST_MESSAGE, _E.WRONG_STREAM, "server",
    ),
    Fault(
        "invalid-payload",
        "text frames that are not JSON",
        _S.FIRST_MESSAGE, _E.INVALID_PAYLOAD, "server",
    ),
    Fault(
        "nested-payload",
        "a text frame of JSON nested 100 000 levels deep",
        _S.FIRST_MESSAGE, _E.INVALID_PAYLOAD, "server",
    ),
    Fault(
        "fragmented",
        "each event split over three frames, a ping between them (legal, RFC 6455 §5.4)",
        None, None, "server",
    ),
    Fault(
        "bad-close-code",
        "101, then a close frame with code 999, which no endpoint may send",
        _S.FIRST_MESSAGE, _E.PROTOCOL_ERROR, "server",
    ),
    Fault(
        "oversized-frame",
        "101, then a frame header announcing 8 MiB (over the client's 4 MiB limit)",
        _S.FIRST_MESSAGE, _E.PROTOCOL_ERROR, "server",
    ),
    Fault(
        "ping-flood",
        "101, then pings as fast as the client reads, no event; LIST_SUBSCRIPTIONS is answered",
        _S.FIRST_MESSAGE, _E.TIMEOUT, "server",
        note="the pings must not keep the probe from sending LIST_SUBSCRIPTIONS halfway",
    ),
    Fault(
        "stale-reply",
        "101, then an unrequested reply {\"result\":null,\"id\":1}; requests are never "
        "answered",
        _S.FIRST_MESSAGE, _E.TIMEOUT, "server",
        note="a reply to nothing the probe sent must not pass for a live link",
    ),
    # Hostile peers (issue 16): what a peer controls must not control our time or memory.
    Fault(
        "reply-flood",
        "101, then floods {\"result\":null,\"id\":N} replies to no request; none to ours",
        _S.FIRST_MESSAGE, _E.TIMEOUT, "server",
        note="a flood of replies to nothing is no live link; each is counted, the first few "
        "named: the report stays small",
    ),
    Fault(
        "nested-reply",
        "101, then a 720 KB reply nested 900 deep, also the answer to any request",
        _S.FIRST_MESSAGE, _E.INVALID_PAYLOAD, "server",
        note="over the 64 KiB a message is parsed at (payload.MAX_PARSED): a problem, never "
        "parsed, never kept",
    ),
    Fault(
        "event-flood",
        "aggTrade events as fast as the client reads them",
        None, None, "server",
        note="with --duration, the hold's memory stays flat: its statistics are bounded",
    ),
    Fault(
        "fragment-flood",
        "101, then a text message whose 64 KiB continuation frames never end",
        _S.FIRST_MESSAGE, _E.PROTOCOL_ERROR, "server",
        note="the message passes the client's 4 MiB limit: refused, never buffered on",
    ),
    Fault(
        "surrogate-payload",
        "101, then a reply and an event whose strings hold lone surrogates (\\ud800)",
        _S.FIRST_MESSAGE, _E.WRONG_STREAM, "server",
        note="text no encoder takes: escaped in the report, never fatal",
    ),
    Fault(
        "control-close",
        "101, then close 1008 with a reason of ESC, BEL, an OSC title sequence and "
        "\"\\n::error::x\"",
        _S.FIRST_MESSAGE, _E.CLOSED, "server",
        note="the reason is escaped in every format; no line of output starts with ::",
    ),
    Fault(
        "control-reason",
        "HTTP 403 with controls, OSC sequences and '::error::' in reason and body",
        _S.WS_UPGRADE, _E.HTTP_STATUS, "server",
        note="escaped in every format, as control-close",
    ),
    Fault(
        "deaf-peer",
        "--after (3) events per stream, then floods pings and events and reads nothing",
        None, None, "server",
        note="the first message arrives, so a probe passes; with --duration the client's "
        "pongs fill the TCP window: the hold cannot send them and must say so",
    ),
    Fault(
        "slow-first-message",
        "the first event only comes after --delay (1 s)",
        None, None, "server",
        note="(first_message, timeout) when the message timeout is shorter than --delay",
    ),
    Fault(
        "server-shutdown",
        "a serverShutdown event, then close 1001, before any trade",
        _S.FIRST_MESSAGE, _E.CLOSED, "server",
        note="the probe must read serverShutdown as a notice, not as wrong_stream: the "
        "connection's end is the failure; with --after N > 0 the probe passes",
    ),
    Fault(
        "stall-after",
        "--after (3) events per stream, then silence, socket open",
        None, None, "server",
        note="the first message arrives, so a probe passes; a monitor would see the stall",
    ),
    Fault(
        "ping-timeout",
        "pings every --ping-interval; no event until a pong; close 1008 'Pong timeout' if none",
        None, None, "server",
        note="pings every 0.25 s unless told; a probe that answers pings passes (and records "
        "them); one that does not gets (first_message, closed) with code 1008",
    ),
    Fault(
        "clock-skew",
        "the server's clock is clock_offset_s (5 s) ahead: event times and /api/v3/time",
        None, None, "server",
        note="the first message arrives, so a probe passes; its server-time measurement "
        "says this machine's clock is off by ~5 s (without it: clock skew, a guess)",
    ),
    Fault(
        "late-delivery",
        "each event arrives delivery_delay_s (3 s) after its event time; the clock is right",
        None, None, "server",
        note="a probe passes; its server-time measurement says the clock is right and "
        "delivery is late",
    ),
    # Faults for `watch`: they strike after the first message, on a held stream.
    Fault(
        "stall-held",
        "events for --stall-after-s, then silence on an open socket; new ones work",
        None, None, "server", for_watch=True,
        note="the first message arrives, so a probe passes; `watch` concludes: this "
        "connection is stuck, the path works",
    ),
    Fault(
        "stall-all",
        "after --stall-after-s every stream goes silent, old and new connections alike",
        None, None, "server", for_watch=True,
        note="a probe within the first seconds passes, one later gets (first_message, "
        "timeout); `watch` concludes: the path or Binance is down, at first_message",
    ),
    Fault(
        "market-quiet",
        "after --stall-after-s no trades anywhere; requests still answered",
        None, None, "server", for_watch=True,
        note="`watch` concludes: the market is quiet (the old connection answers, a fresh "
        "one is silent too)",
    ),
    Fault(
        "pong-lost",
        "pings every --ping-interval, pongs lost: close 1008 'Pong timeout'",
        None, None, "server", for_watch=True,
        note="a probe passes; `watch` reports Binance's 1008 with its own pongs on time",
    ),
    Fault(
        "maintenance",
        "serverShutdown and close 1001 at --shutdown-at; later connections healthy",
        None, None, "server", for_watch=True,
        note="`watch` reports a scheduled serverShutdown: expected, reconnected",
    ),
    Fault(
        "daily-disconnect",
        "Binance's 24-hour disconnect, fast-forwarded: close 1001 after --lifetime",
        None, None, "server", for_watch=True,
        note="`watch --lifetime` with the same value recognises it as the daily disconnect",
    ),
)

FAULTS: Mapping[str, Fault] = {fault.name: fault for fault in _CATALOGUE}


def get_fault(name: str) -> Fault:
    """The catalogue entry, or KeyError listing the known names."""
    try:
        return FAULTS[name]
    except KeyError:
        raise KeyError(f"unknown fault {name!r}; known: {', '.join(FAULTS)}") from None
