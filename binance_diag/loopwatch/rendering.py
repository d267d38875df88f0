"""The loopwatch report as lines for stderr, and as a file: text, Markdown or JSON.

Pure. `blockage_line` is the one line shown as a blockage happens; `summary_lines` the short
summary every run ends with; `report_to_dict` the only place that names JSON fields (the
schema `binance_diag/schema/loopwatch-1.schema.json` is checked against it by the tests).
"""

from __future__ import annotations

import json
import os
import shlex
from enum import StrEnum
from typing import Any

from ..render.json import timestamp
from ..timing import format_ms
from .report import (
    SCHEMA_ID,
    LoopwatchReport,
    group_blockages,
    trap_hint,
    trap_title,
)
from .wire import WatchedBlockage

PREFIX = "binance-diag loopwatch:"
SUMMARY_PLACES = 5
"""Places listed in the stderr summary; the report file lists them all."""


class ReportFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    MARKDOWN = "markdown"


def blockage_line(
    blockage: WatchedBlockage,
    *,
    still_blocked_ms: float | None = None,
    program_ended: bool = False,
    cwd: str | None = None,
) -> str:
    """One line: how long, where (file:line in function: code), and the trap if known.

    `still_blocked_ms`: the loop has not recovered yet; that is how long it has been stuck
    (until the program ended, with `program_ended`). Paths under `cwd` are shown relative.
    """
    loop = "event loop" if blockage.thread == "MainThread" else (
        f"event loop of thread {blockage.thread!r}")
    if still_blocked_ms is None:
        text = f"{PREFIX} {loop} blocked {format_ms(blockage.duration_ms)}"
    elif program_ended:
        text = (f"{PREFIX} {loop} still blocked after {format_ms(still_blocked_ms)} "
                "when the program ended")
    else:
        text = f"{PREFIX} {loop} blocked for {format_ms(still_blocked_ms)} so far"
    culprit = blockage.culprit
    if culprit is not None:
        text += f" at {shorten(str(culprit), cwd)}"
    else:
        text += " (no stack: it was over before the watchdog looked)"
    title = trap_title(blockage.trap)
    return f"{text} [{title}]" if title else text


def shorten(text: str, cwd: str | None) -> str:
    """`bot.py:12 ...` rather than `/home/me/bot/bot.py:12 ...` on a terminal."""
    if cwd:
        prefix = cwd.rstrip(os.sep) + os.sep
        if text.startswith(prefix):
            return text[len(prefix):]
    return text


def summary_lines(report: LoopwatchReport, cwd: str | None = None) -> list[str]:
    """The short summary written to stderr when the program ends."""
    lines = [f"{PREFIX} {command_text(report)} {report.exit.describe()} "
             f"after {report.duration_s:.2f} s"]
    if not report.attached:
        why = "; ".join(report.errors) or (
            "the program ended before Python's start-up ran it, or Python ignored PYTHONPATH")
        lines.append(f"  the watchdog was not attached: {why}")
        return lines
    lines.extend(f"  watchdog error: {error}" for error in report.errors)
    if not report.threads:
        lines.append("  no asyncio event loop ran" if report.pipe_closed_after_s is None
                     else "  no asyncio event loop reported before the pipe closed")
        return lines
    lines.append(f"  {_loops_line(report)}")
    if not report.blockages:
        lines.append(f"  no blockage >= {format_ms(report.threshold_ms)}")
        return lines
    count = len(report.blockages)
    lines.append(f"  {count} blockage{'s' if count > 1 else ''} >= "
                 f"{format_ms(report.threshold_ms)}, {format_ms(report.blocked_ms)} in all:")
    groups = group_blockages(report.blockages)
    hints: dict[str, str] = {}
    for group in groups[:SUMMARY_PLACES]:
        code = f": {group.code}" if group.code else ""
        title = trap_title(group.trap)
        trap = f" [{title}]" if title else ""
        lines.append(f"    {group.count} x, max {format_ms(group.max_ms)}, "
                     f"{shorten(group.where, cwd)}{code}{trap}")
        hint = trap_hint(group.trap)
        if hint and group.trap:
            hints.setdefault(group.trap, hint)
    if len(groups) > SUMMARY_PLACES:
        lines.append(f"    ... and {len(groups) - SUMMARY_PLACES} more places "
                     "(--report FILE lists every blockage)")
    lines.extend(f"  fix: {hint}" for hint in hints.values())
    return lines


def command_text(report: LoopwatchReport) -> str:
    return shlex.join(report.command)


def _loops_line(report: LoopwatchReport) -> str:
    loops = report.loops
    threads = ", ".join(t.thread for t in report.threads)
    text = f"watched {loops} loop{'s' if loops != 1 else ''} ({threads})"
    if report.heartbeats is None:
        return text + ": no lag figures (they are sent at exit, and none came)"
    return (f"{text}: max lag {format_ms(report.max_lag_ms or 0.0)}, "
            f"p99 {format_ms(report.p99_lag_ms or 0.0)}, {report.heartbeats} "
            f"heartbeat{'' if report.heartbeats == 1 else 's'}")


