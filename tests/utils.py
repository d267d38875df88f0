"""Shared test helpers.

Every time a test waits is a multiple of `MS`, so a slow CI machine can scale them all with
BINANCE_DIAG_TEST_MS (websockets' tests/utils.py trick) instead of flaking.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

MS = float(os.environ.get("BINANCE_DIAG_TEST_MS", "1")) / 1000
ROOT = Path(__file__).resolve().parents[1]


def run_python(code: str, timeout: float) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run `code` in a fresh interpreter from the repository root; (result, wall seconds)."""
    started = time.perf_counter()
    process = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return process, time.perf_counter() - started


def ipv6_loopback() -> bool:
    """Whether ::1 can be bound here (some containers have no IPv6 at all)."""
    import socket

    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True
