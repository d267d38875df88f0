"""What every format shows of the endpoint matrix: subject, grid, root cause per endpoint."""

from __future__ import annotations

from binance_diag.diagnose.matrix import build_matrix
from binance_diag.render.matrix_view import (
    command,
    failing_notes,
    generated_at,
    grid,
    root_cause,
    subject,
)
from tests.render.cases import mixed_matrix
from tests.reports import AT


def test_grid_has_a_header_then_one_row_per_endpoint() -> None:
    cells = grid(mixed_matrix())
    assert cells[0] == ["endpoint", "dns", "tcp", "tls", "ws_upgrade", "first_message",
                        "result"]
    assert cells[1] == ["spot", "23.4", "timeout", "-", "-", "-", "FAILS"]
    assert cells[2][0] == "spot-443" and cells[2][-1] == "works"


def test_subject_time_and_command_come_from_the_reports() -> None:
    matrix = mixed_matrix()
    assert subject(matrix) == "BTCUSDT aggTrade"
    assert generated_at(matrix) == AT
    assert command(matrix) == matrix.rows[0].report.command


def test_root_cause_is_the_first_finding_and_noted_for_failing_endpoints_only() -> None:
    matrix = mixed_matrix()
    top = root_cause(matrix.rows[0])
    assert top is not None and top.id == "tcp.port_blocked"
    notes = failing_notes(matrix)
    assert len(notes) == 1
    assert notes[0].startswith("spot: ") and notes[0].endswith("[tcp.port_blocked]")


def test_an_empty_matrix_has_a_header_and_nothing_else() -> None:
    matrix = build_matrix([])
    assert grid(matrix) == [["endpoint", "result"]]
    assert (subject(matrix), command(matrix), generated_at(matrix)) == ("", "", None)
    assert failing_notes(matrix) == []
