"""The `--format` choice: one enum of the output formats and the one table of their formatters.

pip-audit's pattern: a `--format` enum, and a test that every value has a formatter. A format's
module is imported only when that format is asked for (by module path, below), so
`--format json` never imports rich; this module itself imports nothing heavy, for the CLI.
"""

from __future__ import annotations

import importlib
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .base import Formatter


class OutputFormat(StrEnum):
    """`--format` values (`rich`: coloured on a terminal, plain text anywhere else)."""

    RICH = "rich"
    MARKDOWN = "markdown"
    JSON = "json"
    JUNIT = "junit"
    NAGIOS = "nagios"
    HTML = "html"


FORMATTERS: dict[OutputFormat, str] = {
    OutputFormat.RICH: "binance_diag.render.terminal:TerminalFormatter",
    OutputFormat.MARKDOWN: "binance_diag.render.markdown:MarkdownFormatter",
    OutputFormat.JSON: "binance_diag.render.json:JsonFormatter",
    OutputFormat.JUNIT: "binance_diag.render.junit:JunitFormatter",
    OutputFormat.NAGIOS: "binance_diag.render.nagios:NagiosFormatter",
    OutputFormat.HTML: "binance_diag.render.html:HtmlFormatter",
}
"""Format -> "module:class" of its formatter, imported on first use."""


def formatter_for(output_format: OutputFormat) -> Formatter:
    try:
        module_name, _, class_name = FORMATTERS[output_format].partition(":")
    except KeyError:
        raise ValueError(f"unknown format {output_format!r}: "
                         f"{', '.join(FORMATTERS)}") from None
    formatter_class: type[Formatter] = getattr(importlib.import_module(module_name), class_name)
    return formatter_class()