def render_text(report: LoopwatchReport) -> str:
    lines = summary_lines(report)
    for blockage in report.blockages:
        lines.append("")
        state = "" if blockage.ended else " (still blocked when the program ended)"
        lines.append(f"{timestamp(blockage.started_at)}  {format_ms(blockage.duration_ms)}"
                     f"{state}  thread {blockage.thread}")
        title = trap_title(blockage.trap)
        if title:
            lines.append(f"  {title}: {trap_hint(blockage.trap)}")
        lines.extend(f"    {frame}" for frame in blockage.stack)
    lines.append("")
    lines.append(f"Report generated {timestamp(report.generated_at)} by binance-diag "
                 f"{report.tool_version}")
    return "\n".join(lines) + "\n"


def render_markdown(report: LoopwatchReport) -> str:
    out = [f"# Event-loop watch: `{command_text(report)}`", ""]
    result = f"{report.exit.describe()} after {report.duration_s:.2f} s"
    if not report.attached:
        result += " — **the watchdog was not attached**"
    elif report.blockages:
        result += (f" — **{len(report.blockages)} blockage(s) >= "
                   f"{format_ms(report.threshold_ms)}**, {format_ms(report.blocked_ms)} in all")
    else:
        result += f" — no blockage >= {format_ms(report.threshold_ms)}"
    out += [f"**Result:** {result}", "",
            f"Threshold {format_ms(report.threshold_ms)}, heartbeat every "
            f"{format_ms(report.interval_ms)}; runs {report.runs}; Python {report.python or '?'}"
            f"; pid {report.pid or '?'}.", ""]
    out += [f"- watchdog error: {error}" for error in report.errors]
    out += ["## Loops", "", "| thread | loops | max lag | p99 lag | heartbeats |",
            "|---|---|---|---|---|"]
    for t in report.threads:
        out.append(f"| {t.thread} | {t.loops} | {_ms(t.max_lag_ms)} | {_ms(t.p99_lag_ms)} | "
                   f"{t.heartbeats if t.heartbeats is not None else '-'} |")
    if report.blockages:
        out += ["", "## Blockages by place", "",
                "| where | code | known trap | count | max | total |", "|---|---|---|---|---|---|"]
        for g in group_blockages(report.blockages):
            out.append(f"| `{g.where}` | `{g.code or ''}` | {trap_title(g.trap) or ''} | "
                       f"{g.count} | {format_ms(g.max_ms)} | {format_ms(g.total_ms)} |")
        out += ["", "## Each blockage"]
        for b in report.blockages:
            state = "" if b.ended else " (still blocked when the program ended)"
            out += ["", f"### {timestamp(b.started_at)} — {format_ms(b.duration_ms)}{state}, "
                    f"thread {b.thread}", ""]
            if b.trap:
                out += [f"**{trap_title(b.trap)}**: {trap_hint(b.trap)}", ""]
            out += ["```", *(str(frame) for frame in b.stack), "```"]
    out += ["", f"**Report Generated:** {timestamp(report.generated_at)} by binance-diag "
            f"{report.tool_version}: `binance-diag loopwatch -- {command_text(report)}`", ""]
    return "\n".join(out)


def _ms(value: float | None) -> str:
    return format_ms(value) if value is not None else "-"


def report_to_dict(report: LoopwatchReport) -> dict[str, Any]:
    """The JSON contract, schema `binance-diag/loopwatch/1` (docs/loopwatch.md)."""
    return {
        "schema": SCHEMA_ID,
        "tool": {"name": "binance-diag", "version": report.tool_version},
        "generated_at": timestamp(report.generated_at),
        "command": list(report.command),
        "runs": report.runs,
        "started_at": timestamp(report.started_at),
        "duration_s": round(report.duration_s, 3),
        "exit": {"code": report.exit.code, "signal": report.exit.signal_name,
                 "status": report.exit.status},
        "watchdog": {"attached": report.attached, "threshold_ms": report.threshold_ms,
                     "interval_ms": report.interval_ms, "pid": report.pid,
                     "python": report.python, "errors": list(report.errors)},
        "loop": {
            "loops": report.loops, "max_lag_ms": report.max_lag_ms,
            "p99_lag_ms": report.p99_lag_ms, "heartbeats": report.heartbeats,
            "blocked_ms": round(report.blocked_ms, 3),
            "threads": [
                {"thread": t.thread, "loops": t.loops, "max_lag_ms": t.max_lag_ms,
                 "p99_lag_ms": t.p99_lag_ms, "heartbeats": t.heartbeats}
                for t in report.threads
            ],
        },
        "blockages": [_blockage_dict(b) for b in report.blockages],
    }


def _blockage_dict(blockage: WatchedBlockage) -> dict[str, Any]:
    trap = None
    if blockage.trap:
        trap = {"id": blockage.trap, "title": trap_title(blockage.trap),
                "hint": trap_hint(blockage.trap)}
    return {
        "started_at": timestamp(blockage.started_at),
        "duration_ms": blockage.duration_ms,
        "ended": blockage.ended,
        "thread": blockage.thread,
        "where": blockage.where,
        "trap": trap,
        "stack": [{"file": f.file, "line": f.line, "function": f.function, "code": f.code}
                  for f in blockage.stack],
    }


def render(report: LoopwatchReport, report_format: ReportFormat) -> str:
    if report_format is ReportFormat.JSON:
        return json.dumps(report_to_dict(report), indent=2, ensure_ascii=False) + "\n"
    if report_format is ReportFormat.MARKDOWN:
        return render_markdown(report)
    return render_text(report)
