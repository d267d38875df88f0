"""The incident report and the endpoint matrix as GitHub-flavoured Markdown, ready to paste
into an incident.

Pure. Sections in the order of DESIGN.md §1: title, Date, Target, Status; Stages (a
stage | result | time | budget table, and the waterfall as a Mermaid `gantt` that GitHub
draws); Current Status
(with the event loop); Timeline; Problem Analysis; Root Cause Hypothesis; Recommended
Solutions; Immediate Actions; Environment; Report Generated. The matrix is a table of
endpoint x stage, the verdict, and the root cause of each failing endpoint.
"""

from __future__ import annotations

from ..diagnose.describe import clock, code
from ..diagnose.matrix import EndpointMatrix
from ..figures.series import CountSummary
from ..model import Finding, ProbeReport
from .base import Formatter
from .formats import OutputFormat
from .json import timestamp
from .markup import escape_markdown, to_markdown
from .matrix_view import command, generated_at, grid, root_cause, subject
from .view import SEVERITY_MARKS, ReportView, report_view
from .waterfall import MARKS, Waterfall, waterfall

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
        "## Stages",
        "",
        *stage_table(waterfall(report)),
        "",
        *gantt(waterfall(report)),
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
        *(["## Experiments", *_items(view.experiments, "none"), ""] if view.experiments
          else []),
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


def stage_table(chart: Waterfall) -> list[str]:
    """stage | result | time | budget: one row per stage, the ones never reached too."""
    rows = ["| stage | result | time | budget |", "|---|---|--:|--:|"]
    rows += [f"| {step.stage.label} | {MARKS[step.outcome]} {escape_markdown(step.result)} | "
             f"{step.time} | {step.budget} |" for step in chart.steps]
    return rows


GANTT_TAGS = {"ok": "done", "slow": "active", "failed": "crit"}
_NOT_IN_GANTT = str.maketrans({":": " ", ";": " ", "#": " ", ",": " "})
"""What ends a Mermaid task's name or starts a comment: never in a name."""


def gantt(chart: Waterfall) -> list[str]:
    """The waterfall as a Mermaid gantt (GitHub renders it): a bar per stage that ran, on an
    axis of milliseconds from the first stage's start (`dateFormat x`: Unix ms, from 0)."""
    axis = "%S.%L s" if chart.span_ms < 60_000 else "%M:%S"
    lines = ["```mermaid", "gantt", "    title Stages (time from the first stage's start)",
             "    dateFormat x", f"    axisFormat {axis}"]
    for step in chart.bars:
        start = round(step.start_ms or 0.0)
        end = max(start + 1, round(step.end_ms))
        name = f"{step.result} {step.time}".translate(_NOT_IN_GANTT)
        lines += [f"    section {step.stage.label}",
                  f"    {name} :{GANTT_TAGS[step.outcome]}, {step.stage.value}, {start}, {end}"]
    return [*lines, "```"]


def _items(lines: tuple[str, ...], empty: str) -> list[str]:
    return [f"- {to_markdown(line)}" for line in lines] or [f"- {empty}"]


def _root_cause(view: ReportView) -> list[str]:
    root = view.root_cause
    if root is None:
        return ["No finding."]
    lines = [
        f"**{to_markdown(root.title)}**",
        f"(finding `{root.id}`, {root.severity.value}, blame: {root.blame.value}"
        + (", confirmed by experiment)" if root.confirmed_by else ")"),
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


def render_markdown_matrix(matrix: EndpointMatrix) -> str:
    def row_line(cells: list[str]) -> str:
        return "| " + " | ".join(cells) + " |"

    cells = grid(matrix)
    lines = [f"# Endpoint matrix: {to_markdown(subject(matrix))}", "",
             f"**Verdict:** {to_markdown(matrix.verdict.text)}", "",
             "Times in ms; an error kind where a stage failed, `-` where it was not reached.",
             "", row_line(cells[0]), row_line(["---"] * len(cells[0]))]
    for line in cells[1:]:
        lines.append(row_line([f"`{line[0]}`", *line[1:]]))
    findings = [(row, top) for row in matrix.rows
                if not row.works and (top := root_cause(row)) is not None]
    if findings:
        lines += ["", "## Root cause per failing endpoint", ""]
        for row, top in findings:
            lines.append(f"- `{row.endpoint}`: **{to_markdown(top.title)}** "
                         f"(`{top.id}`) — {to_markdown(top.hypothesis)}")
    lines += ["", f"*Report generated {timestamp(generated_at(matrix))}:* `{command(matrix)}`"]
    return "\n".join(lines) + "\n"


class MarkdownFormatter(Formatter):
    name = OutputFormat.MARKDOWN
    suffix = ".md"

    def format(self, report: ProbeReport) -> str:
        return render_markdown(report)

    def format_matrix(self, matrix: EndpointMatrix) -> str:
        return render_markdown_matrix(matrix)

    def format_count(self, summary: CountSummary) -> str:
        return render_markdown_count(summary)


def render_markdown_count(summary: CountSummary) -> str:
    """`probe --count N` in Markdown: verdict, headline, one row per stage, failed runs."""
    lines = [f"# binance-diag probe --count {summary.requested}: {summary.verdict}", "",
             f"**Target:** `{summary.target_url}`\\",
             f"**Started:** {summary.started_at.isoformat(timespec='milliseconds')}, "
             f"{summary.duration_s:.3f} s, a probe every {summary.interval_s:g} s\\",
             f"**Runs:** {summary.headline}", "",
             "| stage | runs | ok % | p50 ms | p95 ms | max ms | failures |",
             "|---|---|---|---|---|---|---|"]
    for stage in summary.series.ordered():
        figures = stage.durations_ms.summary()
        failures = ", ".join(f"`{kind}` x{n}" for kind, n in stage.failures.most_common())
        lines.append(f"| `{stage.name.value}` | {stage.ran} | {_cell(stage.success_pct)} | "
                     f"{_cell(figures['p50'])} | {_cell(figures['p95'])} | "
                     f"{_cell(figures['max'])} | {failures or '-'} |")
    failed = summary.failed_runs()
    if failed:
        lines += ["", "## Failed runs", ""]
        lines += [f"- #{n} {run.at.isoformat(timespec='seconds')}: `{run.failed_stage}` "
                  f"{run.error_kind or run.status.value} - {run.message or ''}"
                  for n, run in failed]
    return "\n".join(lines) + "\n"


def _cell(value: float | int | None) -> str:
    return "-" if value is None else f"{value:g}"
