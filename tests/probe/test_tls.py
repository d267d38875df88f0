"""The tls stage (probe/tls.py), called directly over a real TCP connection to the simulator:
every outcome classified with its evidence, and the certificate described as a person reads it."""

from __future__ import annotations

import ssl
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509

from binance_diag.model import ErrorKind, StageStatus
from binance_diag.probe.dns import resolve_addresses
from binance_diag.probe.tcp import connect_tcp
from binance_diag.probe.tls import describe_certificate, handshake_tls, make_context
from binance_diag.simulate.certs import CertificateAuthority, CertKind
from binance_diag.simulate.scenario import start_fault
from binance_diag.timing import format_seconds
from tests.probe.helpers import FAST, config_for, probe, run_stages
from tests.utils import MS

TO_TLS = (resolve_addresses, connect_tcp, handshake_tls)


def test_a_healthy_handshake_records_what_was_negotiated(certs: CertificateAuthority) -> None:
    with start_fault("healthy", certs=certs) as scenario:
        config = config_for(scenario)
        chain = run_stages(config, TO_TLS)
    tls = chain.last
    assert tls.status is StageStatus.OK, tls.error
    assert tls.details["sni"] == "stream.binance.com"
    assert tls.details["alpn"] == "http/1.1" and tls.details["alpn_offered"] == ["http/1.1"]
    assert tls.details["trust"] == str(scenario.ca_bundle)
    assert tls.details["version"] in ("TLSv1.2", "TLSv1.3") and tls.details["cipher"]
    assert "stream.binance.com" in tls.details["certificate"]["sans"]
    assert "TLS ClientHello sent (SNI stream.binance.com)" in chain.events
    assert any(e.startswith(f"TLS established: {tls.details['version']}") for e in chain.events)


@pytest.mark.parametrize(
    ("fault", "kind", "code"),
    [("tls-expired", ErrorKind.CERT_EXPIRED, 10),
     ("tls-not-yet-valid", ErrorKind.CERT_NOT_YET_VALID, 9),
     ("tls-wrong-host", ErrorKind.HOSTNAME_MISMATCH, 62)],
)
def test_a_rejected_certificate_has_its_kind_and_the_presented_one_as_evidence(
        certs: CertificateAuthority, fault: str, kind: ErrorKind, code: int) -> None:
    with start_fault(fault, certs=certs) as scenario:
        chain = run_stages(config_for(scenario), TO_TLS)
    tls = chain.last
    assert tls.error is not None and tls.error.kind is kind, tls.error
    assert tls.error.extra["verify_code"] == code
    presented = tls.error.extra["presented"]
    assert tls.details["presented_certificate"] == presented
    assert tls.error.message.startswith("certificate verification failed: ")
    assert tls.error.message.endswith(f"(issued by {presented['issuer']})")


def test_an_unanswered_client_hello_times_out_on_the_stage_budget(
        certs: CertificateAuthority) -> None:
    budget = 300 * MS
    with start_fault("tls-hang", certs=certs) as scenario:
        config = replace(config_for(scenario), timeouts=replace(FAST, tls=budget))
        chain = run_stages(config, TO_TLS)
    tls = chain.last
    assert tls.status is StageStatus.TIMEOUT and tls.error is not None
    assert tls.error.message == f"ClientHello sent; no ServerHello in {format_seconds(budget)}"
    assert tls.error.extra["bytes_received"] == 0
    assert chain.events[-1] == "TLS timeout fired"


@pytest.mark.parametrize(
    ("fault", "kind", "message"),
    [("tls-reset-after-hello", ErrorKind.RESET,
      "connection reset by peer right after the ClientHello (no ServerHello)"),
     ("tls-eof", ErrorKind.EOF,
      "connection closed by peer right after the ClientHello (no ServerHello)")],
)
def test_a_peer_that_hangs_up_after_the_hello_is_told_apart(
        certs: CertificateAuthority, fault: str, kind: ErrorKind, message: str) -> None:
    with start_fault(fault, certs=certs) as scenario:
        chain = run_stages(config_for(scenario), TO_TLS)
    tls = chain.last
    assert tls.error is not None and (tls.error.kind, tls.error.message) == (kind, message)
    assert tls.error.extra == {"bytes_received": 0}


def test_the_certificate_is_described_with_days_left(certs: CertificateAuthority) -> None:
    pem = certs.leaf(CertKind.VALID).cert_chain_pems[0].bytes().decode()
    der = ssl.PEM_cert_to_DER_cert(pem)
    cert = x509.load_der_x509_certificate(der)
    now = cert.not_valid_after_utc - timedelta(days=30, hours=12)
    described = describe_certificate(der, now=now)
    assert described["days_left"] == 30.5
    assert "stream.binance.com" in described["sans"]
    assert described["issuer"] == cert.issuer.rfc4514_string() != described["subject"]
    assert described["serial"] == format(cert.serial_number, "x")
    assert datetime.fromisoformat(str(described["not_after"])) == cert.not_valid_after_utc


def test_the_context_verifies_against_the_bundle_given(tmp_path: Path) -> None:
    context = make_context(None)
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
    # A bundle that trusts only our CA: the real certifi store is not consulted.
    bundle = CertificateAuthority().write_ca_bundle(tmp_path / "ca.pem")
    own = make_context(bundle)
    assert len(own.get_ca_certs()) == 1


def test_untrusted_certificate_names_the_presented_issuer(certs: CertificateAuthority) -> None:
    with start_fault("tls-untrusted", certs=certs) as scenario:
        report = probe(config_for(scenario))
    failed = report.failed_stage
    assert failed is not None and failed.error is not None
    presented = failed.error.extra["presented"]
    assert "stream.binance.com" in presented["sans"]
    assert presented["issuer"] in failed.error.message


def test_a_trust_store_is_loaded_once_until_its_file_changes(
        certs: CertificateAuthority, tmp_path: Path) -> None:
    import os

    from binance_diag.probe.tls import make_context

    bundle = certs.write_ca_bundle(tmp_path / "ca.pem")
    first = make_context(bundle)
    assert make_context(bundle) is first
    info = os.stat(bundle)
    os.utime(bundle, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))
    assert make_context(bundle) is not first
