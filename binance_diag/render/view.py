"""The incident report's sections, as sentences: what Markdown and the terminal both print.

Pure. `report_view` decides the content (status line, what works, timeline rows with the
missing events, solutions...); each format only decides the layout. Sentences use the inline
markup of `markup.py`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..diagnose.analysis import loop_measured, timeout_timing
from ..diagnose.describe import (
    LATE_MS,
    STAGE_ACTIONS,
    blockage_line,
    code,
    crossed_threshold,
    expected_event,
    failure_phrase,
    interruption,
    not_applicable,
    stage_line,
    total_ms,
)
from ..diagnose.facts import markdown_command
from ..exitcodes import ExitCode, exit_code_for
from ..model import Finding, ProbeReport, Severity, StageResult, StageStatus, TimelineEvent
from ..timing import format_ms

SEVERITY_MARKS = {Severity.CRITICAL: "❌", Severity.WARNING: "⚠️", Severity.INFO: "ℹ️"}
MATCH_WINDOW_MS = 5.0
"""A "timeout fired" event this close before its deadline is the deadline's own event."""


@dataclass(frozen=True)
class TimelineRow:
    at: datetime
    event: str


@dataclass(frozen=True)
class ReportView:
    title: str
    date: str
    target: str
    mark: str
    headline: str
    code: ExitCode
    working: tuple[str, ...]
    not_working: tuple[str, ...]
    not_used: tuple[str, ...]
    """Stages that do not apply here (DNS behind an HTTP proxy, TLS on ws://)."""
    loop: tuple[str, ...]
    timeline: tuple[TimelineRow, ...]
    analysis: tuple[str, ...]
    root_cause: Finding | None
    also: tuple[Finding, ...]
    solutions: tuple[str, ...]
    immediate: tuple[str, ...]
    environment: str
    generated: str
    command: str
    experiments: tuple[str, ...] = ()
    """One line per follow-up experiment (empty: none ran)."""


