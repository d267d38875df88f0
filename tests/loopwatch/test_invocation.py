"""Which commands `binance-diag loopwatch` accepts, and what they run (loopwatch/command.py)."""

from __future__ import annotations

import pytest

from binance_diag.config.errors import ConfigError
from binance_diag.loopwatch.invocation import is_python_interpreter, parse_python_command


@pytest.mark.parametrize(
    ("argv", "runs"),
    [
        (["python", "bot.py", "-I", "--x"], "script bot.py"),
        (["/venv/bin/python3.11", "-u", "-B", "bot.py"], "script bot.py"),
        (["python3", "-m", "bot.main", "-S"], "module bot.main"),
        (["python", "-mbot"], "module bot"),
        (["python", "-uX", "dev", "-W", "error", "bot.py"], "script bot.py"),
        (["python", "-Xdev", "bot.py"], "script bot.py"),
        (["python", "--check-hash-based-pycs", "always", "bot.py"], "script bot.py"),
        (["pypy3", "-c", "import bot"], "code (-c)"),
        (["python", "-"], "stdin"),
        (["python", "--", "bot.py"], "script bot.py"),
        (["python", "-u"], "interactive"),
    ],
)
def test_python_commands_are_accepted_and_what_they_run_is_named(
    argv: list[str], runs: str
) -> None:
    command = parse_python_command(argv)
    assert command.argv == tuple(argv)
    assert command.runs == runs


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "no command to run"),
        (["node", "bot.js"], "'node' is not a Python interpreter"),
        (["./bot.py"], "'./bot.py' is not a Python interpreter"),
        (["python", "-I", "bot.py"], "-I (isolated mode)"),
        (["python", "-uE", "bot.py"], "-E ignores PYTHONPATH"),
        (["python", "-Ic", "print(1)"], "cannot attach; drop -I (from -Ic)"),
        (["python", "-S", "-m", "bot"], "-S skips the site module"),
        (["python", "-m"], "python -m needs a module name"),
    ],
)
def test_commands_loopwatch_cannot_attach_to_are_refused(argv: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_python_command(argv)


@pytest.mark.parametrize("name", ["python", "python3", "python3.11", "/x/bin/python3.13t",
                                  "PYTHON.EXE", "pypy3.10", "python3.12d"])
def test_interpreters_are_recognised_by_name(name: str) -> None:
    assert is_python_interpreter(name)


@pytest.mark.parametrize("name", ["uv", "poetry", "bash", "pythonista", "ipython", "bot.py"])
def test_other_programs_are_not_interpreters(name: str) -> None:
    assert not is_python_interpreter(name)


def test_the_code_of_dash_c_is_found_in_every_spelling() -> None:
    assert parse_python_command(["python", "-c", "print(1)"]).code == "print(1)"
    assert parse_python_command(["python", "-uc", "print(2)"]).code == "print(2)"
    assert parse_python_command(["python", "-cprint(3)"]).code == "print(3)"
    assert parse_python_command(["python", "bot.py"]).code is None
