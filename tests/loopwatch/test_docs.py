"""The Python snippets of docs/loopwatch.md run, and print what the page says they print."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.utils import MS

PAGE = Path(__file__).parents[2] / "docs" / "loopwatch.md"
SNIPPETS = re.findall(r"```python\n(.*?)```", PAGE.read_text(), re.S)


def test_the_page_has_both_snippets() -> None:
    assert len(SNIPPETS) == 2


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    ("index", "expected"),
    [
        (0, [r"^event loop blocked for \d+\.\d ms at .*bot\.py:9 in main \(time\.sleep\(\) "
             r"stops the whole event loop; use await asyncio\.sleep\(\.\.\.\)\)$",
             r"^max lag \d+ ms, p99 \d+ ms, \d+ heartbeats$"]),
        (1, [r"^WARNING binance_diag\.watchdog: event loop blocked for at least \d+\.\d ms "
             r"during connect at .*bot\.py:19 in main \(time\.sleep",
             r"^INFO binance_diag\.watchdog: event loop blocked for \d+\.\d ms during connect",
             r"^ALERT \d+ ms at .*bot\.py:19 in main \[time_sleep\]$",
             r"^1 blockage\(s\), max lag \d+ ms$"]),
    ],
)
def test_each_snippet_runs_and_prints_as_documented(
    index: int, expected: list[str], tmp_path: Path
) -> None:
    script = tmp_path / "bot.py"
    script.write_text(SNIPPETS[index])
    run = subprocess.run([sys.executable, "-u", str(script)], capture_output=True, text=True,
                         timeout=8000 * MS)
    assert run.returncode == 0, run.stderr
    lines = sorted((run.stdout + run.stderr).splitlines(), key=_documented_order(expected))
    assert len(lines) == len(expected), lines
    for line, pattern in zip(lines, expected, strict=True):
        assert re.search(pattern, line), (line, pattern)


def _documented_order(expected: list[str]) -> Callable[[str], int]:
    """stdout and stderr are captured apart: put each line where the page shows it."""
    def key(line: str) -> int:
        return next((n for n, p in enumerate(expected) if re.search(p, line)), len(expected))
    return key
