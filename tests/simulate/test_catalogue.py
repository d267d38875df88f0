"""The catalogue as people read it: `simulate --list`, fault lookup, and the doc's table."""

from __future__ import annotations

from pathlib import Path

import pytest

from binance_diag.config.errors import ConfigError
from binance_diag.simulate.catalogue import (
    BEGIN,
    COMMAND,
    END,
    catalogue_lines,
    catalogue_markdown,
    lookup_fault,
    main,
    with_catalogue,
)
from binance_diag.simulate.faults import FAULTS
from tests.simulate.running import run_cli

DOC = Path(__file__).parents[2] / "docs" / "simulate.md"
ISSUE_FAULTS = [
    "healthy", "dns-nxdomain", "dns-timeout", "tcp-blackhole", "tls-hang",
    "tls-reset-after-hello", "tls-untrusted", "tls-expired", "tls-wrong-host", "http-451",
    "http-403", "http-429", "captive-portal", "upgrade-hang", "silent-stream", "close-1008",
    "wrong-payload", "slow-first-message", "trickle", "server-shutdown", "stall-after",
    "ping-timeout",
]  # fmt: skip
"""The faults the feature promised by name."""


def test_the_promised_faults_are_all_there() -> None:
    assert [name for name in ISSUE_FAULTS if name not in FAULTS] == []


def test_list_is_one_aligned_line_per_fault() -> None:
    lines = catalogue_lines()
    assert [line.split()[0] for line in lines] == list(FAULTS)
    outcome_column = {line.index(f.expectation, len(f.name)) for line, f
                      in zip(lines, FAULTS.values(), strict=True)}
    assert len(outcome_column) == 1  # aligned, whatever the name lengths
    for line, fault in zip(lines, FAULTS.values(), strict=True):
        assert line.endswith(fault.description)
    assert lines[0].split()[:2] == ["healthy", "passes"]
    tls_hang = lines[list(FAULTS).index("tls-hang")]
    assert tls_hang.split()[:2] == ["tls-hang", "tls/timeout"]


def test_simulate_list_prints_the_catalogue() -> None:
    result = run_cli("simulate", "--list")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == catalogue_lines()
    assert result.stderr == ""


@pytest.mark.parametrize("name", ["tls-hang", " TLS-Hang ", "healthy"])
def test_lookup_finds_a_fault(name: str) -> None:
    assert lookup_fault(name) is FAULTS[name.strip().lower()]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("tls-hng", "unknown fault 'tls-hng': did you mean tls-hang"),
        ("http-452", "did you mean http-451"),
        ("dns-timout", "did you mean dns-timeout"),
        ("zzz", "unknown fault 'zzz': see `binance-diag simulate --list`"),
    ],
)
def test_lookup_suggests_the_closest_names(name: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        lookup_fault(name)
    text = str(raised.value)
    assert message in text
    assert "\n" not in text


def test_markdown_table_has_one_row_per_fault() -> None:
    table = catalogue_markdown()
    assert table.startswith(BEGIN) and table.endswith(END)
    assert COMMAND in table
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == list(FAULTS)
    assert "| `tls-hang` | `tls/timeout` |" in table
    assert "| `healthy` | passes |" in table
    assert all(row.count(" | ") == 3 for row in rows)  # a "|" in a note is escaped


def test_docs_table_is_current() -> None:
    """After editing faults.py, run the COMMAND this module names; this fails until then."""
    document = DOC.read_text(encoding="utf-8")
    assert with_catalogue(document) == document, f"stale table: run `{COMMAND}`"


def test_regenerating_rewrites_only_between_the_markers(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(f"# Title\n\n{BEGIN}\nold table\n{END}\n\nAfter.\n", encoding="utf-8")
    assert main([str(page)]) == 0
    text = page.read_text(encoding="utf-8")
    assert text == f"# Title\n\n{catalogue_markdown()}\n\nAfter.\n"
    assert main([str(page)]) == 0 and page.read_text(encoding="utf-8") == text  # idempotent
    page.write_text("no markers here\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no <!-- fault catalogue: begin -->"):
        main([str(page)])
    assert main([]) == 2
