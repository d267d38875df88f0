"""Each certificate kind fails a verifying client's handshake the way it does in the wild."""

from __future__ import annotations

import os
import ssl
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509

from binance_diag.simulate.certs import (
    WRONG_HOSTNAME,
    CertificateAuthority,
    CertificateFiles,
    CertKind,
)

HOSTNAME = "stream.binance.com"


def handshake(server: ssl.SSLContext, client: ssl.SSLContext, hostname: str) -> ssl.SSLObject:
    """A complete TLS handshake through memory BIOs: real OpenSSL, no sockets."""
    client_in, client_out = ssl.MemoryBIO(), ssl.MemoryBIO()
    server_in, server_out = ssl.MemoryBIO(), ssl.MemoryBIO()
    client_side = client.wrap_bio(client_in, client_out, server_hostname=hostname)
    server_side = server.wrap_bio(server_in, server_out, server_side=True)
    client_done = server_done = False
    for _ in range(10):
        if not client_done:
            try:
                client_side.do_handshake()
                client_done = True
            except ssl.SSLWantReadError:
                pass
        server_in.write(client_out.read())
        if not server_done:
            try:
                server_side.do_handshake()
                server_done = True
            except ssl.SSLWantReadError:
                pass
        client_in.write(server_out.read())
        if client_done and server_done:
            return client_side
    raise AssertionError("handshake did not finish")


def test_valid_certificate_verifies_for_every_binance_name(certs: CertificateAuthority) -> None:
    for hostname in (HOSTNAME, "fstream.binance.com", "localhost"):
        session = handshake(certs.server_context(), certs.client_context(), hostname)
        assert session.selected_alpn_protocol() == "http/1.1"


@pytest.mark.parametrize(
    ("kind", "verify_code", "message"),
    [
        (CertKind.EXPIRED, 10, "certificate has expired"),
        (CertKind.NOT_YET_VALID, 9, "certificate is not yet valid"),
        (CertKind.WRONG_HOST, 62, "Hostname mismatch"),
        (CertKind.OTHER_CA, 20, "unable to get local issuer certificate"),
    ],
)
def test_broken_certificates_fail_verification(
    certs: CertificateAuthority, kind: CertKind, verify_code: int, message: str
) -> None:
    with pytest.raises(ssl.SSLCertVerificationError) as failure:
        handshake(certs.server_context(kind), certs.client_context(), HOSTNAME)
    assert failure.value.verify_code == verify_code
    assert message in failure.value.verify_message


def test_validity_windows_are_around_now(certs: CertificateAuthority) -> None:
    now = datetime.now(UTC)
    expired = x509.load_pem_x509_certificate(certs.leaf_pem(CertKind.EXPIRED))
    future = x509.load_pem_x509_certificate(certs.leaf_pem(CertKind.NOT_YET_VALID))
    assert expired.not_valid_after_utc < now
    assert future.not_valid_before_utc > now


def test_names_on_the_leaves(certs: CertificateAuthority) -> None:
    def names(kind: CertKind) -> list[str]:
        cert = x509.load_pem_x509_certificate(certs.leaf_pem(kind))
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        return [str(n) for n in san.get_values_for_type(x509.DNSName)]

    assert HOSTNAME in names(CertKind.VALID)
    assert HOSTNAME in names(CertKind.OTHER_CA)
    assert names(CertKind.WRONG_HOST) == [WRONG_HOSTNAME]


def test_other_ca_leaf_is_not_issued_by_the_trusted_ca(certs: CertificateAuthority) -> None:
    ca = x509.load_pem_x509_certificate(certs.ca_pem)
    other = x509.load_pem_x509_certificate(certs.leaf_pem(CertKind.OTHER_CA))
    valid = x509.load_pem_x509_certificate(certs.leaf_pem(CertKind.VALID))
    assert valid.issuer == ca.subject
    assert other.issuer != ca.subject


def test_ca_bundle_is_what_a_client_loads(certs: CertificateAuthority, tmp_path: Path) -> None:
    bundle = certs.write_ca_bundle(tmp_path / "ca.pem")
    client = ssl.create_default_context(cafile=str(bundle))
    handshake(certs.server_context(), client, HOSTNAME)


def test_a_ca_needs_names() -> None:
    with pytest.raises(ValueError):
        CertificateAuthority(hostnames=())


@pytest.mark.timeout(10)
def test_certificate_files_must_be_regular_files(tmp_path: Path) -> None:
    """A FIFO would hang the simulator at start (OpenSSL waits for a writer), /dev/zero
    would fill its memory: refused before OpenSSL opens them, as --ca-bundle is."""
    import trustme

    leaf = trustme.CA().issue_cert(HOSTNAME)
    cert, key, fifo = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "fifo"
    leaf.cert_chain_pems[0].write_to_path(str(cert))
    leaf.private_key_pem.write_to_path(str(key))
    os.mkfifo(fifo)
    for files, message in [
        ((fifo, key), f"--cert {fifo} is not a regular file"),
        ((cert, fifo), f"--key {fifo} is not a regular file"),
        ((tmp_path, None), f"--cert {tmp_path} is not a regular file"),
        ((Path("/dev/zero"), None), "--cert /dev/zero is not a regular file"),
        ((tmp_path / "missing.pem", None), "cannot read --cert .*missing.pem: No such file"),
    ]:
        with pytest.raises(ValueError, match=message):
            CertificateFiles(*files)
    CertificateFiles(cert, key)  # the regular files load
