"""A stall's conclusion from the evidence gathered the moment it began. Pure.

When the held stream goes silent past its threshold, the watch at once asks the old
connection (LIST_SUBSCRIPTIONS and a ping) and opens a fresh one (a full probe). The three
answers people need then follow from two facts:

| fresh probe              | old connection answers | conclusion        |
|--------------------------|------------------------|-------------------|
| gets data                | either                 | connection stuck  |
| silent (first_message)   | yes (or fresh answers) | market quiet      |
| silent, nobody answers   | no                     | path down         |
| fails at an earlier stage| either                 | path down         |

and data that comes back on the old connection meanwhile makes it a long gap (resumed).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model import ErrorKind, ProbeReport, StageName
from ..timing import format_seconds
from .events import Conclusion


@dataclass(frozen=True)
class StallEvidence:
    silence_s: float
    threshold_s: float
    median_gap_ms: float | None
    fresh: ProbeReport
    """The fresh connection's probe, diagnosed."""
    old_answered: bool = False
    """LIST_SUBSCRIPTIONS answered on the held connection."""
    old_bytes: int = 0
    """Bytes the held connection received after the request and the ping were sent."""
    resumed: bool = False
    """Messages came back on the held connection before the evidence was in."""


def conclude(evidence: StallEvidence) -> tuple[Conclusion, str, list[str]]:
    """(conclusion, title, evidence lines)."""
    silence = format_seconds(evidence.silence_s)
    median = "unknown" if evidence.median_gap_ms is None else f"{evidence.median_gap_ms:g} ms"
    lines = [f"no message for {silence} on the held connection (its median gap: {median}; "
             f"stall threshold {format_seconds(evidence.threshold_s)})",
             "held connection: LIST_SUBSCRIPTIONS " + (
                 "answered" if evidence.old_answered else "not answered")
             + f", {evidence.old_bytes} bytes received after the request and the ping"]
    fresh = evidence.fresh
    failed = fresh.failed_stage
    if failed is None:
        first = fresh.stage(StageName.FIRST_MESSAGE)
        took = f" in {first.duration_ms:g} ms" if first and first.duration_ms else ""
        lines.append(f"a fresh connection got its first message{took}")
    else:
        message = failed.error.message if failed.error else failed.status.value
        lines.append(f"a fresh connection failed at {failed.name.value}: {message}")
        lines += [f"the probe's finding: {f.title}" for f in fresh.findings[:1]]
    if evidence.resumed:
        return (Conclusion.RESUMED,
                f"the stream was silent for {silence}, then resumed by itself", lines)
    if failed is None:
        return (Conclusion.CONNECTION_STUCK,
                f"this connection is stuck, the path works: a fresh connection gets data "
                f"(reconnect when silent for more than {format_seconds(evidence.threshold_s)})",
                lines)
    link_alive = bool(failed.error and failed.error.extra.get("link_alive"))
    if failed.name is StageName.FIRST_MESSAGE and failed.error is not None and \
            failed.error.kind is ErrorKind.TIMEOUT and (evidence.old_answered or link_alive):
        return (Conclusion.MARKET_QUIET,
                "the market is quiet: both connections are alive and no trade comes on "
                "either", lines)
    finding = f" ({fresh.findings[0].title})" if fresh.findings else ""
    return (Conclusion.PATH_DOWN,
            f"the path or Binance is down: a fresh connection fails at "
            f"{failed.name.value}{finding}", lines)


def quiet_market(report: ProbeReport) -> bool:
    """A probe that got no trade on a live link (LIST_SUBSCRIPTIONS answered): quiet, not
    failed."""
    failed = report.failed_stage
    return failed is not None and failed.name is StageName.FIRST_MESSAGE and \
        failed.error is not None and failed.error.kind is ErrorKind.TIMEOUT and \
        bool(failed.error.extra.get("link_alive"))
