"""Running the CLI as a user does: a subprocess, no proxy variables, exit 3 checked."""

from __future__ import annotations

import os
import socket
import subprocess
import sys


def run_cli(
    *args: str, timeout: float = 30, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the CLI with no proxy variables from the caller's environment, unless given."""
    clean = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    return subprocess.run(
        [sys.executable, "-m", "binance_diag", *args],
        capture_output=True, text=True, timeout=timeout, check=False, env={**clean, **(env or {})},
    )


def closed_loopback_port() -> int:
    """A loopback port with nothing listening: connecting to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def assert_one_error_line(result: subprocess.CompletedProcess[str], message: str) -> None:
    """DESIGN.md §5: exit 3, one `binance-diag: error:` line on stderr, no traceback."""
    assert result.returncode == 3, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("binance-diag: error: ") and message in lines[0], lines[0]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
