"""What every output format provides, and the registry `--format` chooses from.

pip-audit's `_format/` pattern: one small base, one module per format, each rendering a probe
report and the endpoint matrix. Modules are imported only when their format is asked for, so
`--format json` never imports rich.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from typing import ClassVar, TextIO

from ..diagnose.matrix import EndpointMatrix
from ..model import ProbeReport

FORMATTERS = {
    "rich": "binance_diag.render.terminal:TerminalFormatter",
    "markdown": "binance_diag.render.markdown:MarkdownFormatter",
    "json": "binance_diag.render.json:JsonFormatter",
    "junit": "binance_diag.render.junit:JunitFormatter",
    "nagios": "binance_diag.render.nagios:NagiosFormatter",
}
"""`--format` value -> "module:class"; commands/common.py OutputFormat lists the same (tested)."""

MACHINE_FORMATS = frozenset({"json", "junit", "nagios"})
"""Formats other programs parse: nothing else may be written to stdout with them."""


class Formatter(ABC):
    name: ClassVar[str]
    suffix: ClassVar[str]

    @abstractmethod
    def format(self, report: ProbeReport) -> str:
        """The whole report as text, the same whether it goes to a file or a pipe."""

    @abstractmethod
    def format_matrix(self, matrix: EndpointMatrix) -> str:
        """The endpoint matrix as text (endpoint x stage, then the verdict), file or pipe."""

    def show(self, report: ProbeReport, stream: TextIO) -> None:
        """Write the report for a person or a program reading `stream` (stdout)."""
        stream.write(self.format(report))
        stream.flush()

    def show_matrix(self, matrix: EndpointMatrix, stream: TextIO) -> None:
        """Write the endpoint matrix for a person or a program reading `stream` (stdout)."""
        stream.write(self.format_matrix(matrix))
        stream.flush()


def formatter_for(name: str) -> Formatter:
    try:
        module_name, _, class_name = FORMATTERS[name].partition(":")
    except KeyError:
        raise ValueError(f"unknown format {name!r}: {', '.join(FORMATTERS)}") from None
    formatter_class: type[Formatter] = getattr(importlib.import_module(module_name), class_name)
    return formatter_class()
