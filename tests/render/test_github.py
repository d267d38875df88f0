"""GitHub Actions annotations (the step summary: tests/run/test_deliver.py)."""

from __future__ import annotations

from binance_diag.diagnose.matrix import build_matrix
from binance_diag.model import StageName
from binance_diag.render.github import annotation, escape_property, matrix_annotation
from tests.render.cases import CASES
from tests.reports import make_report


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


def test_matrix_verdict_is_an_annotation_unless_every_endpoint_is_ok() -> None:
    failing = build_matrix([make_report(endpoint="spot", fail=StageName.TCP),
                            make_report(endpoint="spot-443", fail=StageName.TLS)])
    line = matrix_annotation(failing)
    assert line is not None
    assert line.startswith("::error title=binance-diag%3A endpoint matrix::")
    assert failing.verdict.text.split(":")[0] in line
    half = build_matrix([make_report(endpoint="spot", fail=StageName.TCP),
                         make_report(endpoint="spot-443")])
    assert (matrix_annotation(half) or "").startswith("::warning ")
    assert matrix_annotation(build_matrix([make_report(endpoint="spot"),
                                           make_report(endpoint="spot-443")])) is None
