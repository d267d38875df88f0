"""What every command's `--help` shares: `-h`, examples and exit codes in the epilog, and
arguments shown by their metavar (`SYMBOL...`), never by a Python type (`<list[str]>`).

Epilog paragraphs start with Click's `\\b` marker: kept line by line, not rewrapped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer
from typer.core import TyperArgument, TyperCommand

HELP_OPTIONS = {"help_option_names": ["-h", "--help"]}
"""Context settings for the app: `-h` is `--help`, in every command (Click inherits them)."""

EXIT_CODES = """\b
Exit codes:
  0  OK: every stage passed
  1  WARNING: passed, but degraded (a threshold, a blocked loop, a certificate expiring)
  2  CRITICAL: a stage failed or timed out
  3  UNKNOWN: could not run as asked (bad option, unreadable file); one line, no traceback
  130  interrupted (Ctrl-C)
  143  terminated (SIGTERM: a cancelled CI job, `timeout`)"""
"""The exit codes of a command that probes (DESIGN.md §5)."""

TOOL_EXIT_CODES = """\b
Exit codes:
  0  done
  3  UNKNOWN: could not run as asked (bad option, unreadable file); one line, no traceback
  130  interrupted (Ctrl-C)
  143  terminated (SIGTERM)"""
"""The exit codes of a command that lists, prints or serves, and probes nothing."""

SIMULATOR_EXIT_CODES = """\b
Exit codes:
  0  stopped by Ctrl-C or SIGTERM (its normal end), or --list printed
  3  UNKNOWN: could not run as asked (unknown fault, busy port); one line, no traceback"""
"""`simulate` runs until a signal stops it: that is success."""

PROGRAM_EXIT_CODE = """\b
Exit code: the program's own (128+N when it died of signal N)."""
"""`loopwatch`: the program it ran decides."""

EXIT_CODES_HEADINGS = ("\b\nExit codes:\n", "\b\nExit code: ")
"""How an exit-codes paragraph starts: `epilog` refuses any other, the help test looks for
them in every registered command."""


def epilog(*examples: str, exit_codes: str = EXIT_CODES) -> str:
    """`Examples:` (one command a line), the exit codes, where the docs are. A command
    registered without examples or exit codes is a mistake caught at import."""
    if not examples:
        raise ValueError("every command's help shows at least one example")
    if not exit_codes.startswith(EXIT_CODES_HEADINGS):
        raise ValueError(f"not an exit-codes paragraph: {exit_codes[:40]!r}")
    examples_text = "\b\nExamples:\n" + "\n".join(f"  {example}" for example in examples)
    return "\n\n".join((examples_text, exit_codes,
                        "Docs: docs/cli.md in the source distribution."))


def register(app: typer.Typer, function: Callable[..., None], *examples: str,
             exit_codes: str = EXIT_CODES) -> None:
    """Add a command to the app the one way: metavars (`Command`), examples, exit codes."""
    app.command(cls=Command, epilog=epilog(*examples, exit_codes=exit_codes))(function)


ROOT_EPILOG = epilog(
    "binance-diag probe BTCUSDT",
    "binance-diag probe BTCUSDT ETHUSDT --endpoint all",
    "binance-diag probe BTCUSDT -q --format junit --output probe.xml",
    "binance-diag demo",
    "binance-diag schema probe > probe.schema.json",
    "binance-diag --install-completion",
)


class _MetavarArgument(TyperArgument):
    """A positional argument as Click shows it: `SYMBOL...`, `[PROGRAM]...`, no type.

    Typer 0.28 draws it with `make_metavar` (`{SYMBOL}` in the usage line), 0.29 with the
    `_*_display_name` methods and a type (`SYMBOL <list[str]>`): both are overridden.
    """

    def shown_name(self) -> str:
        name = self.metavar or (self.name or "").upper()
        name = name if self.required else f"[{name}]"
        return f"{name}..." if self.nargs != 1 else name

    def make_metavar(self, ctx: Any = None, *, usage: bool = False) -> str:
        return self.shown_name()

    def display_type_rich(self, ctx: Any) -> str | None:
        return None

    def _usage_display_name(self) -> str:
        return self.shown_name()

    def _rich_display_name(self) -> str:
        return self.shown_name()


class Command(TyperCommand):
    """Every binance-diag command: its arguments shown by metavar (see `_MetavarArgument`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if type(param) is TyperArgument:
                param.__class__ = _MetavarArgument
