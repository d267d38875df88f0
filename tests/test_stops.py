"""How a signal ends a run (binance_diag/stops.py): the code, the one line, and when."""

from __future__ import annotations

import subprocess
import sys

import pytest

from binance_diag.stops import INTERRUPTED, STOP_LINES, TERMINATED
from tests.utils import MS


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=10000 * MS, check=False)


def test_each_stop_has_the_shells_code_and_one_line() -> None:
    assert (INTERRUPTED, TERMINATED) == (128 + 2, 128 + 15)
    assert STOP_LINES == {130: "binance-diag: interrupted", 143: "binance-diag: terminated"}


@pytest.mark.parametrize(("signame", "code"), [("SIGINT", 130), ("SIGTERM", 143)])
def test_before_a_command_starts_a_signal_exits_at_once(signame: str, code: int) -> None:
    run = _run("import os, signal, time\n"
               "from binance_diag.stops import exit_on_stop_signals\n"
               "exit_on_stop_signals()\n"
               f"os.kill(os.getpid(), signal.{signame})\n"
               "time.sleep(5)\n"
               "print('not reached')\n")
    assert run.returncode == code
    assert run.stderr == STOP_LINES[code] + "\n" and "not reached" not in run.stdout


def test_once_unwinding_sigterm_raises_so_cleanup_runs() -> None:
    run = _run("import os, signal, time\n"
               "from binance_diag.stops import unwind_on_stop_signals\n"
               "unwind_on_stop_signals()\n"
               "try:\n"
               "    os.kill(os.getpid(), signal.SIGTERM)\n"
               "    time.sleep(5)\n"
               "finally:\n"
               "    print('cleaned up')\n")
    assert run.returncode == 143 and run.stdout == "cleaned up\n"
