"""Sentences about measurements, shared by the findings and every report format.

Pure. Text conventions (docs/findings.md): a literal value taken from the measurements is
wrapped in backticks by `code()`; everything else is prose. Renderers rely on that: Markdown
keeps the backticks, the terminal styles them, Nagios strips them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from ..model import (
    Blockage,
    ErrorKind,
    ProbeReport,
    StageName,
    StageResult,
    StageStatus,
    Thresholds,
)
from ..timing import format_ms

STAGE_ACTIONS = {
    StageName.DNS: "DNS lookup",
    StageName.PROXY: "proxy handshake",
    StageName.TCP: "TCP connect",
    StageName.TLS: "TLS handshake",
    StageName.WS_UPGRADE: "WebSocket upgrade",
    StageName.FIRST_MESSAGE: "first message",
}
"""What each stage does, as a noun phrase: `FAILED at TLS handshake`."""

EXPECTED_EVENTS = {
    StageName.DNS: "DNS answer",
    StageName.PROXY: "proxy answer",
    StageName.TCP: "TCP SYN-ACK",
    StageName.TLS: "ServerHello",
    StageName.WS_UPGRADE: "HTTP 101 response",
    StageName.FIRST_MESSAGE: "first market event",
}
"""The event whose absence a stage timeout means: `*ServerHello expected by now*`."""

LATE_MS = 250.0
"""A timeout reported this much past its deadline did not fire on time (the runner's own
supervision margin and cancel grace add up to less)."""


def code(value: object) -> str:
    """A literal from the measurements as inline code; backticks inside become quotes."""
    text = " ".join(str(value).split()).replace("`", "'")
    return f"`{text}`" if text else "`(empty)`"


def literal(text: str) -> str:
    """Prose from the outside world (an error message, a URL with `***` for its password)
    made safe inside a marked-up sentence: its `*` and backticks stay characters."""
    return re.sub(r"([\\`*])", r"\\\1", text)


def codes(values: Iterable[object]) -> str:
    return ", ".join(code(v) for v in values)


def took(stage: StageResult) -> str:
    return format_ms(stage.duration_ms) if stage.duration_ms is not None else "-"


def seconds(value: float) -> str:
    return f"{value:.2f} s"


def expected_event(stage: StageResult) -> str:
    if stage.name is StageName.TLS and _int(stage.details.get("bytes_received")):
        return "end of the TLS handshake"
    if stage.name is StageName.WS_UPGRADE and _int(stage.details.get("bytes_received")):
        return "rest of the HTTP response"
    return EXPECTED_EVENTS[stage.name]


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def stage_time(stage: StageResult) -> str:
    """The time a passed stage is known by, the same in every section: the connect of the
    address that won for TCP, the latest first event since the 101 for the first message,
    else the stage's duration."""
    d = stage.details
    if stage.name is StageName.TCP and isinstance(d.get("connect_ms"), int | float):
        return format_ms(d["connect_ms"])
    streams = d.get("streams")
    if stage.name is StageName.FIRST_MESSAGE and isinstance(streams, Mapping):
        latencies = [info.get("latency_ms") for info in streams.values()
                     if isinstance(info, Mapping)]
        known = [ms for ms in latencies if isinstance(ms, int | float)]
        if known:
            return format_ms(max(known))
    return took(stage)


