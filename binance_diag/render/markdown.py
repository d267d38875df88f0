"""The incident report as GitHub-flavoured Markdown, ready to paste into an incident.

Pure. Sections in the order of DESIGN.md §1: title, Date, Target, Status; Current Status
(with the event loop); Timeline; Problem Analysis; Root Cause Hypothesis; Recommended
Solutions; Immediate Actions; Environment; Report Generated.
"""

from __future__ import annotations

from ..diagnose.describe import clock, code
from ..model import Finding, ProbeReport
from .base import Formatter
from .markup import to_markdown
from .view import SEVERITY_MARKS, ReportView, report_view

RULE = "---"


def render_markdown(report: ProbeReport) -> str:
    view = report_view(report)
    md = to_markdown
    lines = [
        f"# {md(view.title)}",
        "",
        f"**Date:** {view.date}\\",
        f"**Target:** {code(view.target)}\\",
        f"**Status:** {view.mark} **{md(view.headline)}**",
        "",
        RULE,
        "",
        "## Current Status",
        "",
        "### ✅ What's Working",
        *_items(view.working, "nothing"),
        "",
        "### ❌ What's Not Working",
        *_items(view.not_working, "nothing"),
        "",
        *(["### ➖ Not used here", *_items(view.not_used, ""), ""] if view.not_used else []),
        "### Event loop",
        *_items(view.loop, "not measured"),
        "",
        RULE,
        "",
        "## Timeline",
        "",
        "| time (UTC) | event |",
        "|---|---|",
        *(f"| {clock(row.at)} | {md(row.event, in_table=True)} |" for row in view.timeline),
        "",
        RULE,
        "",
        "## Problem Analysis",
        *_items(view.analysis, "no measurement to analyse"),
        "",
        "## Root Cause Hypothesis",
        *_root_cause(view),
        "",
        "## Recommended Solutions",
        *(f"{n}. {md(action)}" for n, action in enumerate(view.solutions, 1)),
        *(["- none"] if not view.solutions else []),
        "",
        "## Immediate Actions",
        *_items(view.immediate, "none"),
        "",
        "## Environment",
        md(view.environment),
        "",
        RULE,
        f"**Report Generated:** {view.generated} · {code(view.command or 'binance-diag')}",
    ]
    return "\n".join(lines) + "\n"


def _items(lines: tuple[str, ...], empty: str) -> list[str]:
    return [f"- {to_markdown(line)}" for line in lines] or [f"- {empty}"]


def _root_cause(view: ReportView) -> list[str]:
    root = view.root_cause
    if root is None:
        return ["No finding."]
    lines = [
        f"**{to_markdown(root.title)}**",
        f"(finding `{root.id}`, {root.severity.value}, blame: {root.blame.value})",
        "",
        to_markdown(root.hypothesis),
        "",
    ]
    if root.evidence:
        lines += ["Evidence:", *(f"- {to_markdown(e)}" for e in root.evidence)]
    if view.also:
        lines += ["", "### Also found", *(_also(f) for f in view.also)]
    return lines


def _also(finding: Finding) -> str:
    evidence = f" — {to_markdown(finding.evidence[0])}" if finding.evidence else ""
    return (f"- {SEVERITY_MARKS[finding.severity]} **{to_markdown(finding.title)}** "
            f"(`{finding.id}`, {finding.severity.value}, blame: {finding.blame.value})"
            f"{evidence}")


class MarkdownFormatter(Formatter):
    name = "markdown"
    suffix = ".md"

    def format(self, report: ProbeReport) -> str:
        return render_markdown(report)
