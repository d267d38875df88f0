"""`binance-diag loopwatch` (commands/loopwatch.py): the program after --, and the report
format from --format or the --report file's suffix, checked before the program starts."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from binance_diag.commands.loopwatch import _report_format
from binance_diag.config.errors import ConfigError
from binance_diag.loopwatch.rendering import ReportFormat
from tests.commands.helpers import assert_one_error_line, run_cli


@pytest.mark.parametrize(
    ("name", "report", "expected"),
    [(None, None, ReportFormat.TEXT), (None, Path("r.JSON"), ReportFormat.JSON),
     (None, Path("r.md"), ReportFormat.MARKDOWN), (None, Path("r.txt"), ReportFormat.TEXT),
     ("Markdown", Path("r.json"), ReportFormat.MARKDOWN), ("json", Path("-"), ReportFormat.JSON)],
)
def test_the_report_format_comes_from_the_flag_then_the_suffix(
        name: str | None, report: Path | None, expected: ReportFormat) -> None:
    assert _report_format(name, report) is expected


def test_a_format_without_a_report_or_an_unknown_one_is_refused() -> None:
    with pytest.raises(ConfigError, match="--format needs --report FILE"):
        _report_format("json", None)
    with pytest.raises(ConfigError, match="--format 'xml': choose text, json or markdown"):
        _report_format("xml", Path("r.xml"))


@pytest.mark.timeout(30)
def test_a_program_not_after_double_dash_is_refused(tmp_path: Path) -> None:
    bot = tmp_path / "bot.py"
    bot.write_text("raise SystemExit('must not run')\n")
    result = run_cli("loopwatch", sys.executable, str(bot))
    assert_one_error_line(result, "put the program after --")


@pytest.mark.timeout(30)
def test_the_program_runs_and_its_report_is_written(tmp_path: Path) -> None:
    report = tmp_path / "loop.json"
    program = "import asyncio; asyncio.run(asyncio.sleep(0.01)); raise SystemExit(4)"
    result = run_cli("loopwatch", "--threshold", "500", "--report", str(report), "--",
                     sys.executable, "-c", program)
    assert result.returncode == 4, result.stderr  # the program's own exit code
    document = json.loads(report.read_text())
    assert isinstance(document, dict) and document
