"""What every output format provides: one small base class, one module per format.

pip-audit's `_format/` pattern; each format renders a probe report and the endpoint matrix.
`formats.py` holds the `--format` enum and the table that picks a format's formatter.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, TextIO

from ..diagnose.matrix import EndpointMatrix
from ..figures.series import CountSummary
from ..model import ProbeReport


class Formatter(ABC):
    name: ClassVar[str]
    """Its `formats.OutputFormat` (a str): the table there imports this module, not back."""
    suffix: ClassVar[str]
    for_programs: ClassVar[bool] = False
    """Whether other programs parse it: then nothing else may be written to stdout with it."""

    @abstractmethod
    def format(self, report: ProbeReport) -> str:
        """The whole report as text, the same whether it goes to a file or a pipe."""

    @abstractmethod
    def format_matrix(self, matrix: EndpointMatrix) -> str:
        """The endpoint matrix as text (endpoint x stage, then the verdict), file or pipe."""

    def format_count(self, summary: CountSummary) -> str:
        """`probe --count N`: the runs' summary as text (plain lines unless a format has its
        own shape)."""
        return "\n".join(summary.text_lines()) + "\n"

    def show(self, report: ProbeReport, stream: TextIO) -> None:
        """Write the report for a person or a program reading `stream` (stdout)."""
        stream.write(self.format(report))
        stream.flush()

    def show_matrix(self, matrix: EndpointMatrix, stream: TextIO) -> None:
        """Write the endpoint matrix for a person or a program reading `stream` (stdout)."""
        stream.write(self.format_matrix(matrix))
        stream.flush()
