"""What `binance-diag loopwatch -- python ...` is asked to run, checked before anything starts.

Pure. The command must be a Python interpreter invocation, because the watchdog is injected
through Python's own start-up (`sitecustomize` on PYTHONPATH): the options that switch that
off (`-I`, `-E`, `-S`) are refused rather than silently leaving the program unwatched.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..config.errors import ConfigError

USAGE = "binance-diag loopwatch [OPTIONS] -- python bot.py [ARGS]"

_INTERPRETER_RE = re.compile(r"(?:python|pypy)(?:\d+(?:\.\d+)*)?[dmt]?(?:\.exe)?", re.I)
_WITH_VALUE = frozenset("cmWX")
"""Short options whose value follows (`-c CODE`, `-m MODULE`, `-W ARG`, `-X OPT`)."""
_BLINDING = {
    "I": "-I (isolated mode) ignores PYTHONPATH and site customisation",
    "E": "-E ignores PYTHONPATH",
    "S": "-S skips the site module, so sitecustomize never runs",
}


@dataclass(frozen=True)
class PythonCommand:
    """A checked interpreter invocation and what it runs, for the report."""

    argv: tuple[str, ...]
    runs: str
    """`script bot.py`, `module bot`, `code (-c)`, `stdin` or `interactive`."""
    code: str | None = None
    """The program text of `-c`: the agent shows its lines (and traps) in stacks."""


def parse_python_command(argv: Sequence[str]) -> PythonCommand:
    """Check that `argv` starts a Python program the agent can attach to."""
    if not argv:
        raise ConfigError(f"no command to run: {USAGE}")
    program = argv[0]
    if not is_python_interpreter(program):
        raise ConfigError(
            f"{program!r} is not a Python interpreter: loopwatch runs a Python program "
            f"(python, python3.12, .venv/bin/python ...): {USAGE}"
        )
    index = 1
    while index < len(argv):
        arg = argv[index]
        if arg == "-":
            return PythonCommand(tuple(argv), "stdin")
        if arg == "--":
            return _script(argv, index + 1)
        if arg.startswith("--"):
            index += 2 if arg == "--check-hash-based-pycs" else 1
            continue
        if not arg.startswith("-"):
            return _script(argv, index)
        for position, letter in enumerate(arg[1:], start=1):
            if letter in _BLINDING:
                flag = f"-{letter}"
                where = "" if arg == flag else f" (from {arg})"
                raise ConfigError(f"{_BLINDING[letter]}: loopwatch cannot attach; drop "
                                  f"{flag}{where}")
            if letter in _WITH_VALUE:
                value = arg[position + 1 :]
                if not value and index + 1 < len(argv):
                    value = argv[index + 1]
                if letter == "c":
                    return PythonCommand(tuple(argv), "code (-c)", code=value)
                if letter == "m":
                    if not value:
                        raise ConfigError(f"python -m needs a module name: {USAGE}")
                    return PythonCommand(tuple(argv), f"module {value}")
                index += 0 if arg[position + 1 :] else 1
                break
        index += 1
    return PythonCommand(tuple(argv), "interactive")


def is_python_interpreter(program: str) -> bool:
    """`python`, `python3.11`, `/venv/bin/python3`, `pypy3` (by name: a venv's is a symlink)."""
    return _INTERPRETER_RE.fullmatch(os.path.basename(program)) is not None


def _script(argv: Sequence[str], index: int) -> PythonCommand:
    if index >= len(argv):
        return PythonCommand(tuple(argv), "interactive")
    return PythonCommand(tuple(argv), f"script {argv[index]}")