def timestamp(at: datetime) -> str:
    """`2026-01-04 08:41:59.784 UTC`."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"


def report_view(report: ProbeReport) -> ReportView:
    target = report.target
    exit_code = exit_code_for(report)
    mark, headline = _headline(report, exit_code)
    findings = report.findings
    root = findings[0] if findings else None
    return ReportView(
        title=f"Binance Stream Connectivity Report — {', '.join(target.symbols)} "
              f"{target.stream}",
        date=timestamp(report.generated_at),
        target=target.url,
        mark=mark,
        headline=headline,
        code=exit_code,
        working=tuple(_working(report)),
        not_working=tuple(_not_working(report)),
        not_used=tuple(stage_line(s, target.secure) for s in report.stages
                       if not_applicable(s, target.secure)),
        loop=tuple(_loop(report)),
        timeline=tuple(timeline_rows(report)),
        analysis=report.analysis,
        root_cause=root,
        also=findings[1:],
        solutions=root.actions if root else (),
        immediate=tuple(_immediate(report, exit_code)),
        environment=environment_line(report.environment),
        generated=timestamp(finished_at(report)),
        command=report.command,
        experiments=tuple(experiment_lines(report)),
    )


def experiment_lines(report: ProbeReport) -> list[str]:
    """`tls.small_mss` (1.0 s): the question → the result; what it confirmed, ruled out."""
    lines = []
    for e in report.experiments:
        took = f" ({format_ms(e.duration_ms)})" if e.duration_ms is not None else ""
        line = f"`{e.name}`{took}: {e.question} → {e.result}"
        if e.confirms:
            line += f"; confirms {', '.join(f'`{i}`' for i in e.confirms)}"
        if e.rules_out:
            line += f"; rules out {', '.join(f'`{i}`' for i in e.rules_out)}"
        lines.append(line)
    return lines


def _headline(report: ProbeReport, exit_code: ExitCode) -> tuple[str, str]:
    failed = report.failed_stage
    if failed is not None:
        return "❌", f"FAILED at {STAGE_ACTIONS[failed.name]} — {failure_phrase(failed)}"
    top = report.findings[0] if report.findings else None
    if exit_code is ExitCode.CRITICAL and top is not None:
        return "❌", f"CRITICAL — {top.title}"
    stopped = interruption(report)
    if stopped is not None:
        stage, signal_name = stopped
        return "⏹️", f"INTERRUPTED at {STAGE_ACTIONS[stage.name]} — by {signal_name}, " \
                    "before the run could say more"
    if exit_code is ExitCode.WARNING:
        return "⚠️", f"DEGRADED — {top.title if top else 'event loop blocked'}"
    return "✅", f"HEALTHY — every stage passed in {format_ms(total_ms(report))}"


def _not_working(report: ProbeReport) -> list[str]:
    """The stages that did not pass, then what `--duration` saw go wrong afterwards."""
    lines = [stage_line(s) for s in report.stages
             if not s.passed and not not_applicable(s, report.target.secure)]
    lines += [f"Holding the stream: {f.title}" for f in report.findings
              if f.id in HOLD_PROBLEMS]
    return lines


HOLD_PROBLEMS = ("hold.closed", "hold.stalled")


def _working(report: ProbeReport) -> list[str]:
    return [stage_line(stage) + _over_threshold(report, stage) for stage in report.stages
            if stage.passed]


def _over_threshold(report: ProbeReport, stage: StageResult) -> str:
    crossed = crossed_threshold(report.thresholds, stage)
    if crossed is None:
        return ""
    level, limit = crossed
    mark = "❌" if level == "crit" else "⚠️"
    return f" — {mark} over `--{level} {stage.name.value}={limit:g}`"


STACK_LINES = 3
"""Innermost frames shown per blockage (the JSON report keeps them all)."""


def _loop(report: ProbeReport) -> list[str]:
    loop = report.loop
    lines = []
    if not loop_measured(loop):
        lines.append("Not measured: no event-loop watchdog was attached to this run.")
    else:
        lines.append(_loop_running(report))
        for blockage in loop.blockages:
            lines.append(blockage_line(blockage))
            lines += [f"  ↳ {code(frame)}" for frame in blockage.stack[-STACK_LINES:]]
            if blockage.hint:
                lines.append(f"  ↳ known trap: {blockage.hint}")
    if loop.deadline_enforced_by_watchdog:
        lines.append("**The watchdog enforced the deadline**: the timeout could not fire "
                     "inside the event loop.")
    for stage in report.stages:
        if stage.status is StageStatus.TIMEOUT:
            lines.append(timeout_timing(stage))
    return lines


def _loop_running(report: ProbeReport) -> str:
    """The seed's question first: was the loop running at all, and how late did it run."""
    loop = report.loop
    watched = (f" (heartbeat every {format_ms(loop.interval_ms)}, blockage over "
               f"{format_ms(loop.threshold_ms)})"
               if loop.interval_ms is not None and loop.threshold_ms is not None else "")
    lag = f"max lag {format_ms(loop.max_lag_ms)}, p99 {format_ms(loop.p99_lag_ms)}"
    if loop.deadline_enforced_by_watchdog and report.failed_stage is not None and \
            report.failed_stage.error is not None and \
            report.failed_stage.error.extra.get("cause") == "loop_blocked":
        return f"Running: **no — blocked when the run was ended**; {lag}{watched}."
    if loop.blockages:
        return (f"Running: yes, but blocked {len(loop.blockages)} time(s); {lag}{watched}:")
    return f"Running: yes; {lag}, no blockage recorded{watched}."


