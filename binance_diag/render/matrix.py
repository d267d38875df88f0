"""The endpoint matrix in every `--format`: a table of endpoint x stage, then the verdict.

Pure, except `show_matrix`, which takes the stream it writes to (a rich table on a terminal).
Each format reuses the single-report renderer where one exists: the JSON document embeds
each endpoint's `binance-diag/probe/1` report, JUnit has one testsuite per endpoint.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Any, TextIO

from ..diagnose.describe import total_ms
from ..diagnose.matrix import MATRIX_SCHEMA_ID, EndpointMatrix, MatrixRow
from ..model import Finding
from .json import report_to_dict, timestamp
from .junit import render_junit
from .markup import plain, to_markdown
from .nagios import STATES

COLUMN_GAP = "  "


def _generated(matrix: EndpointMatrix) -> datetime | None:
    return min((r.report.generated_at for r in matrix.rows), default=None)


def _command(matrix: EndpointMatrix) -> str:
    return matrix.rows[0].report.command if matrix.rows else ""


def _subject(matrix: EndpointMatrix) -> str:
    if not matrix.rows:
        return ""
    target = matrix.rows[0].report.target
    return f"{' '.join(target.symbols)} {target.stream}"


def _top(row: MatrixRow) -> Finding | None:
    return row.report.findings[0] if row.report.findings else None


def failing_notes(matrix: EndpointMatrix) -> list[str]:
    """The root-cause finding of each failing endpoint, as plain one-liners."""
    notes = []
    for row in matrix.rows:
        top = _top(row)
        if not row.works and top is not None:
            notes.append(f"{row.endpoint}: {plain(top.title)} [{top.id}]")
    return notes


def _grid(matrix: EndpointMatrix) -> list[list[str]]:
    header = ["endpoint", *(s.value for s in matrix.stages), "result"]
    body = [[row.endpoint, *(c.text for c in row.cells), "works" if row.works else "FAILS"]
            for row in matrix.rows]
    return [header, *body]


def render_matrix_text(matrix: EndpointMatrix) -> str:
    """Plain text: what `rich` shows when stdout is not a terminal, and `--output` gets."""
    grid = _grid(matrix)
    widths = [max(len(line[i]) for line in grid) for i in range(len(grid[0]))]
    lines = [f"binance-diag endpoint matrix: {_subject(matrix)}, {len(matrix.rows)} endpoints "
             "probed concurrently (times in ms)", ""]
    lines += [COLUMN_GAP.join(cell.ljust(w) for cell, w in zip(line, widths, strict=True))
              .rstrip() for line in grid]
    lines += ["", f"Verdict: {matrix.verdict.text}"]
    notes = failing_notes(matrix)
    if notes:
        lines += ["", "Root cause per failing endpoint:", *(f"  {n}" for n in notes)]
    lines += ["", f"Report generated {timestamp(_generated(matrix))} · {_command(matrix)}"]
    return "\n".join(lines) + "\n"


def show_matrix(matrix: EndpointMatrix, stream: TextIO) -> None:
    """A coloured table on a terminal (unless NO_COLOR), the plain text anywhere else."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from .terminal import styled

    console = Console(file=stream, highlight=False, emoji=False)
    if not styled(console):
        stream.write(render_matrix_text(matrix))
        stream.flush()
        return
    table = Table(title=escape(f"Endpoint matrix: {_subject(matrix)} (times in ms)"))
    for heading in _grid(matrix)[0]:
        table.add_column(heading, justify="left" if heading == "endpoint" else "right")
    for row in matrix.rows:
        cells = [f"[red]{c.text}[/]" if c.error_kind else escape(c.text) for c in row.cells]
        result = "[green]works[/]" if row.works else "[bold red]FAILS[/]"
        table.add_row(escape(row.endpoint), *cells, result)
    console.print(table)
    style = {0: "green", 1: "yellow"}.get(int(matrix.verdict.exit_code), "red")
    console.print(f"[bold {style}]Verdict:[/] {escape(matrix.verdict.text)}")
    for note in failing_notes(matrix):
        console.print(f"  • {note}", markup=False)


