"""A plain, readable summary: one line per stage, then the failure in words.

Pure. The default output until the full incident report (rich/markdown) exists.
"""

from __future__ import annotations

from ..model import ProbeReport, StageName, StageResult, StageStatus
from ..timing import format_ms

_MARKS = {StageStatus.OK: "✅", StageStatus.FAILED: "❌", StageStatus.TIMEOUT: "⏱️",
          StageStatus.SKIPPED: "·"}


def stage_summary(stage: StageResult) -> str:
    """What a passed stage found, in a few words."""
    d = stage.details
    if stage.name is StageName.DNS:
        addresses = d.get("addresses") or []
        via = f" via {d['resolver']}" if d.get("resolver") else f" ({d.get('source')})"
        return f"{', '.join(addresses)}{via}"
    if stage.name is StageName.TCP:
        return f"connected to {d.get('connected_to')}"
    if stage.name is StageName.TLS:
        cert = d.get("certificate") or {}
        issuer = cert.get("issuer", "?")
        return f"{d.get('version')} {d.get('cipher')}, issuer {issuer}, " \
               f"{cert.get('days_left', '?')} days left"
    if stage.name is StageName.WS_UPGRADE:
        return f"HTTP {d.get('status')} {d.get('reason')}"
    if stage.name is StageName.FIRST_MESSAGE:
        streams = d.get("streams") or {}
        return ", ".join(f"{name} after {format_ms(info['latency_ms'])}"
                         for name, info in streams.items())
    return ""


def render_text(report: ProbeReport) -> str:
    lines = [f"binance-diag {report.tool_version} — {report.target.url}"]
    failed = report.failed_stage
    if failed is not None and failed.error is not None:
        lines.append(f"Status: FAILED at {failed.name.value} — {failed.error.kind.value}: "
                     f"{failed.error.message}")
    else:
        lines.append(f"Status: {report.status.value.upper()}")
    lines.append("")
    for stage in report.stages:
        mark = _MARKS[stage.status]
        took = format_ms(stage.duration_ms) if stage.duration_ms is not None else "-"
        if stage.status is StageStatus.OK:
            what = stage_summary(stage)
        elif stage.status is StageStatus.SKIPPED:
            what = f"skipped ({stage.details.get('reason', 'not reached')})"
        else:
            assert stage.error is not None
            what = f"{stage.error.kind.value}: {stage.error.message}"
        lines.append(f"  {mark} {stage.name.value:<14} {took:>10}  {what}")
    for finding in report.findings[:1]:
        lines += ["", f"Most likely: {finding.title}", f"  {finding.hypothesis}"]
        lines += [f"  → {action}" for action in finding.actions]
    return "\n".join(lines) + "\n"
