"""commands/help.py and cli.py: `-h` everywhere, examples and exit codes in the epilog,
metavars instead of Python types, shell completion - as a user runs them."""

from __future__ import annotations

import re

import pytest

from tests.commands.helpers import run_cli

COMMANDS = ("probe", "endpoints", "simulate", "demo", "loopwatch", "serve", "schema")
PYTHON_TYPE = re.compile(r"<(list\[[^>]*\]|int|float|str|bool|path|file|dir|text|integer)>",
                         re.IGNORECASE)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_dash_h_is_help_and_shows_no_python_type(command: str) -> None:
    args = [command] if command else []
    short, long = run_cli(*args, "-h"), run_cli(*args, "--help")
    assert short.returncode == 0, short.stderr
    assert short.stdout == long.stdout
    assert short.stdout.startswith(f"Usage: binance-diag {command}".rstrip())
    assert re.search(r"Examples:\n +binance-diag", short.stdout), short.stdout
    assert not PYTHON_TYPE.search(short.stdout), PYTHON_TYPE.search(short.stdout)
    assert "{" not in short.stdout.splitlines()[0]  # typer's `{SYMBOL}...` usage


@pytest.mark.timeout(30)
def test_probe_help_shows_arguments_by_metavar_and_the_exit_codes() -> None:
    help_text = run_cli("probe", "-h").stdout
    assert help_text.splitlines()[0] == "Usage: binance-diag probe [OPTIONS] SYMBOL..."
    assert re.search(r"^  SYMBOL\.\.\. +Symbols", help_text, re.MULTILINE)
    assert "-q, --quiet" in help_text and "-v, --verbose" in help_text
    codes = help_text[help_text.index("Exit codes:"):]
    for line in ("  0  OK", "  1  WARNING", "  2  CRITICAL", "  3  UNKNOWN", "  130  ",
                 "  143  "):
        assert line in codes, line
    assert "binance-diag probe BTCUSDT -q --format junit --output probe.xml" in help_text


@pytest.mark.timeout(30)
def test_loopwatch_help_says_its_exit_code_is_the_programs() -> None:
    help_text = run_cli("loopwatch", "-h").stdout
    assert "[PROGRAM]..." in help_text.splitlines()[0]
    assert "Exit code: the program's own" in help_text
    assert "  3  UNKNOWN" not in help_text


@pytest.mark.timeout(30)
def test_completion_script_is_shown_for_bash() -> None:
    result = run_cli("--show-completion", "bash")
    assert result.returncode == 0, result.stderr
    assert "_binance_diag_completion()" in result.stdout
    assert "_BINANCE_DIAG_COMPLETE=complete_bash" in result.stdout


@pytest.mark.timeout(30)
@pytest.mark.parametrize(("words", "cword", "expected"), [
    ("binance-diag pro", 1, "probe"),
    ("binance-diag probe --verb", 2, "--verbose"),
    ("binance-diag schema lo", 2, "loopwatch"),
])
def test_completion_completes_commands_options_and_schema_names(
        words: str, cword: int, expected: str) -> None:
    result = run_cli(env={"_BINANCE_DIAG_COMPLETE": "complete_bash", "COMP_WORDS": words,
                          "COMP_CWORD": str(cword)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [expected]


@pytest.mark.timeout(30)
def test_version_fast_path_is_unaffected_by_completion() -> None:
    from binance_diag import __version__

    for flag in ("--version", "-V"):
        result = run_cli(flag)
        assert (result.returncode, result.stdout) == (0, f"binance-diag {__version__}\n")
