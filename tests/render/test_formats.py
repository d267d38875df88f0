"""Every `--format` value has a formatter for a report and a matrix, and the pure formats do
not import rich."""

from __future__ import annotations

import subprocess
import sys

import pytest

from binance_diag.render.formats import FORMATTERS, OutputFormat, formatter_for
from tests.render.cases import healthy, mixed_matrix


def test_the_formats_a_user_can_ask_for() -> None:
    assert [f.value for f in OutputFormat] == ["rich", "markdown", "json", "junit", "nagios",
                                            "html"]
    assert OutputFormat("json") is OutputFormat.JSON


def test_every_format_has_a_formatter_and_back() -> None:
    assert list(FORMATTERS) == list(OutputFormat)


@pytest.mark.parametrize("output_format", list(OutputFormat))
def test_formatter_renders(output_format: OutputFormat) -> None:
    formatter = formatter_for(output_format)
    assert formatter.name is output_format
    assert formatter.format(healthy()).endswith("\n")
    assert formatter.format_matrix(mixed_matrix()).endswith("\n")


def test_only_the_formats_programs_parse_keep_stdout_to_themselves() -> None:
    parsed = {f for f in OutputFormat if formatter_for(f).for_programs}
    assert parsed == {OutputFormat.JSON, OutputFormat.JUNIT, OutputFormat.NAGIOS,
                      OutputFormat.HTML}


def test_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown format"):
        formatter_for("yaml")  # type: ignore[arg-type]


@pytest.mark.timeout(30)
def test_pure_formats_import_no_rich() -> None:
    code = (
        "import sys\n"
        "from binance_diag.render.formats import OutputFormat, formatter_for\n"
        "from binance_diag.diagnose import diagnose_report\n"
        "for name in ('markdown', 'json', 'junit', 'nagios', 'html'):\n"
        "    formatter_for(OutputFormat(name))\n"
        "assert not [m for m in sys.modules if m.split('.')[0] in ('rich', 'asyncio')], "
        "sorted(m for m in sys.modules if m.startswith(('rich', 'asyncio')))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)


@pytest.mark.timeout(30)
def test_the_cli_format_choice_imports_no_renderer() -> None:
    code = (
        "import sys\n"
        "import binance_diag\n"
        "before = set(sys.modules)\n"
        "import binance_diag.render.formats\n"
        "new = {m for m in set(sys.modules) - before if m.startswith(('binance_diag', 'rich'))}\n"
        "assert new == {'binance_diag.render', 'binance_diag.render.formats'}, new\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)