def timeline_rows(report: ProbeReport) -> list[TimelineRow]:
    """The recorded events, loop blockages, and the moment each missing event was due."""
    rows = [TimelineRow(e.at, e.event) for e in report.timeline]
    for stage in report.stages:
        if stage.status is not StageStatus.TIMEOUT or stage.started_at is None:
            continue
        due = stage.started_at + timedelta(seconds=stage.timeout_s)
        expected = f"*{expected_event(stage)} expected by now*"
        fired = _timeout_event(report, stage, due)
        if fired is not None:
            index = rows.index(TimelineRow(fired.at, fired.event))
            rows[index] = TimelineRow(fired.at, f"{expected} — {fired.event}")
        else:
            rows.append(TimelineRow(due, f"{expected} — {stage.name.label} deadline "
                                         f"({stage.timeout_s:g} s)"))
    for blockage in report.loop.blockages:
        rows.append(TimelineRow(blockage.started_at, blockage_line(blockage)))
    return sorted(rows, key=lambda r: r.at)


def _timeout_event(report: ProbeReport, stage: StageResult,
                   due: datetime) -> TimelineEvent | None:
    window_start = due - timedelta(milliseconds=MATCH_WINDOW_MS)
    window_end = due + timedelta(milliseconds=LATE_MS)
    for event in report.timeline:
        if event.stage is stage.name and "timeout" in event.event.lower() and \
                window_start <= event.at <= window_end:
            return event
    return None


def finished_at(report: ProbeReport) -> datetime:
    for event in reversed(report.timeline):
        if event.event == "report generated":
            return event.at
    return report.timeline[-1].at if report.timeline else report.generated_at


def _immediate(report: ProbeReport, exit_code: ExitCode) -> list[str]:
    lines = []
    for finding in report.findings[1:]:
        if finding.severity is not Severity.INFO and finding.actions:
            lines.append(f"{finding.title} (`{finding.id}`): {finding.actions[0]}")
    if exit_code is ExitCode.OK:
        lines.append("Nothing to fix on the network path from this machine.")
        return lines
    solutions = report.findings[0].actions if report.findings else ()
    if not any("--output report.md" in action for action in solutions):
        lines.append("Attach this report to the incident "
                     f"(`{markdown_command(report.command, report.target.symbols)}`).")
    if any(s.status is StageStatus.TIMEOUT for s in report.stages):
        lines.append("In the bot, give each connection step an explicit timeout and log the "
                     "stage that timed out (websockets: `open_timeout=`; first message: "
                     "`async with asyncio.timeout(10): await ws.recv()`).")
    return lines


def environment_line(env: Mapping[str, object]) -> str:
    openssl = " ".join(str(env.get("openssl", "OpenSSL ?")).split()[:2])
    parts = [
        f"binance-diag {env.get('tool', '?')}",
        f"Python {env.get('python', '?')}",
        f"websockets {env.get('websockets', '?')}",
        openssl,
    ]
    if env.get("platform"):
        parts.append(str(env["platform"]))
    if env.get("resolver"):
        parts.append(f"resolver {env['resolver']}")
    parts.append(proxy_line(env))
    return " · ".join(parts)


def proxy_line(env: Mapping[str, object]) -> str:
    """Which proxy the probe used and why, and which one `websockets.connect()` would pick
    up from the environment by itself: the surprise the seed's authors could not see."""
    proxy, reason = env.get("proxy"), env.get("proxy_reason")
    library = env.get("websockets_proxy")
    seen = env.get("proxy_environment") or {}
    if proxy:
        text = f"proxy: {code(proxy)}" + (f" (from {reason})" if reason else "")
        if library and library == proxy and reason != "--proxy":
            text += "; `websockets.connect()` picks it up from the environment too"
        elif library and library != proxy:
            text += (f"; `websockets.connect()` would use {code(library)} from the "
                     "environment instead")
        return text
    if isinstance(seen, Mapping) and seen:
        text = (f"proxy: none used ({reason or 'direct'}); environment has "
                + ", ".join(f"{k}={code(v)}" for k, v in seen.items()))
        if library:
            text += (f"; `websockets.connect()` would use {code(library)} unless given "
                     "`proxy=None`")
        return text
    return "proxy: none (no HTTPS_PROXY/ALL_PROXY set)"


