"""probe/experiments/base.py: an attempt as evidence and in words; a plan not run."""

from __future__ import annotations

import pytest

from binance_diag.probe.experiments.base import Planned, attempt_details, not_run, said
from binance_diag.probe.experiments.catalogue import SNI_VARIANTS, SPECS
from binance_diag.probe.experiments.shell import Attempt


@pytest.mark.parametrize(("attempt", "words"), [
    (Attempt("handshake_ok", "TLSv1.3 TLS_AES_128_GCM_SHA256"),
     "handshake completed (TLSv1.3 TLS_AES_128_GCM_SHA256)"),
    (Attempt("alert", "TLSV1_ALERT_INTERNAL_ERROR"), "refused with a TLS alert "
                                                     "(TLSV1_ALERT_INTERNAL_ERROR)"),
    (Attempt("silent", elapsed_ms=1234.0), "no answer in 1.23 s"),
    (Attempt("reset", "connection reset by peer"), "reset"),
    (Attempt("tunnel_failed", "HTTP 403"), "the proxy refused the tunnel"),
    (Attempt("something_new"), "something_new"),
])
def test_said(attempt: Attempt, words: str) -> None:
    assert said(attempt) == words


def test_attempt_details_carry_the_mss_only_when_asked() -> None:
    plain = attempt_details("SNI x", Attempt("silent", "d", 0, 1.5, 1000.0))
    assert plain == {"attempt": "SNI x", "outcome": "silent", "detail": "d",
                     "bytes_received": 0, "connect_ms": 1.5, "elapsed_ms": 1000.0}
    small = attempt_details("MSS 536", Attempt("handshake_ok", mss=536))
    assert small["mss"] == 536


def test_not_run_has_no_run_and_the_catalogue_question() -> None:
    planned = not_run(SNI_VARIANTS, "hellos", "not run: no name")
    assert planned.run is None and planned.reason == "not run: no name"
    assert planned.question == SPECS[SNI_VARIANTS].question
    assert Planned(SNI_VARIANTS, "x").reason == ""
