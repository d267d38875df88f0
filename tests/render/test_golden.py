"""Golden files: every format, on a healthy report and several failures.

Regenerate after an intended change with `BINANCE_DIAG_UPDATE_GOLDEN=1 pytest tests/render`,
then review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from binance_diag.render.formats import FORMATTERS, OutputFormat, formatter_for
from tests.render.cases import CASES

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("BINANCE_DIAG_UPDATE_GOLDEN") == "1"
EXTENSIONS = {OutputFormat.RICH: "txt", OutputFormat.MARKDOWN: "md", OutputFormat.JSON: "json",
              OutputFormat.JUNIT: "xml", OutputFormat.NAGIOS: "nagios",
              OutputFormat.HTML: "html"}


@pytest.fixture(autouse=True)
def _same_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """JUnit names the machine that ran the probe: one name, whichever machine runs this."""
    monkeypatch.setattr("binance_diag.render.junit.machine_name", lambda: "probe-host")


@pytest.mark.parametrize("output_format", list(FORMATTERS))
@pytest.mark.parametrize("case", list(CASES))
def test_golden(case: str, output_format: OutputFormat) -> None:
    text = formatter_for(output_format).format(CASES[case]())
    path = GOLDEN / f"{case}.{EXTENSIONS[output_format]}"
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing {path}: run with BINANCE_DIAG_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), (
        f"{path.name} differs: if intended, regenerate with BINANCE_DIAG_UPDATE_GOLDEN=1")


def test_no_stale_golden_files() -> None:
    expected = {f"{c}.{e}" for c in CASES for e in EXTENSIONS.values()}
    assert {p.name for p in GOLDEN.iterdir()} == expected
