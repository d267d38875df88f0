"""docs/findings.md is generated from the rule table and must not go stale."""

from __future__ import annotations

from pathlib import Path

from binance_diag.diagnose import RULES
from binance_diag.diagnose.findings_doc import COMMAND, render_catalog

FINDINGS_MD = Path(__file__).resolve().parents[2] / "docs" / "findings.md"


def test_docs_findings_md_is_up_to_date() -> None:
    assert FINDINGS_MD.read_text(encoding="utf-8") == render_catalog(), (
        f"docs/findings.md is stale: run `{COMMAND}`")


def test_catalog_lists_every_rule_with_placeholders() -> None:
    text = render_catalog()
    for rule in RULES:
        assert f"## `{rule.id}`" in text
    assert "<symbols>" in text and "{" not in text.replace("{{", "")


def test_dropped_options_read_as_words_in_the_docs() -> None:
    text = render_catalog()
    assert "!-4" not in text
    assert "`binance-diag probe <symbols> <options> (without -4 / -6)`" in text


def test_every_finding_that_names_alternatives_says_what_separates_them() -> None:
    from binance_diag.diagnose.findings_doc import names_alternatives

    text = render_catalog()
    for rule in RULES:
        section = text.split(f"## `{rule.id}`", 1)[1].split("\n## ", 1)[0]
        if rule.separated_by:
            for name in rule.separated_by:
                assert f"[`{name}`](experiments.md#" in section, rule.id
        elif names_alternatives(rule):
            assert "- Separated by experiment: none" in section, rule.id
    # The experiments the rules name are the ones the probe can run (and documents).
    from binance_diag.probe.experiments.catalogue import SPECS

    assert {n for r in RULES for n in r.separated_by} <= set(SPECS)
