"""diagnose/rules/tls.py: each TLS rule fires from its measurements; titles name the certificate."""

from __future__ import annotations

import pytest

from binance_diag.diagnose.rules import tls
from binance_diag.model import ErrorKind as K
from tests.diagnose.rules.cases import (
    CERTIFICATE,
    TLS,
    assert_rule_fires,
    make_report,
    rule_ids_of,
)


@pytest.mark.parametrize("rule_id", rule_ids_of(tls))
def test_rule_fires_from_measurements(rule_id: str) -> None:
    assert_rule_fires(rule_id)


def test_a_hostname_mismatch_title_names_the_certificate_names_not_its_dn() -> None:
    presented = {**CERTIFICATE, "subject": "CN=portal.example,O=Hotel", "sans": []}
    report = make_report(fail=TLS, kind=K.HOSTNAME_MISMATCH, extra={"presented": presented})
    assert report.findings[0].title.endswith("certificate for another name (portal.example)")
    with_sans = make_report(fail=TLS, kind=K.HOSTNAME_MISMATCH,
                            extra={"presented": {**presented, "sans": ["a.example", "b.example"]}})
    assert with_sans.findings[0].title.endswith("(a.example, b.example)")


def test_without_sni_a_silent_handshake_is_not_blamed_on_sni_filtering() -> None:
    report = make_report(endpoint="wss://127.0.0.1:9443", fail=TLS, kind=K.TIMEOUT,
                         message="ClientHello sent; no ServerHello in 5.00 s",
                         extra={"bytes_received": 0},
                         details={"sni": None, "bytes_received": 0})
    top = report.findings[0]
    assert top.id == "tls.silent_without_sni"
    assert "ClientHello sent without SNI: the host is an IP address" in top.evidence
    text = " ".join([top.title, top.hypothesis, *top.actions])
    assert "SNI filtering is ruled out" in text and "-noservername" in text
    assert "-servername" not in text

