"""What every format shows of the endpoint matrix: its subject, its grid, the root causes.

Pure. The matrix counterpart of `view.py`: each format's module renders the matrix from these
helpers (the terminal and Markdown draw the grid, JSON and the terminal name the root cause).
"""

from __future__ import annotations

from datetime import datetime

from ..diagnose.matrix import EndpointMatrix, MatrixRow
from ..model import Finding
from .markup import plain


def generated_at(matrix: EndpointMatrix) -> datetime | None:
    """When the first of its reports was generated: the matrix's own time."""
    return min((r.report.generated_at for r in matrix.rows), default=None)


def command(matrix: EndpointMatrix) -> str:
    return matrix.rows[0].report.command if matrix.rows else ""


def subject(matrix: EndpointMatrix) -> str:
    """What was probed at every endpoint: `BTCUSDT aggTrade`."""
    if not matrix.rows:
        return ""
    target = matrix.rows[0].report.target
    return f"{' '.join(target.symbols)} {target.stream}"


def root_cause(row: MatrixRow) -> Finding | None:
    """The endpoint's top finding; none for a probe a signal stopped (its findings judged a
    run that had not ended)."""
    if row.interrupted_by is not None:
        return None
    return row.report.findings[0] if row.report.findings else None


def result_word(row: MatrixRow) -> str:
    """The matrix's last column: `works`, `FAILS`, or `INTERRUPTED` (it did not finish)."""
    if row.interrupted_by is not None:
        return "INTERRUPTED"
    return "works" if row.works else "FAILS"


def failing_notes(matrix: EndpointMatrix) -> list[str]:
    """The root-cause finding of each failing endpoint, as plain one-liners."""
    notes = []
    for row in matrix.rows:
        top = root_cause(row)
        if not row.works and top is not None:
            notes.append(f"{row.endpoint}: {plain(top.title)} [{top.id}]")
    return notes


def grid(matrix: EndpointMatrix) -> list[list[str]]:
    """The table of endpoint x stage as text cells, the header row first."""
    header = ["endpoint", *(s.value for s in matrix.stages), "result"]
    body = [[row.endpoint, *(c.text for c in row.cells), result_word(row)]
            for row in matrix.rows]
    return [header, *body]