def passed_summary(stage: StageResult) -> str:
    """What a passed stage established, with its measurements: one line."""
    d = stage.details
    time = took(stage)
    if stage.name is StageName.DNS:
        return _dns_summary(d, time)
    if stage.name is StageName.PROXY:
        proxy = d.get("proxy") or d.get("url") or "proxy"
        to = f" to {code(d['tunnel_to'])}" if d.get("tunnel_to") else ""
        return f"tunnel{to} through {code(proxy)} opened in {time}"
    if stage.name is StageName.TCP:
        # Every address is tried at once: the others did not fail first, they failed beside.
        attempts = d.get("attempts") or []
        others = [a for a in attempts if isinstance(a, Mapping) and a.get("result") != "ok"]
        after = f"; {len(others)} other address(es) did not connect" if others else ""
        return f"connected to {code(d.get('connected_to', '?'))} in {stage_time(stage)}{after}"
    if stage.name is StageName.TLS:
        text = f"{d.get('version', 'TLS')} ({d.get('cipher', '?')}) in {time}"
        cert = d.get("certificate")
        if isinstance(cert, Mapping):
            text += (f"; certificate {code(cert.get('subject'))} issued by "
                     f"{code(cert.get('issuer'))}, {cert.get('days_left')} days left")
        return text
    if stage.name is StageName.WS_UPGRADE:
        return f"HTTP {d.get('status')} {d.get('reason', '')} in {time}".replace("  ", " ")
    streams = d.get("streams") or {}
    parts = []
    for name, info in streams.items() if isinstance(streams, Mapping) else ():
        lag = info.get("event_time_lag_ms")
        lag_text = f", event time lag {format_ms(abs(lag))}" if isinstance(lag, int | float) \
            else ""
        if isinstance(lag, int | float) and lag < 0:
            lag_text += " ahead of the local clock"
        parts.append(f"{code(name)} after {format_ms(info.get('latency_ms', 0.0))}{lag_text}")
    hold = d.get("hold")
    if isinstance(hold, Mapping) and "duration_s" in hold:
        parts.append(f"held {hold['duration_s']:g} s: {hold.get('messages')} events "
                     f"({hold.get('rate_per_s')}/s), largest gap "
                     f"{format_ms(hold.get('largest_gap_ms') or 0.0)}")
    return "; ".join(parts) or f"received in {time}"


def _dns_summary(d: Mapping[str, Any], time: str) -> str:
    host = code(d.get("host", "?"))
    addresses = d.get("addresses") or []
    source = d.get("source")
    if source == "--resolve":
        return f"skipped: `--resolve` maps {host} to {codes(addresses)}"
    if source == "ip-literal":
        return f"not needed: {host} is an IP address"
    if source == "hosts-file":
        hosts = d.get("hosts_file") or {}
        return (f"{host} → {codes(addresses)} from {hosts.get('path', 'the hosts file')}, "
                "as getaddrinfo answers it (DNS not used)")
    answers = d.get("answers") or []
    listed = ", ".join(f"{a.get('type')} {a.get('address')}" for a in answers) or \
        ", ".join(str(a) for a in addresses)
    via = f" via {d['resolver']}" if d.get("resolver") else ""
    lookup = d.get("lookup_ms")
    if d.get("comparison") and isinstance(lookup, int | float):
        # The stage also waited for the comparison resolvers: the lookup is what clients see.
        return (f"{host} → {len(addresses)} address(es) ({listed}) in {format_ms(lookup)}"
                f"{via} (the stage {time}, with the comparison resolvers)")
    return f"{host} → {len(addresses)} address(es) ({listed}) in {time}{via}"


def failure_phrase(stage: StageResult) -> str:
    """The failure in a few words, for a status line: `timed out after 10.00 s`."""
    error = stage.error
    if error is None:
        return stage.status.value
    if error.kind is ErrorKind.TIMEOUT:
        return f"timed out after {seconds(stage.timeout_s)}"
    if error.kind is ErrorKind.HTTP_STATUS:
        return f"HTTP {error.extra.get('status', '?')} {error.extra.get('reason', '')}".strip()
    if error.kind is ErrorKind.CLOSED:
        code_ = error.extra.get("code")
        return f"closed by the server ({code_ if code_ is not None else 'no close code'})"
    return {
        ErrorKind.REFUSED: "connection refused",
        ErrorKind.NXDOMAIN: "name does not exist (NXDOMAIN)",
        ErrorKind.NO_ANSWER: "no address records",
        ErrorKind.SERVFAIL: "resolver failure (SERVFAIL)",
        ErrorKind.NO_NAMESERVERS: "no DNS server answered",
        ErrorKind.UNREACHABLE: "network unreachable",
        ErrorKind.RESET: "connection reset",
        ErrorKind.EOF: "connection closed by the peer",
        ErrorKind.CERT_UNTRUSTED: "untrusted certificate",
        ErrorKind.CERT_EXPIRED: "certificate expired",
        ErrorKind.CERT_NOT_YET_VALID: "certificate not yet valid",
        ErrorKind.HOSTNAME_MISMATCH: "certificate for another host name",
        ErrorKind.NOT_WEBSOCKET: "not a WebSocket answer",
        ErrorKind.INVALID_HANDSHAKE: "invalid handshake",
        ErrorKind.INTERNAL: "internal error",
    }.get(error.kind, error.kind.value.replace("_", " "))


