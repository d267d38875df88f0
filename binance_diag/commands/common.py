"""What several commands share: the `--format` choice and the command line as typed."""

from __future__ import annotations

import sys
from enum import StrEnum


class OutputFormat(StrEnum):
    """`--format` values; binance_diag/render/base.py maps each to its formatter (tested)."""

    RICH = "rich"
    MARKDOWN = "markdown"
    JSON = "json"
    JUNIT = "junit"
    NAGIOS = "nagios"


def command_line() -> str:
    """The command as typed, for the report's "Report Generated" line."""
    import shlex

    return " ".join(["binance-diag", *(shlex.quote(a) for a in sys.argv[1:])])
