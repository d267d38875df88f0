"""Ctrl-C during a probe: exit 130 at once, one line saying so, no traceback, nothing left."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from tests.utils import MS


@pytest.mark.timeout(20)
def test_ctrl_c_during_a_hanging_stage_exits_130_with_one_line() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "binance_diag", "demo", "--fault", "tls-hang", "--timeout", "10"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"},
    )
    try:
        assert process.stderr is not None
        banner = process.stderr.readline()  # the demo says what it probes, then the TLS wait
        assert banner.startswith("binance-diag demo:"), banner
        # The banner comes before the probe starts: leave it time to reach the TLS wait.
        time.sleep(500 * MS)
        interrupted = time.perf_counter()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=5000 * MS)
        took = time.perf_counter() - interrupted
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130
    assert took < 2000 * MS, f"{took:.2f} s to stop"
    assert err.strip().splitlines()[-1] == "binance-diag: interrupted"
    assert "Traceback" not in err
    # The partial report: the TLS stage was running when Ctrl-C came.
    assert "SIGINT received" in out, out


@pytest.mark.timeout(20)
def test_ctrl_c_while_the_cli_is_still_importing_exits_130_with_one_line() -> None:
    # Ctrl-C lands during `import typer` (deterministically: that import raises it).
    code = (
        "import builtins, sys\n"
        "real = builtins.__import__\n"
        "def interrupted(name, *args, **kwargs):\n"
        "    if name == 'typer':\n"
        "        raise KeyboardInterrupt\n"
        "    return real(name, *args, **kwargs)\n"
        "builtins.__import__ = interrupted\n"
        "sys.argv = ['binance-diag', 'probe', 'BTCUSDT']\n"
        "from binance_diag.entry import main\n"
        "main()\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=15, check=False)
    assert result.returncode == 130
    assert result.stderr == "binance-diag: interrupted\n"
    assert result.stdout == ""


@pytest.mark.timeout(20)
def test_sigterm_unwinds_the_demo_and_removes_its_certificates(tmp_path: object) -> None:
    from pathlib import Path

    temp = Path(str(tmp_path))
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_STEP_SUMMARY"}
    env["TMPDIR"] = str(temp)
    process = subprocess.Popen(
        [sys.executable, "-m", "binance_diag", "demo", "--fault", "tls-hang", "--timeout", "10"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stderr is not None
        banner = process.stderr.readline()
        assert banner.startswith("binance-diag demo:"), banner
        assert list(temp.glob("bdiag-*")), "the demo's CA directory exists while it runs"
        time.sleep(300 * MS)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=5000 * MS)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 143
    assert err.rstrip().endswith("binance-diag: terminated")
    assert "Traceback" not in err
    assert not list(temp.glob("bdiag-*")), "SIGTERM must not leave the CA behind"


# -- StopSignals in this process: the handler cancels the run instead of raising ----------


@pytest.mark.timeout(10)
def test_a_signal_cancels_the_run_and_the_partial_result_is_returned() -> None:
    from binance_diag.run.interrupt import StopSignals, until_stopped

    seen: list[int] = []
    escalated: list[int] = []
    closed: list[str] = []

    async def stage() -> str:
        try:
            signal.raise_signal(signal.SIGINT)  # raises nothing: it schedules a cancel
            await asyncio.sleep(5)
            return "finished"
        finally:
            closed.append("sockets closed")

    previous = signal.getsignal(signal.SIGINT)
    with StopSignals(escalate=escalated.append, on_signal=seen.append,
                     patience=5000 * MS) as stop:
        assert signal.getsignal(signal.SIGINT) != previous
        result = asyncio.run(until_stopped(stage(), stop, lambda name: f"partial: {name}"))
    assert signal.getsignal(signal.SIGINT) == previous  # restored
    assert result == "partial: SIGINT" and closed == ["sockets closed"]
    assert seen == [signal.SIGINT] and escalated == []
    assert stop.exit_code == 130 and stop.last_line == "binance-diag: interrupted"
    with pytest.raises(KeyboardInterrupt):
        stop.reraise()


@pytest.mark.timeout(10)
def test_a_loop_that_cannot_unwind_is_escalated_after_its_patience() -> None:
    from binance_diag.run.interrupt import StopSignals, until_stopped

    escalated = threading.Event()
    which: list[int] = []

    def escalate(signum: int) -> None:
        which.append(signum)
        escalated.set()

    async def blocked() -> str:
        signal.raise_signal(signal.SIGTERM)
        escalated.wait(5)  # a blocking call: the cancellation cannot run meanwhile
        return "finished"

    with StopSignals(escalate=escalate, patience=100 * MS) as stop:
        started = time.perf_counter()
        result = asyncio.run(until_stopped(blocked(), stop, lambda name: name))
        took = time.perf_counter() - started
    assert which == [signal.SIGTERM] and took < 2000 * MS
    assert result == "finished"  # it returned before the cancel could land
    assert stop.exit_code == 143
    with pytest.raises(SystemExit) as exit_info:
        stop.reraise()
    assert exit_info.value.code == 143


def test_no_signal_no_exit_code() -> None:
    from binance_diag.run.interrupt import StopSignals

    with StopSignals() as stop:
        pass
    assert stop.exit_code is None and stop.last_line is None
    assert stop.signal_name == "a signal"
    stop.reraise()  # nothing to re-raise
