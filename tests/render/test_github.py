"""GitHub Actions: step summary and annotations."""

from __future__ import annotations

from pathlib import Path

from binance_diag.render.github import annotation, append_step_summary, escape_property
from tests.render.cases import CASES


def test_failure_is_an_error_annotation_naming_the_stage() -> None:
    line = annotation(CASES["tls_hang"]())
    assert line is not None
    assert line.startswith("::error title=binance-diag%3A tls failed::TLS handshake timed out "
                           "after 10.00 s: The TLS handshake to stream.binance.com:9443")
    assert "(tls.handshake_timeout)" in line
    assert "\n" not in line


def test_degraded_is_a_warning_and_healthy_is_silent() -> None:
    line = annotation(CASES["degraded"]())
    assert line is not None and line.startswith("::warning title=binance-diag%3A degraded::")
    assert annotation(CASES["healthy"]()) is None


def test_escaping() -> None:
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_summary_is_appended(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("previous step\n", encoding="utf-8")
    append_step_summary(summary, CASES["tls_hang"]())
    append_step_summary(summary, CASES["healthy"]())
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("previous step\n# Binance Stream Connectivity Report")
    assert text.count("# Binance Stream Connectivity Report") == 2
