"""Every `--format` value has a formatter for a report and a matrix, and the pure formats do
not import rich."""

from __future__ import annotations

import subprocess
import sys

import pytest

from binance_diag.commands.common import OutputFormat
from binance_diag.render.base import FORMATTERS, formatter_for
from tests.render.cases import healthy, mixed_matrix


def test_every_format_has_a_formatter_and_back() -> None:
    assert sorted(f.value for f in OutputFormat) == sorted(FORMATTERS)


@pytest.mark.parametrize("output_format", [f.value for f in OutputFormat])
def test_formatter_renders(output_format: str) -> None:
    formatter = formatter_for(output_format)
    assert formatter.name == output_format
    assert formatter.format(healthy()).endswith("\n")
    assert formatter.format_matrix(mixed_matrix()).endswith("\n")


def test_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown format"):
        formatter_for("yaml")


@pytest.mark.timeout(30)
def test_pure_formats_import_no_rich() -> None:
    code = (
        "import sys\n"
        "from binance_diag.render.base import formatter_for\n"
        "from binance_diag.diagnose import diagnose_report\n"
        "for name in ('markdown', 'json', 'junit', 'nagios'):\n"
        "    formatter_for(name)\n"
        "assert not [m for m in sys.modules if m.split('.')[0] in ('rich', 'asyncio')], "
        "sorted(m for m in sys.modules if m.startswith(('rich', 'asyncio')))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)
