"""The vocabulary of a probe: stage names, statuses, error kinds and the report they build.

Pure data. Names and values here are part of the JSON contract (DESIGN.md §2, §4): change
them only together with the schema version.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

SCHEMA_ID = "binance-diag/probe/1"

JSON = Any
"""A value that `json.dumps` accepts: str, int, float, bool, None, list or str-keyed dict."""


class StageName(StrEnum):
    """The stages, in the order a connection goes through them."""

    DNS = "dns"
    PROXY = "proxy"
    TCP = "tcp"
    TLS = "tls"
    WS_UPGRADE = "ws_upgrade"
    FIRST_MESSAGE = "first_message"

    @property
    def label(self) -> str:
        """A human name for reports."""
        return _STAGE_LABELS[self]


_STAGE_LABELS = {
    StageName.DNS: "DNS",
    StageName.PROXY: "Proxy",
    StageName.TCP: "TCP",
    StageName.TLS: "TLS",
    StageName.WS_UPGRADE: "WebSocket upgrade",
    StageName.FIRST_MESSAGE: "First message",
}


class StageStatus(StrEnum):
    OK = "ok"
    FAILED = "failed"
    TIMEOUT = "timeout"
    SKIPPED = "skipped"


class OverallStatus(StrEnum):
    OK = "ok"
    DEGRADED = "degraded"
    FAILED = "failed"


class ErrorKind(StrEnum):
    """Why a stage failed: the typical error kinds of DESIGN.md §2, shared across stages."""

    TIMEOUT = "timeout"
    # dns
    NXDOMAIN = "nxdomain"
    NO_ANSWER = "no_answer"
    SERVFAIL = "servfail"
    REFUSED = "refused"
    NO_NAMESERVERS = "no_nameservers"
    # proxy
    AUTH_REQUIRED = "auth_required"
    REJECTED = "rejected"
    # tcp
    UNREACHABLE = "unreachable"
    RESET = "reset"
    # tls
    CERT_UNTRUSTED = "cert_untrusted"
    CERT_EXPIRED = "cert_expired"
    CERT_NOT_YET_VALID = "cert_not_yet_valid"
    HOSTNAME_MISMATCH = "hostname_mismatch"
    HANDSHAKE_FAILURE = "handshake_failure"
    EOF = "eof"
    # ws_upgrade
    HTTP_STATUS = "http_status"
    NOT_WEBSOCKET = "not_websocket"
    INVALID_HANDSHAKE = "invalid_handshake"
    # first_message
    CLOSED = "closed"
    INVALID_PAYLOAD = "invalid_payload"
    WRONG_STREAM = "wrong_stream"
    PROTOCOL_ERROR = "protocol_error"
    """The peer broke RFC 6455 after the upgrade (a bad close code, an oversized frame)."""
    # any stage: a bug or an OS error we could not classify
    INTERNAL = "internal"


class Severity(StrEnum):
    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"


class Blame(StrEnum):
    """Whose side the problem is on (h11's Local/RemoteProtocolError axis, widened)."""

    LOCAL = "local"
    NETWORK = "network"
    REMOTE = "remote"
    POLICY = "policy"


@dataclass(frozen=True)
class StageError:
    """A classified failure. `extra` keeps the evidence (status code, close code, errno...)."""

    kind: ErrorKind
    message: str
    extra: Mapping[str, JSON] = field(default_factory=dict)


@dataclass(frozen=True)
class StageResult:
    """What one stage measured. A stage never reached has no start and no duration."""

    name: StageName
    status: StageStatus
    timeout_s: float
    started_at: datetime | None = None
    duration_ms: float | None = None
    error: StageError | None = None
    details: Mapping[str, JSON] = field(default_factory=dict)
    loop_blocked_ms: float = 0.0
    """How much of `duration_ms` the event loop spent blocked: time not spent on the network."""

    @property
    def passed(self) -> bool:
        return self.status is StageStatus.OK


@dataclass(frozen=True)
class TimelineEvent:
    at: datetime
    event: str
    stage: StageName | None = None


@dataclass(frozen=True)
class Blockage:
    """A stretch of time the event loop could not run, and where it was stuck."""

    started_at: datetime
    duration_ms: float
    stage: StageName | None
    stack: tuple[str, ...] = ()
    """The loop thread's innermost frames when the blockage was seen, outermost first."""
    where: str | None = None
    """`file:line in function` of the innermost frame outside the standard library."""
    trap: str | None = None
    """The id of a known trap the stack sits in (`stacks.KNOWN_TRAPS`), if any."""
    hint: str | None = None
    """What that trap is and what to do about it."""


@dataclass(frozen=True)
class LoopStats:
    """What the loop watchdog saw; `monitored` false means nobody watched (nothing known)."""

    max_lag_ms: float = 0.0
    p99_lag_ms: float = 0.0
    blockages: tuple[Blockage, ...] = ()
    deadline_enforced_by_watchdog: bool = False
    monitored: bool = False
    interval_ms: float | None = None
    threshold_ms: float | None = None
    heartbeats: int = 0


@dataclass(frozen=True)
class Finding:
    """One conclusion drawn from the measurements, with what to do about it."""

    id: str
    severity: Severity
    blame: Blame
    title: str
    hypothesis: str
    evidence: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()
    confirmed_by: tuple[str, ...] = ()
    """The experiments whose outcome proved this finding; empty: inferred from the stages."""

    @property
    def basis(self) -> str:
        """"confirmed" by an experiment, or "inferred" from the measurements alone."""
        return "confirmed" if self.confirmed_by else "inferred"


@dataclass(frozen=True)
class Experiment:
    """A follow-up test run after the stages to tell the causes of a failure apart
    (probe/experiments/); the diagnosis fills in what it confirmed and ruled out."""

    name: str
    question: str
    action: str
    """What was done, in words (the packets sent, to whom)."""
    outcome: str
    """A keyword the rules read (`answered`, `silent`, `name_blocked`, `not_run`...)."""
    result: str
    """The outcome in words."""
    started_at: datetime | None = None
    duration_ms: float | None = None
    details: Mapping[str, JSON] = field(default_factory=dict)
    confirms: tuple[str, ...] = ()
    """Finding ids this outcome confirmed."""
    rules_out: tuple[str, ...] = ()
    """Finding ids this outcome ruled out."""

    @property
    def ran(self) -> bool:
        return self.outcome != "not_run"


@dataclass(frozen=True)
class Thresholds:
    """`--warn STAGE=MS` / `--crit STAGE=MS`: a passed stage slower than these is flagged."""

    warn: Mapping[StageName, float] = field(default_factory=dict)
    crit: Mapping[StageName, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    """Where the probe goes: the stream URL split into what each stage needs."""

    url: str
    host: str
    port: int
    secure: bool
    path: str
    symbols: tuple[str, ...]
    stream: str
    endpoint: str

    @property
    def combined(self) -> bool:
        return len(self.symbols) > 1


@dataclass(frozen=True)
class ProbeReport:
    tool_version: str
    generated_at: datetime
    target: Target
    stages: tuple[StageResult, ...]
    timeline: tuple[TimelineEvent, ...] = ()
    loop: LoopStats = field(default_factory=LoopStats)
    findings: tuple[Finding, ...] = ()
    environment: Mapping[str, JSON] = field(default_factory=dict)
    command: str = ""
    thresholds: Thresholds = field(default_factory=Thresholds)
    analysis: tuple[str, ...] = ()
    """Problem Analysis: what the evidence rules in and out (filled by `diagnose`)."""
    experiments: tuple[Experiment, ...] = ()
    """Follow-up experiments run after the stages (probe/experiments/)."""

    @property
    def failed_stage(self) -> StageResult | None:
        for stage in self.stages:
            if stage.status in (StageStatus.FAILED, StageStatus.TIMEOUT):
                return stage
        return None

    @property
    def status(self) -> OverallStatus:
        if self.failed_stage is not None:
            return OverallStatus.FAILED
        if any(f.severity is not Severity.INFO for f in self.findings) or self.loop.blockages:
            return OverallStatus.DEGRADED
        return OverallStatus.OK

    def stage(self, name: StageName) -> StageResult | None:
        for stage in self.stages:
            if stage.name is name:
                return stage
        return None
