"""The `websockets` client example of docs/simulate.md, run as a user would run it against
`binance-diag simulate`: the doc cannot rot without this failing."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.simulate.running import cli_env, simulator

DOC = Path(__file__).parents[2] / "docs" / "simulate.md"
MARKER = "<!-- tested: tests/simulate/test_client_example.py runs this block against the " \
         "simulator -->"


def example_code() -> str:
    """The ```python block right after the marker."""
    match = re.search(re.escape(MARKER) + r"\n```python\n(.*?)\n```\n", DOC.read_text("utf-8"),
                      re.DOTALL)
    assert match is not None, f"no python block after the marker in {DOC}"
    return match.group(1)


def run_example(tmp_path: Path, fault: str) -> subprocess.CompletedProcess[str]:
    """client.py from the doc, with the `client` URL and `trust` file of the banner."""
    script = tmp_path / "client.py"
    script.write_text(example_code(), encoding="utf-8")
    with simulator("--fault", fault) as sim:
        url = sim.value("client").split()[0]
        cafile = sim.value("trust").split()[0]
        return subprocess.run([sys.executable, str(script), url, cafile], capture_output=True,
                              text=True, timeout=20, check=False, env=cli_env(), cwd=tmp_path)


@pytest.mark.timeout(30)
def test_example_prints_three_trades(tmp_path: Path) -> None:
    result = run_example(tmp_path, "healthy")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3, result.stdout
    for line in lines:
        symbol, price, quantity = line.split()
        assert symbol == "BTCUSDT" and float(price) > 0 and float(quantity) > 0


@pytest.mark.timeout(30)
def test_example_meets_a_close_frame(tmp_path: Path) -> None:
    """What the doc promises a bot author: the fault reaches their code as it would."""
    result = run_example(tmp_path, "close-1008")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "ConnectionClosedError" in result.stderr and "1008" in result.stderr
