"""The incident report and the endpoint matrix for a terminal, through rich: the report has
the same sections as the Markdown, the matrix is a table of endpoint x stage.

Takes a `rich.console.Console`: colours on a terminal, plain colourless text when the output
is not a terminal or NO_COLOR is set (`styled`: rich alone would keep bold and dim).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Mapping
from typing import TextIO

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.markup import escape
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from ..diagnose.describe import clock
from ..diagnose.matrix import EndpointMatrix
from ..exitcodes import ExitCode
from ..model import Finding, ProbeReport
from ..timing import format_ms
from .base import Formatter
from .formats import OutputFormat
from .json import timestamp
from .markup import spans
from .matrix_view import command, failing_notes, generated_at, grid, result_word, subject
from .view import SEVERITY_MARKS, ReportView, report_view
from .waterfall import Outcome, Step, Waterfall, waterfall

PLAIN_WIDTH = 100
"""Columns for plain text (a file, a pipe, CI logs), where there is no terminal to ask."""
COLUMN_GAP = "  "
"""Between the columns of the plain-text matrix."""
STYLES = {"code": "cyan", "bold": "bold", "em": "italic", "text": ""}
STATUS_STYLES = {ExitCode.OK: "bold green", ExitCode.WARNING: "bold yellow",
                 ExitCode.CRITICAL: "bold red", ExitCode.UNKNOWN: "bold magenta"}


def rich_text(sentence: str, style: str = "") -> Text:
    """A marked-up sentence as styled rich Text (never parsed as rich markup)."""
    text = Text(style=style)
    for kind, part in spans(sentence):
        text.append(part, STYLES[kind])
    return text


def _section(title: str) -> Group:
    return Group(Text(""), Rule(Text(title, style="bold"), align="left", characters="─"))


def _bullets(lines: Iterable[str], bullet: str = "•", empty: str = "none") -> Table:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=len(bullet) + 2, justify="right", no_wrap=True)
    grid.add_column()
    rows = list(lines)
    for line in rows:
        grid.add_row(bullet, rich_text(line))
    if not rows:
        grid.add_row(bullet, Text(empty, style="dim"))
    return grid


def _numbered(lines: tuple[str, ...]) -> Table:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=4, justify="right", no_wrap=True)
    grid.add_column()
    for number, line in enumerate(lines, 1):
        grid.add_row(f"{number}.", rich_text(line))
    if not lines:
        grid.add_row("", Text("none", style="dim"))
    return grid


def _header(view: ReportView) -> RenderableType:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    grid.add_row("Date:", view.date)
    grid.add_row("Target:", Text(view.target, style="cyan"))
    grid.add_row("Status:", rich_text(f"{view.mark} {view.headline}",
                                      STATUS_STYLES[view.code]))
    return Group(Text(view.title, style="bold underline"), grid)


def _timeline(view: ReportView) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column()
    for row in view.timeline:
        grid.add_row(clock(row.at), rich_text(row.event))
    return grid


def _experiments(view: ReportView) -> list[RenderableType]:
    """The Experiments section, when any ran."""
    if not view.experiments:
        return []
    return [_section("Experiments"), _bullets(view.experiments)]


def _root_cause(view: ReportView) -> RenderableType:
    root = view.root_cause
    if root is None:
        return Text("No finding.")
    parts: list[RenderableType] = [
        rich_text(root.title, "bold"),
        Text(f"finding {root.id} · {root.severity.value} · blame: {root.blame.value}"
             + (" · confirmed by experiment" if root.confirmed_by else ""), style="dim"),
        rich_text(root.hypothesis),
    ]
    if root.evidence:
        parts += [Text("Evidence:", style="bold"), _bullets(root.evidence)]
    if view.also:
        parts += [Text("Also found:", style="bold"), _also(view.also)]
    return Group(*parts)


def _also(findings: tuple[Finding, ...]) -> Table:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=4, justify="right", no_wrap=True)
    grid.add_column()
    for finding in findings:
        line = rich_text(finding.title, "bold")
        line.append(f" ({finding.id}, {finding.severity.value}, blame: {finding.blame.value})",
                    "dim")
        grid.add_row(SEVERITY_MARKS[finding.severity], line)
    return grid


def _not_used(view: ReportView) -> list[RenderableType]:
    if not view.not_used:
        return []
    return [Text("➖ Not used here", style="bold"), _bullets(view.not_used)]


BAR_STYLES: dict[Outcome, str] = {"ok": "green", "slow": "yellow", "failed": "bold red",
                                  "not reached": "dim", "not used": "dim"}
LABEL_WIDTH = 18
MIN_BAR_WIDTH = 20
BAR, SLIVER, DEADLINE, BEYOND = "█", "▏", "┆", "›"


class WaterfallView:
    """httpstat's waterfall: a bar per stage on one time axis, as wide as the console; the
    budget of each stage marked `┆` where its deadline falls, `›` when that is further right;
    time, budget and result at the end of the row."""

    def __init__(self, chart: Waterfall) -> None:
        self.chart = chart

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        tails = [self._tail(step) for step in self.chart.steps]
        tail_width = max(len(t) for t in tails)
        width = max(MIN_BAR_WIDTH, options.max_width - LABEL_WIDTH - tail_width - 2)
        for step, tail in zip(self.chart.steps, tails, strict=True):
            line = Text(step.stage.label.ljust(LABEL_WIDTH), style=BAR_STYLES[step.outcome])
            line.append_text(self._bar(step, width))
            line.append(" " + tail, style="dim" if not step.ran else "")
            yield line
        end = format_ms(self.chart.span_ms)
        yield Text(" " * LABEL_WIDTH + "0" + end.rjust(width - 1), style="dim")
        yield Text(" " * LABEL_WIDTH + f"{DEADLINE} a stage's deadline (start + budget), "
                   f"{BEYOND} a deadline further right", style="dim")

    @staticmethod
    def _tail(step: Step) -> str:
        return f"{step.time:>9} of {step.budget:<5} {step.result}"

    def _bar(self, step: Step, width: int) -> Text:
        cells = [" "] * (width + 1)
        styles = [""] * (width + 1)
        if step.ran:
            first = min(width - 1, int(self.chart.fraction(step.start_ms or 0.0) * width))
            last = max(first + 1, round(self.chart.fraction(step.end_ms) * width))
            thin = (step.duration_ms or 0.0) < self.chart.span_ms / width / 2
            for cell in range(first, min(last, width)):
                cells[cell] = SLIVER if thin else BAR
                styles[cell] = BAR_STYLES[step.outcome]
            deadline = self.chart.fraction(step.deadline_ms)
            if deadline <= 1:
                cell = min(width - 1, int(deadline * width))
                cells[cell], styles[cell] = DEADLINE, "bold"
            else:
                cells[width], styles[width] = BEYOND, "dim"
        text = Text()
        for char, style in zip(cells, styles, strict=True):
            text.append(char, style)
        return text


def report_renderables(report: ProbeReport) -> list[RenderableType]:
    view = report_view(report)
    return [
        _header(view),
        _section("Stages"),
        WaterfallView(waterfall(report)),
        _section("Current Status"),
        Text("✅ What's Working", style="bold green"),
        _bullets(view.working, empty="nothing"),
        Text("❌ What's Not Working", style="bold red"),
        _bullets(view.not_working, empty="nothing"),
        *_not_used(view),
        Text("Event loop", style="bold"),
        _bullets(view.loop),
        _section("Timeline (UTC)"),
        _timeline(view),
        _section("Problem Analysis"),
        _bullets(view.analysis),
        *_experiments(view),
        _section("Root Cause Hypothesis"),
        _root_cause(view),
        _section("Recommended Solutions"),
        _numbered(view.solutions),
        _section("Immediate Actions"),
        _bullets(view.immediate),
        _section("Environment"),
        rich_text(view.environment),
        Text(""),
        Rule(characters="─"),
        rich_text(f"**Report Generated:** {view.generated} · `{view.command or 'binance-diag'}`"),
    ]


def print_report(report: ProbeReport, console: Console) -> None:
    for renderable in report_renderables(report):
        console.print(renderable)


def no_color(environ: Mapping[str, str] | None = None) -> bool:
    """https://no-color.org: NO_COLOR set and not empty means no styling at all (rich's own
    NO_COLOR support drops colours but keeps bold and dim)."""
    return bool((os.environ if environ is None else environ).get("NO_COLOR"))


def styled(console: Console) -> bool:
    """Whether to draw the rich view: a terminal, and NO_COLOR not set."""
    return console.is_terminal and not no_color()


def plain_console(file: TextIO, width: int = PLAIN_WIDTH) -> Console:
    """A Console that writes plain text: no colours, no cursor codes, a fixed width."""
    return Console(file=file, width=width, force_terminal=False, color_system=None,
                   highlight=False, emoji=False, soft_wrap=False, legacy_windows=False)


def plain_text(report: ProbeReport, width: int = PLAIN_WIDTH) -> str:
    """The report as plain text, without the padding rich adds to fill table rows."""
    buffer = io.StringIO()
    print_report(report, plain_console(buffer, width))
    return "".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines())


def plain_matrix_text(matrix: EndpointMatrix) -> str:
    """The matrix as plain text: what `rich` shows when stdout is not a terminal, and what
    `--output` gets."""
    cells = grid(matrix)
    widths = [max(len(line[i]) for line in cells) for i in range(len(cells[0]))]
    lines = [f"binance-diag endpoint matrix: {subject(matrix)}, {len(matrix.rows)} endpoints "
             "probed concurrently (times in ms)", ""]
    lines += [COLUMN_GAP.join(cell.ljust(w) for cell, w in zip(line, widths, strict=True))
              .rstrip() for line in cells]
    lines += ["", f"Verdict: {matrix.verdict.text}"]
    notes = failing_notes(matrix)
    if notes:
        lines += ["", "Root cause per failing endpoint:", *(f"  {n}" for n in notes)]
    lines += ["", f"Report generated {timestamp(generated_at(matrix))} · {command(matrix)}"]
    return "\n".join(lines) + "\n"


def print_matrix(matrix: EndpointMatrix, console: Console) -> None:
    """The matrix as a coloured table, its verdict and each failing endpoint's root cause."""
    table = Table(title=escape(f"Endpoint matrix: {subject(matrix)} (times in ms)"))
    for heading in grid(matrix)[0]:
        table.add_column(heading, justify="left" if heading == "endpoint" else "right")
    for row in matrix.rows:
        cells = [f"[red]{c.text}[/]" if c.error_kind else escape(c.text) for c in row.cells]
        word = result_word(row)
        result = f"[{'green' if row.works else 'bold red'}]{word}[/]"
        table.add_row(escape(row.endpoint), *cells, result)
    console.print(table)
    style = {0: "green", 1: "yellow"}.get(int(matrix.verdict.exit_code), "red")
    console.print(f"[bold {style}]Verdict:[/] {escape(matrix.verdict.text)}")
    for note in failing_notes(matrix):
        console.print(f"  • {note}", markup=False)


class TerminalFormatter(Formatter):
    name = OutputFormat.RICH
    suffix = ".txt"

    def format(self, report: ProbeReport) -> str:
        return plain_text(report)

    def show(self, report: ProbeReport, stream: TextIO) -> None:
        """Colours on a terminal (unless NO_COLOR), plain text anywhere else."""
        console = Console(file=stream, highlight=False, emoji=False)
        if styled(console):
            print_report(report, console)
        else:
            stream.write(plain_text(report))
        stream.flush()

    def format_matrix(self, matrix: EndpointMatrix) -> str:
        return plain_matrix_text(matrix)

    def show_matrix(self, matrix: EndpointMatrix, stream: TextIO) -> None:
        """A coloured table on a terminal (unless NO_COLOR), the plain text anywhere else."""
        console = Console(file=stream, highlight=False, emoji=False)
        if not styled(console):
            stream.write(plain_matrix_text(matrix))
            stream.flush()
            return
        print_matrix(matrix, console)
