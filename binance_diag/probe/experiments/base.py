"""What a family of experiments hands the runner: a plan, and verdicts as data."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from ...model import JSON
from ...timing import Deadline
from .catalogue import SPECS
from .shell import Attempt


@dataclass(frozen=True)
class Verdict:
    """What an experiment concluded: an outcome keyword, in words, with its evidence."""

    outcome: str
    result: str
    details: Mapping[str, JSON] = field(default_factory=dict)


RunExperiment = Callable[[Deadline], Awaitable[Verdict]]


@dataclass(frozen=True)
class Planned:
    """An experiment the runner will run (`run`), or record as not run (`reason`)."""

    name: str
    action: str
    run: RunExperiment | None = None
    reason: str = ""

    @property
    def question(self) -> str:
        return SPECS[self.name].question


def not_run(name: str, action: str, reason: str) -> Planned:
    return Planned(name, action, None, reason)


def attempt_details(label: str, attempt: Attempt) -> dict[str, JSON]:
    """One attempt as evidence: outcome, peer bytes, times."""
    return {"attempt": label, "outcome": attempt.outcome, "detail": attempt.detail,
            "bytes_received": attempt.bytes_in, "connect_ms": attempt.connect_ms,
            "elapsed_ms": attempt.elapsed_ms,
            **({"mss": attempt.mss} if attempt.mss is not None else {})}


def said(attempt: Attempt) -> str:
    """An attempt's outcome in a few words: `answered (TLSv1.3 ...)`, `silent`."""
    words = {"handshake_ok": "handshake completed", "answered": "the server answered",
             "alert": "refused with a TLS alert", "stalled": "stalled mid-handshake",
             "silent": "no answer", "reset": "reset", "closed": "closed",
             "not_tls": "answered, not in TLS", "connect_failed": "could not connect",
             "tunnel_failed": "the proxy refused the tunnel",
             "unsupported": "not supported here"}
    text = words.get(attempt.outcome, attempt.outcome)
    if attempt.outcome in ("handshake_ok", "answered", "alert") and attempt.detail:
        text += f" ({attempt.detail})"
    if attempt.outcome == "silent":
        text += f" in {attempt.elapsed_ms / 1000:.2f} s"
    return text