def render_matrix_markdown(matrix: EndpointMatrix) -> str:
    def row_line(cells: list[str]) -> str:
        return "| " + " | ".join(cells) + " |"

    grid = _grid(matrix)
    lines = [f"# Endpoint matrix: {to_markdown(_subject(matrix))}", "",
             f"**Verdict:** {to_markdown(matrix.verdict.text)}", "",
             "Times in ms; an error kind where a stage failed, `-` where it was not reached.",
             "", row_line(grid[0]), row_line(["---"] * len(grid[0]))]
    for line in grid[1:]:
        lines.append(row_line([f"`{line[0]}`", *line[1:]]))
    findings = [(row, _top(row)) for row in matrix.rows if not row.works]
    if findings:
        lines += ["", "## Root cause per failing endpoint", ""]
        for row, top in findings:
            if top is not None:
                lines.append(f"- `{row.endpoint}`: **{to_markdown(top.title)}** "
                             f"(`{top.id}`) — {to_markdown(top.hypothesis)}")
    lines += ["", f"*Report generated {timestamp(_generated(matrix))}:* `{_command(matrix)}`"]
    return "\n".join(lines) + "\n"


def matrix_to_dict(matrix: EndpointMatrix) -> dict[str, Any]:
    """The `binance-diag/matrix/1` document (docs/json-report.md, schema/matrix-1)."""
    verdict = matrix.verdict
    first = matrix.rows[0].report if matrix.rows else None
    return {
        "schema": MATRIX_SCHEMA_ID,
        "tool": {"name": "binance-diag", "version": first.tool_version if first else ""},
        "generated_at": timestamp(_generated(matrix)),
        "command": _command(matrix),
        "status": verdict.status.value,
        "exit_code": int(verdict.exit_code),
        "verdict": verdict.text,
        "working": list(verdict.working),
        "failing": list(verdict.failing),
        "stages": [s.value for s in matrix.stages],
        "endpoints": [_endpoint(row) for row in matrix.rows],
        "reports": [report_to_dict(row.report) for row in matrix.rows],
    }


def _endpoint(row: MatrixRow) -> dict[str, Any]:
    failed = row.report.failed_stage
    top = _top(row)
    return {
        "endpoint": row.endpoint,
        "url": row.url,
        "works": row.works,
        "status": row.report.status.value,
        "failed_stage": failed.name.value if failed else None,
        "error_kind": failed.error.kind.value if failed and failed.error else None,
        "root_cause": top.id if top is not None else None,
        "cells": {c.stage.value: {"status": c.status.value if c.status else None,
                                  "duration_ms": c.duration_ms,
                                  "error_kind": c.error_kind.value if c.error_kind else None,
                                  "text": c.text}
                  for c in row.cells},
    }


def render_matrix_json(matrix: EndpointMatrix) -> str:
    return json.dumps(matrix_to_dict(matrix), indent=2, ensure_ascii=False, default=str) + "\n"


def render_matrix_junit(matrix: EndpointMatrix) -> str:
    """One testsuite per endpoint (each exactly as `probe --format junit` renders it)."""
    suites = ET.Element("testsuites", name="binance-diag endpoint matrix")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    time = 0.0
    for row in matrix.rows:
        suite = ET.fromstring(render_junit(row.report)).find("testsuite")
        if suite is None:  # pragma: no cover - render_junit always writes one
            continue
        suite.set("name", row.endpoint if row.endpoint == row.url
                  else f"{row.endpoint} ({row.url})")
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
        time = max(time, float(suite.get("time", "0")))  # they ran concurrently
        suites.append(suite)
    for key, value in totals.items():
        suites.set(key, str(value))
    suites.set("time", f"{time:.3f}")
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") \
        + "\n"


def render_matrix_nagios(matrix: EndpointMatrix) -> str:
    """One line; the state word is the matrix's exit code; perfdata: each endpoint's total."""
    verdict = matrix.verdict
    text = " ".join(verdict.text.replace("|", "/").split())
    perf = []
    for row in matrix.rows:
        name = row.endpoint.replace("'", "").replace("=", "")
        value = f"{round(total_ms(row.report), 1):g}ms" if row.works else "U"
        limit = sum(s.timeout_s for s in row.report.stages) * 1000
        perf.append(f"'{name}'={value};;;0;{round(limit, 1):g}")
    return f"BINANCE-DIAG {STATES[verdict.exit_code]}: {text} | {' '.join(perf)}\n"


RENDERERS = {
    "rich": render_matrix_text,
    "markdown": render_matrix_markdown,
    "json": render_matrix_json,
    "junit": render_matrix_junit,
    "nagios": render_matrix_nagios,
}
"""`--format` value -> matrix renderer; the same set as render/base.py FORMATTERS (tested)."""


def render_matrix(matrix: EndpointMatrix, output_format: str) -> str:
    return RENDERERS[output_format](matrix)
