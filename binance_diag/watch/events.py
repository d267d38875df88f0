"""What happens to a watch, how bad it is, and Binance's own events told apart. Pure.

Theory of operation: every incident is a `WatchEvent` with a kind, a severity and a
conclusion in words. Binance ends connections on purpose - after 24 hours, before
maintenance (a `serverShutdown` event first), for a policy breach (1008: too many requests,
a pong too late) - and those are reported as what they are, never as an outage. The
severity table decides the exit code (DESIGN.md §5): any critical event -> 2.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from ..model import JSON, ProbeReport, Severity
from ..timing import utc_now


class EventKind(StrEnum):
    STALL = "stall"
    CLOSE = "close"
    PROBE_FAILED = "probe_failed"
    RECONNECT_FAILED = "reconnect_failed"


class Conclusion(StrEnum):
    """What a stall or a close turned out to be."""

    CONNECTION_STUCK = "connection_stuck"
    """The held connection went silent while a fresh one gets data: reconnect on silence."""
    PATH_DOWN = "path_down"
    """A fresh connection fails too: the network path or Binance is down."""
    MARKET_QUIET = "market_quiet"
    """The old connection still answers and a fresh one is silent too: nothing trades."""
    RESUMED = "resumed"
    """Data came back on the held connection before the evidence was in: a long gap."""
    DAILY_DISCONNECT = "daily_disconnect"
    SERVER_SHUTDOWN = "server_shutdown"
    POLICY_CLOSE = "policy_close"
    """1008: Binance's policy close (too many requests, pong timeout)."""
    UNEXPECTED_CLOSE = "unexpected_close"
    PROBE_FAILED = "probe_failed"


SEVERITY: dict[Conclusion, Severity] = {
    Conclusion.CONNECTION_STUCK: Severity.CRITICAL,
    Conclusion.PATH_DOWN: Severity.CRITICAL,
    Conclusion.MARKET_QUIET: Severity.INFO,
    Conclusion.RESUMED: Severity.WARNING,
    Conclusion.DAILY_DISCONNECT: Severity.INFO,
    Conclusion.SERVER_SHUTDOWN: Severity.INFO,
    Conclusion.POLICY_CLOSE: Severity.WARNING,
    Conclusion.UNEXPECTED_CLOSE: Severity.WARNING,
    Conclusion.PROBE_FAILED: Severity.CRITICAL,
}
EXPECTED = {Conclusion.DAILY_DISCONNECT, Conclusion.SERVER_SHUTDOWN, Conclusion.POLICY_CLOSE}
"""Binance's own events: expected, reported, reconnected."""

LIFETIME_SLACK = 0.02
"""A close this close to the connection lifetime (as a fraction of it) is the daily one."""


def classify_close(code: int | None, reason: str, age: float, lifetime: float,
                   shutdown_notice: bool) -> Conclusion:
    """Which of Binance's closes this is, or none of them."""
    if shutdown_notice:
        return Conclusion.SERVER_SHUTDOWN
    if age >= lifetime * (1 - LIFETIME_SLACK):
        return Conclusion.DAILY_DISCONNECT
    if code == 1008:
        return Conclusion.POLICY_CLOSE
    return Conclusion.UNEXPECTED_CLOSE


@dataclass
class WatchEvent:
    """One incident. Mutable until written for the last time: the recovery comes later."""

    number: int
    kind: EventKind
    conclusion: Conclusion
    title: str
    at: datetime = field(default_factory=utc_now)
    evidence: list[str] = field(default_factory=list)
    details: dict[str, JSON] = field(default_factory=dict)
    report: ProbeReport | None = None
    """The probe that gives the evidence: the fresh connection's, or the failed probe."""
    recovery_s: float | None = None
    """Seconds from the event to the first message on a new held connection."""

    @property
    def severity(self) -> Severity:
        return SEVERITY[self.conclusion]

    @property
    def expected(self) -> bool:
        return self.conclusion in EXPECTED

    @property
    def slug(self) -> str:
        return f"incident-{self.number:04d}-{self.kind.value.replace('_', '-')}"

    def to_dict(self) -> dict[str, JSON]:
        return {"number": self.number, "kind": self.kind.value,
                "conclusion": self.conclusion.value, "severity": self.severity.value,
                "expected": self.expected, "title": self.title,
                "at": self.at.isoformat(timespec="milliseconds"),
                "evidence": list(self.evidence), "details": dict(self.details),
                "recovery_s": self.recovery_s}


TIMELINE_LINES = 500
"""Lines the watch keeps for incident reports (the oldest go first): memory stays flat."""


@dataclass
class WatchTimeline:
    """The watch's own timeline, bounded; an incident takes the lines around it."""

    lines: deque[tuple[datetime, str]] = field(
        default_factory=lambda: deque(maxlen=TIMELINE_LINES))

    def add(self, text: str, at: datetime | None = None) -> tuple[datetime, str]:
        line = (at or utc_now(), text)
        self.lines.append(line)
        return line

    def around(self, at: datetime, before_s: float = 120.0) -> list[tuple[datetime, str]]:
        return [(t, text) for t, text in self.lines if (at - t).total_seconds() <= before_s]
