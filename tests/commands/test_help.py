"""commands/help.py and cli.py: `-h` everywhere, examples and exit codes in the epilog,
metavars instead of Python types, shell completion - as a user runs them."""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer
from typer.core import TyperGroup

from binance_diag.cli import app
from binance_diag.commands.help import EXIT_CODES_HEADINGS, Command, epilog, register
from tests.commands.helpers import run_cli


def registered_commands(of: typer.Typer = app) -> dict[str, Any]:
    """Every command the app has, as Click sees it: not a list kept by hand."""
    group = typer.main.get_command(of)
    assert isinstance(group, TyperGroup)
    return dict(group.commands)


def help_problems(command: Any) -> list[str]:
    """What a command's help lacks: `register` (metavars), examples, exit codes."""
    problems = [] if isinstance(command, Command) else ["not registered with register()"]
    text = command.epilog or ""
    if not re.search(r"Examples:\n  binance-diag", text):
        problems.append("no examples")
    if not any(heading in text for heading in EXIT_CODES_HEADINGS):
        problems.append("no exit codes")
    return problems


COMMANDS = tuple(registered_commands())
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
@pytest.mark.parametrize("name", COMMANDS)
def test_every_registered_command_has_examples_exit_codes_and_metavars(name: str) -> None:
    assert help_problems(registered_commands()[name]) == [], name


@pytest.mark.timeout(30)
def test_the_walk_sees_the_late_commands() -> None:
    assert {"probe", "endpoints", "simulate", "demo", "loopwatch", "serve", "schema",
            "watch"} <= set(COMMANDS)


def late() -> None:
    """A command added late."""


@pytest.mark.timeout(30)
def test_a_command_added_the_old_way_fails_the_walk() -> None:
    bare = typer.Typer()
    bare.command(name="a")(late)
    bare.command(name="b", cls=Command, epilog="\\b\nExamples:\n  binance-diag b")(late)
    register(bare, late, "binance-diag c")  # named after the function
    found = {name: help_problems(command) for name, command in registered_commands(bare).items()}
    assert found == {"a": ["not registered with register()", "no examples", "no exit codes"],
                     "b": ["no exit codes"], "late": []}
    with pytest.raises(ValueError, match="example"):
        epilog()
    with pytest.raises(ValueError, match="exit-codes"):
        epilog("binance-diag x", exit_codes="Exit: whatever")


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
