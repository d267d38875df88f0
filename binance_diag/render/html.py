"""The incident report and the endpoint matrix as one self-contained HTML file, to attach to an
incident: inline CSS and an inline SVG waterfall, no script, nothing fetched.

Pure. The sections of the Markdown report (`view.py`), laid out for a browser. Everything
that came from the network or the command line is escaped (`esc`): a server's error text
with `<script>` in it stays text.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from ..diagnose.describe import clock
from ..diagnose.matrix import EndpointMatrix
from ..exitcodes import ExitCode
from ..model import Finding, ProbeReport
from ..timing import format_ms
from .base import Formatter
from .formats import OutputFormat
from .json import timestamp
from .markup import spans
from .matrix_view import command, failing_notes, generated_at, grid, subject
from .view import SEVERITY_MARKS, ReportView, report_view
from .waterfall import MARKS, Step, Waterfall, waterfall

STATUS_CLASSES = {ExitCode.OK: "ok", ExitCode.WARNING: "warn", ExitCode.CRITICAL: "crit",
                  ExitCode.UNKNOWN: "unknown"}
TAGS = {"code": "code", "bold": "strong", "em": "em"}

CSS = """
:root { color-scheme: light; --ok: #1a7f37; --warn: #9a6700; --crit: #cf222e;
  --muted: #59636e; --line: #d1d9e0; --bg: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 15px/1.5 -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif;
  color: #1f2328; max-width: 980px; margin: 2rem auto; padding: 0 1.25rem; }
h1 { font-size: 1.6rem; margin: 0 0 .5rem; }
h2 { font-size: 1.2rem; border-bottom: 1px solid var(--line); padding-bottom: .3rem;
  margin-top: 2rem; }
h3 { font-size: 1rem; margin: 1.2rem 0 .4rem; }
code { font: .88em/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  background: var(--bg); border-radius: 4px; padding: .1em .3em; overflow-wrap: anywhere; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem;
  margin: .5rem 0 1rem; }
dl.meta dt { font-weight: 600; } dl.meta dd { margin: 0; overflow-wrap: anywhere; }
.status { font-size: 1.15rem; font-weight: 700; padding: .7rem 1rem; border-radius: 6px;
  border-left: 6px solid; margin: 1rem 0; }
.status.ok { color: var(--ok); background: #dafbe1; }
.status.warn { color: var(--warn); background: #fff8c5; }
.status.crit { color: var(--crit); background: #ffebe9; }
.status.unknown { color: #8250df; background: #fbefff; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; }
th, td { border: 1px solid var(--line); padding: .35rem .6rem; text-align: left;
  vertical-align: top; }
th { background: var(--bg); }
table.stages td:first-child { width: 30%; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
tr.failed td { color: var(--crit); font-weight: 600; }
tr.slow td { color: var(--warn); }
tr.skipped td { color: var(--muted); }
td.time { white-space: nowrap; color: var(--muted); font-variant-numeric: tabular-nums; }
svg.waterfall { width: 100%; height: auto; display: block; margin: .5rem 0 1rem; }
svg .label { font: 13px sans-serif; fill: #1f2328; }
svg .figure { font: 12px sans-serif; fill: var(--muted); }
svg .axis { font: 11px sans-serif; fill: var(--muted); }
svg .grid { stroke: var(--line); stroke-width: 1; }
svg .bar.ok { fill: var(--ok); } svg .bar.slow { fill: #d4a72c; }
svg .bar.failed { fill: var(--crit); }
svg .deadline { stroke: #1f2328; stroke-width: 2; stroke-dasharray: 3 2; }
svg .beyond { fill: var(--muted); }
svg tr.failed, svg .failed-label { fill: var(--crit); font-weight: 700; }
ul, ol { padding-left: 1.5rem; } li { margin: .15rem 0; }
.finding-meta, footer { color: var(--muted); font-size: .9rem; }
footer { border-top: 1px solid var(--line); margin-top: 2rem; padding-top: .6rem; }
"""


def esc(text: object) -> str:
    """Text for HTML, quotes included. `'` as `&apos;`, as the XML output writes it, so the
    credential scrubber (redact.py) knows the escaped form of a secret."""
    return html.escape(str(text)).replace("&#x27;", "&apos;")


def inline(sentence: str) -> str:
    """A marked-up sentence (markup.py) as HTML: code, strong, em; the rest escaped."""
    out = []
    for kind, part in spans(sentence):
        out.append(esc(part) if kind == "text" else f"<{TAGS[kind]}>{esc(part)}</{TAGS[kind]}>")
    return "".join(out)


def _items(lines: Iterable[str], empty: str, tag: str = "ul") -> str:
    rows = [f"<li>{inline(line)}</li>" for line in lines]
    if not rows:
        rows = [f"<li><em>{esc(empty)}</em></li>"]
    return f"<{tag}>{''.join(rows)}</{tag}>"


def page(title: str, body: list[str]) -> str:
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # Nothing may be fetched or run: the file is opened from incident tickets and mail.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "style-src 'unsafe-inline'; img-src data:\">",
        f"<title>{esc(title)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        *body,
        "</body>",
        "</html>",
    ]) + "\n"


# --- the waterfall ---------------------------------------------------------------------

SVG_WIDTH = 900
LABEL_X, BARS_X, BARS_W, FIGURES_X = 8, 150, 560, 722
ROW, TOP = 26, 10
TICKS = 4
MIN_BAR = 4.0
"""A stage too short for the axis still shows as a visible sliver."""


def svg_waterfall(chart: Waterfall) -> str:
    """One bar per stage that ran, on one axis; a dashed line at each deadline on the axis,
    an arrow at the right edge for a deadline further right; time and budget beside."""
    height = TOP + ROW * len(chart.steps) + 48
    parts = [f'<svg class="waterfall" xmlns="http://www.w3.org/2000/svg" role="img" '
             f'viewBox="0 0 {SVG_WIDTH} {height}" aria-label="Stage waterfall">']
    bottom = TOP + ROW * len(chart.steps)
    for tick in range(TICKS + 1):
        x = BARS_X + BARS_W * tick / TICKS
        parts.append(f'<line class="grid" x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" '
                     f'y2="{bottom}"/>')
        anchor = "start" if tick == 0 else "end" if tick == TICKS else "middle"
        parts.append(f'<text class="axis" x="{x:.1f}" y="{bottom + 16}" '
                     f'text-anchor="{anchor}">'
                     f'{esc(format_ms(chart.span_ms * tick / TICKS)) if tick else "0"}</text>')
    for row, step in enumerate(chart.steps):
        parts += _svg_row(chart, step, TOP + ROW * row)
    legend = bottom + 38
    parts += [f'<line class="deadline key" x1="{BARS_X}" y1="{legend - 10}" x2="{BARS_X}" '
              f'y2="{legend + 2}"/>',
              f'<text class="axis" x="{BARS_X + 8}" y="{legend}">a stage\'s deadline '
              "(its start + its budget)</text>",
              f'<path class="beyond key" d="M{BARS_X + 260} {legend - 10} l6 5 l-6 5 z"/>',
              f'<text class="axis" x="{BARS_X + 272}" y="{legend}">deadline further right'
              "</text>"]
    parts.append("</svg>")
    return "\n".join(parts)


def _svg_row(chart: Waterfall, step: Step, y: int) -> list[str]:
    middle = y + ROW / 2 + 4
    label_class = "label failed-label" if step.outcome == "failed" else "label"
    parts = [f'<text class="{label_class}" x="{LABEL_X}" y="{middle:.1f}">'
             f"{esc(step.stage.label)}</text>"]
    if step.ran:
        x = BARS_X + BARS_W * chart.fraction(step.start_ms or 0.0)
        width = max(MIN_BAR, BARS_W * chart.fraction(step.duration_ms or 0.0))
        parts.append(f'<rect class="bar {step.outcome}" data-stage="{step.stage.value}" '
                     f'x="{x:.1f}" y="{y + 5}" width="{width:.1f}" height="{ROW - 10}" rx="2">'
                     f"<title>{esc(step.stage.label)}: {esc(step.result)}, {esc(step.time)} "
                     f"of {esc(step.budget)}</title></rect>")
        deadline = chart.fraction(step.deadline_ms)
        if deadline <= 1:
            dx = BARS_X + BARS_W * deadline
            parts.append(f'<line class="deadline" x1="{dx:.1f}" y1="{y + 2}" x2="{dx:.1f}" '
                         f'y2="{y + ROW - 2}"><title>deadline: {esc(step.budget)} budget'
                         "</title></line>")
        else:
            edge = BARS_X + BARS_W + 4
            parts.append(f'<path class="beyond" d="M{edge:.1f} {y + 8} l6 5 l-6 5 z">'
                         f"<title>deadline further right ({esc(step.budget)} budget)</title>"
                         "</path>")
    figure = f"{step.time} of {step.budget}" if step.ran else f"{step.result} ({step.budget})"
    parts.append(f'<text class="figure" x="{FIGURES_X}" y="{middle:.1f}">{esc(figure)}</text>')
    return parts


def stage_table(chart: Waterfall) -> str:
    rows = ["<table class=\"stages\"><thead><tr><th>stage</th><th>result</th>"
            "<th>time</th><th>budget</th></tr></thead><tbody>"]
    for step in chart.steps:
        css = {"failed": "failed", "slow": "slow", "ok": "ok"}.get(step.outcome, "skipped")
        rows.append(f'<tr class="{css}" data-stage="{step.stage.value}">'
                    f"<td>{esc(step.stage.label)}</td>"
                    f"<td>{MARKS[step.outcome]} {esc(step.result)}</td>"
                    f'<td class="num">{esc(step.time)}</td>'
                    f'<td class="num">{esc(step.budget)}</td></tr>')
    rows.append("</tbody></table>")
    return "".join(rows)


# --- the report ------------------------------------------------------------------------

def render_html(report: ProbeReport) -> str:
    view = report_view(report)
    chart = waterfall(report)
    body = [
        f"<h1>{inline(view.title)}</h1>",
        '<dl class="meta">',
        f"<dt>Date</dt><dd>{esc(view.date)}</dd>",
        f"<dt>Target</dt><dd><code>{esc(view.target)}</code></dd>",
        "</dl>",
        f'<p class="status {STATUS_CLASSES[view.code]}" id="status">'
        f"{view.mark} {inline(view.headline)}</p>",
        "<h2>Stages</h2>",
        svg_waterfall(chart),
        stage_table(chart),
        "<h2>Current Status</h2>",
        "<h3>✅ What's Working</h3>", _items(view.working, "nothing"),
        "<h3>❌ What's Not Working</h3>", _items(view.not_working, "nothing"),
        *(["<h3>➖ Not used here</h3>", _items(view.not_used, "")] if view.not_used else []),
        "<h3>Event loop</h3>", _items(view.loop, "not measured"),
        "<h2>Timeline</h2>",
        _timeline(view),
        "<h2>Problem Analysis</h2>", _items(view.analysis, "no measurement to analyse"),
        "<h2>Root Cause Hypothesis</h2>", *_root_cause(view),
        "<h2>Recommended Solutions</h2>", _items(view.solutions, "none", "ol"),
        "<h2>Immediate Actions</h2>", _items(view.immediate, "none"),
        "<h2>Environment</h2>", f"<p>{inline(view.environment)}</p>",
        f"<footer><strong>Report Generated:</strong> {esc(view.generated)} · "
        f"<code>{esc(view.command or 'binance-diag')}</code></footer>",
    ]
    return page(view.title, body)


def _timeline(view: ReportView) -> str:
    rows = ["<table class=\"timeline\"><thead><tr><th>time (UTC)</th><th>event</th></tr>"
            "</thead><tbody>"]
    rows += [f'<tr><td class="time">{esc(clock(row.at))}</td><td>{inline(row.event)}</td></tr>'
             for row in view.timeline]
    rows.append("</tbody></table>")
    return "".join(rows)


def _root_cause(view: ReportView) -> list[str]:
    root = view.root_cause
    if root is None:
        return ["<p>No finding.</p>"]
    parts = [f"<p><strong>{inline(root.title)}</strong></p>",
             f'<p class="finding-meta">finding <code>{esc(root.id)}</code> · '
             f"{esc(root.severity.value)} · blame: {esc(root.blame.value)}</p>",
             f"<p>{inline(root.hypothesis)}</p>"]
    if root.evidence:
        parts += ["<h3>Evidence</h3>", _items(root.evidence, "")]
    if view.also:
        parts += ["<h3>Also found</h3>", "<ul>", *(_also(f) for f in view.also), "</ul>"]
    return parts


def _also(finding: Finding) -> str:
    evidence = f" — {inline(finding.evidence[0])}" if finding.evidence else ""
    return (f"<li>{SEVERITY_MARKS[finding.severity]} <strong>{inline(finding.title)}</strong> "
            f'<span class="finding-meta">(<code>{esc(finding.id)}</code>, '
            f"{esc(finding.severity.value)}, blame: {esc(finding.blame.value)})</span>"
            f"{evidence}</li>")


# --- the matrix ------------------------------------------------------------------------

def render_html_matrix(matrix: EndpointMatrix) -> str:
    cells = grid(matrix)
    title = f"Endpoint matrix: {subject(matrix)}"
    status = STATUS_CLASSES.get(matrix.verdict.exit_code, "unknown")
    rows = ["<table class=\"matrix\"><thead><tr>",
            *(f"<th>{esc(heading)}</th>" for heading in cells[0]), "</tr></thead><tbody>"]
    for row, line in zip(matrix.rows, cells[1:], strict=True):
        css = "ok" if row.works else "failed"
        rows.append(f'<tr class="{css}"><td><code>{esc(line[0])}</code></td>'
                    + "".join(f'<td class="num">{esc(cell)}</td>' for cell in line[1:-1])
                    + f"<td>{'✅' if row.works else '❌'} {esc(line[-1])}</td></tr>")
    rows.append("</tbody></table>")
    notes = failing_notes(matrix)
    body = [
        f"<h1>{esc(title)}</h1>",
        f'<p class="status {status}" id="status">{esc(matrix.verdict.text)}</p>',
        "<p>Times in ms; an error kind where a stage failed, <code>-</code> where it was not "
        "reached.</p>",
        "".join(rows),
        *(["<h2>Root cause per failing endpoint</h2>",
           "<ul>" + "".join(f"<li>{esc(n)}</li>" for n in notes) + "</ul>"] if notes else []),
        f"<footer><strong>Report generated</strong> {esc(timestamp(generated_at(matrix)))} · "
        f"<code>{esc(command(matrix))}</code></footer>",
    ]
    return page(title, body)


class HtmlFormatter(Formatter):
    name = OutputFormat.HTML
    suffix = ".html"
    for_programs = True
    """A browser parses it: a GitHub annotation line must not land in `> report.html`."""

    def format(self, report: ProbeReport) -> str:
        return render_html(report)

    def format_matrix(self, matrix: EndpointMatrix) -> str:
        return render_html_matrix(matrix)
