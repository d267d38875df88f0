"""Ctrl-C during a probe: exit 130 at once, one line saying so, no traceback, nothing left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
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
