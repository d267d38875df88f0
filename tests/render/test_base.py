"""render/base.py: what every output format provides. A minimal formatter shows what the
base class does with it; every registered formatter fills in what the base declares."""

from __future__ import annotations

import io
from typing import ClassVar

import pytest

from binance_diag.diagnose.matrix import EndpointMatrix
from binance_diag.model import ProbeReport
from binance_diag.render.base import Formatter
from binance_diag.render.formats import FORMATTERS, OutputFormat, formatter_for
from tests.render.cases import healthy, mixed_matrix


class Recording(io.StringIO):
    """A stdout that remembers what it held at each flush."""

    def __init__(self) -> None:
        super().__init__()
        self.flushed: list[str] = []

    def flush(self) -> None:
        self.flushed.append(self.getvalue())
        super().flush()


class Endpoints(Formatter):
    name: ClassVar[OutputFormat] = OutputFormat.MARKDOWN
    suffix: ClassVar[str] = ".txt"

    def format(self, report: ProbeReport) -> str:
        return f"report of {report.target.endpoint}: {report.status.value}\n"

    def format_matrix(self, matrix: EndpointMatrix) -> str:
        return f"{len(matrix.rows)} rows\n"


def test_a_formatter_must_render_a_report_and_a_matrix() -> None:
    class ReportOnly(Formatter):
        def format(self, report: ProbeReport) -> str:
            return ""

    with pytest.raises(TypeError, match="format_matrix"):
        ReportOnly()  # type: ignore[abstract]


def test_show_writes_the_formatted_report_and_flushes_it() -> None:
    stream = Recording()
    Endpoints().show(healthy(), stream)
    assert stream.getvalue() == "report of spot: ok\n"
    assert stream.flushed == ["report of spot: ok\n"]


def test_show_matrix_writes_the_formatted_matrix_and_flushes_it() -> None:
    stream, matrix = Recording(), mixed_matrix()
    Endpoints().show_matrix(matrix, stream)
    assert stream.getvalue() == f"{len(matrix.rows)} rows\n"
    assert stream.flushed == [stream.getvalue()]


def test_a_format_is_for_people_unless_it_says_otherwise() -> None:
    assert Formatter.for_programs is False
    assert Endpoints().for_programs is False


@pytest.mark.parametrize("output_format", list(FORMATTERS))
def test_every_registered_formatter_fills_in_what_the_base_declares(
        output_format: OutputFormat) -> None:
    formatter = formatter_for(output_format)
    assert isinstance(formatter, Formatter)
    assert formatter.name is output_format
    assert formatter.suffix.startswith(".") and len(formatter.suffix) > 1
    assert isinstance(formatter.for_programs, bool)
