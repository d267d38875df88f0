"""probe/experiments/shell.py: the contexts a ClientHello variant is sent with."""

from __future__ import annotations

import ssl

from binance_diag.probe.experiments.shell import Hello, hello_context


def test_a_variant_that_only_asks_for_an_answer_loads_no_trust_store() -> None:
    # Loading the system CA store blocks the event loop for 100+ ms per variant: an
    # unverified context must not (it would be reported as the user's blocked loop).
    context = hello_context(Hello("example.com", alpn=(), tls12_only=True, verify=False),
                            None)
    assert context.cert_store_stats()["x509_ca"] == 0
    assert context.verify_mode is ssl.CERT_NONE and not context.check_hostname
    assert context.maximum_version is ssl.TLSVersion.TLSv1_2


def test_a_verifying_variant_uses_the_runs_own_trust() -> None:
    trusted = ssl.create_default_context()
    assert hello_context(Hello("example.com"), trusted) is trusted