def stage_line(stage: StageResult, secure: bool = True) -> str:
    """One line per stage for a status list: what it found, or why it did not."""
    label = stage.name.label
    if stage.status is StageStatus.OK:
        return f"{label}: {passed_summary(stage)}{blocked_note(stage)}"
    if stage.status is StageStatus.SKIPPED:
        reason = str(stage.details.get("reason", "not reached"))
        if reason.startswith("not applicable"):
            return f"{label}: not used ({reason.removeprefix('not applicable: ')})"
        if stage.name is StageName.TLS and not secure:
            return f"{label}: not used (ws:// endpoint)"
        return f"{label}: not reached"
    message = stage.error.message if stage.error else stage.status.value
    if stage.status is StageStatus.TIMEOUT:
        return f"{label}: **{literal(message)}**{blocked_note(stage)}"
    return f"{label}: **{literal(message)}** (after {took(stage)}){blocked_note(stage)}"


def network_ms(stage: StageResult) -> float | None:
    """A stage's time minus the time the event loop was blocked in it: what the network took
    (at most; a blocked loop also delays reading what already arrived)."""
    if stage.duration_ms is None:
        return None
    return max(0.0, stage.duration_ms - stage.loop_blocked_ms)


def blocked_note(stage: StageResult) -> str:
    """` — ⚠️ event loop blocked 480 ms of it`: the time not to blame on the network."""
    if stage.loop_blocked_ms <= 0:
        return ""
    return f" — ⚠️ event loop blocked {format_ms(stage.loop_blocked_ms)} of it"


def not_applicable(stage: StageResult, secure: bool = True) -> bool:
    """A skipped stage that would never run for this target (TLS on a ws:// endpoint)."""
    if stage.status is not StageStatus.SKIPPED:
        return False
    if stage.name is StageName.TLS and not secure:
        return True
    return str(stage.details.get("reason", "")).startswith("not applicable")


def clock(at: datetime) -> str:
    """`08:41:59.784`: wall-clock time in UTC to the millisecond, for timelines."""
    return at.astimezone(UTC).strftime("%H:%M:%S.%f")[:-3]


def blockage_line(blockage: Blockage) -> str:
    where = blockage.where or (blockage.stack[-1] if blockage.stack else "an unknown location")
    during = f" during {blockage.stage.value}" if blockage.stage else ""
    return (f"event loop blocked {format_ms(blockage.duration_ms)} from "
            f"{clock(blockage.started_at)}{during} at {code(where)}")


def crossed_threshold(thresholds: Thresholds, stage: StageResult) -> tuple[str, float] | None:
    """("crit" | "warn", limit in ms) for a passed stage slower than a threshold, else None.

    Time the event loop was blocked does not count: the threshold is about the network."""
    took = network_ms(stage)
    if stage.status is not StageStatus.OK or took is None:
        return None
    for level, table in (("crit", thresholds.crit), ("warn", thresholds.warn)):
        limit = table.get(stage.name)
        if limit is not None and took > limit:
            return level, limit
    return None


def total_ms(report: ProbeReport) -> float:
    """The time every stage took, together."""
    return sum(s.duration_ms or 0.0 for s in report.stages)


INTERRUPTED_REASON = "not reached: the run was interrupted by "
"""The reason probe/runner.py's `interrupted_report` gives the stages a signal kept from running."""


def interruption(report: ProbeReport) -> tuple[StageResult, str] | None:
    """The stage a signal stopped (the one it cut short, else the first it kept from running)
    and the signal's name (SIGINT, SIGTERM); None for a run that ended by itself."""
    for stage in report.stages:
        signal_name = stage.details.get("interrupted")
        if isinstance(signal_name, str):
            return stage, signal_name
    for stage in report.stages:
        reason = stage.details.get("reason")
        if isinstance(reason, str) and reason.startswith(INTERRUPTED_REASON):
            return stage, reason.removeprefix(INTERRUPTED_REASON)
    return None
