"""The experiments the probe can run after its stages, as data: name, question, cost, safety.

Pure. The runner (runner.py) plans from here, the rules name these in `separated_by` and
`confirmed_by` (diagnose/rules/), and docs/experiments.md describes each one; a test checks
the three agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class ExperimentSpec:
    name: str
    question: str
    cost: str
    """Time and packets, in words."""
    outcomes: tuple[str, ...]
    """Every outcome keyword it can return (besides `not_run` and `inconclusive`)."""


NOT_RUN = "not_run"
INCONCLUSIVE = "inconclusive"

SMALL_MSS = "tls.small_mss"
SNI_VARIANTS = "tls.sni_variants"
HELLO_VARIANTS = "tls.hello_variants"
OTHER_PORT = "path.other_port"
MARKET_DATA_HOST = "path.market_data_host"
TUNNEL_VS_DIRECT = "proxy.tunnel_vs_direct"
REFUSAL = "http.refusal"
REPEAT = "timing.repeat"
SERVER_TIME = "clock.server_time"

_SPECS = (
    ExperimentSpec(
        SMALL_MSS,
        "Does the handshake complete when every packet is small (a path-MTU black hole)?",
        "one TCP connection with TCP_MAXSEG 536 set before connect, one TLS handshake; at "
        "most one attempt timeout",
        ("answered", "silent", "stalled", "reset", "closed", "connect_failed", "unsupported"),
    ),
    ExperimentSpec(
        SNI_VARIANTS,
        "Is the handshake refused because of the name in the ClientHello (SNI filtering)?",
        "three TCP connections to the same address and port, each one ClientHello: the "
        "target's name again, another name (example.com), no name; at most one attempt "
        "timeout (they run side by side)",
        ("name_blocked", "all_blocked", "not_reproduced"),
    ),
    ExperimentSpec(
        HELLO_VARIANTS,
        "Does the peer reject something else in the ClientHello (ALPN, TLS 1.3)?",
        "three TCP connections, each one ClientHello with the target's name: the run's own "
        "again, without ALPN, and TLS 1.2 only; at most one attempt timeout (side by side)",
        ("rejects_alpn", "rejects_tls13", "rejects_every_hello", "not_reproduced"),
    ),
    ExperimentSpec(
        OTHER_PORT,
        "Does the other Binance port (443 / 9443) of the same host work?",
        "one TCP connection and one TLS handshake to the same host on the other port (through "
        "the same proxy, if any); at most one attempt timeout",
        ("works", "fails_too"),
    ),
    ExperimentSpec(
        MARKET_DATA_HOST,
        "Does Binance's market-data host (data-stream.binance.vision:443) work?",
        "one TCP connection and one TLS handshake to data-stream.binance.vision:443, only "
        "with an address the run's own configuration gives; at most one attempt timeout",
        ("works", "fails_too"),
    ),
    ExperimentSpec(
        TUNNEL_VS_DIRECT,
        "Is it the proxy's tunnel that carries nothing, or the target behind it?",
        "a fresh CONNECT through the same proxy and a direct TCP connection to the target's "
        "own address, one TLS handshake on each; at most one attempt timeout",
        ("direct_answers", "both_silent", "not_reproduced"),
    ),
    ExperimentSpec(
        REFUSAL,
        "What does the body of the refusal say, beyond its status code?",
        "no packet: reads the whole HTTP answer the upgrade already received",
        ("restricted_location", "rate_limited", "ip_banned", "web_filter", "captive_portal",
         "waf_block", "maintenance", "status_only"),
    ),
    ExperimentSpec(
        REPEAT,
        "Where did the time of the slow stage go: the path's round trip, the peer, or once?",
        "three TCP connects (round-trip time) and the slow stage once more on a new "
        "connection; at most one attempt timeout",
        ("once", "round_trips", "peer_slow"),
    ),
    ExperimentSpec(
        SERVER_TIME,
        "Is the event lag this machine's clock, or late delivery?",
        "one TCP connection and TLS handshake to the market's REST host (a custom endpoint: "
        "its own host and port), four GET /api/v3/time on it; at most the experiments budget",
        ("clock_off", "late_delivery", "clock_off_and_late", "not_separated"),
    ),
)

SPECS: Mapping[str, ExperimentSpec] = {spec.name: spec for spec in _SPECS}
