"""Certificates for the fake TLS peers: one trusted test CA and the broken leaves we need.

Each `CertKind` is one way a real handshake to Binance goes wrong (an intercepting proxy's
CA, a clock far off, a captive portal answering for another name). The client trusts only
`CertificateAuthority.ca_pem`, written to a file with `write_ca_bundle` for `--ca-bundle`.
"""

from __future__ import annotations

import os
import ssl
import stat
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Protocol

import trustme

BINANCE_HOSTNAMES = (
    "stream.binance.com",
    "fstream.binance.com",
    "dstream.binance.com",
    "data-stream.binance.vision",
    "stream.testnet.binance.vision",
    "stream.binance.us",
)
"""Every endpoint preset's host: what the simulated DNS answers and a valid leaf covers."""
DEFAULT_HOSTNAMES = (*BINANCE_HOSTNAMES, "localhost", "127.0.0.1", "::1")
"""Names a valid leaf covers: the Binance hosts, and loopback (a client may connect to
127.0.0.1 and verify the certificate against that address)."""

WRONG_HOSTNAME = "example.invalid"


class CertKind(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    WRONG_HOST = "wrong_host"
    OTHER_CA = "other_ca"


class ServerCertificates(Protocol):
    """What a TLS peer needs: a server context presenting a certificate of some kind."""

    def server_context(self, kind: CertKind = CertKind.VALID) -> ssl.SSLContext:
        """A fresh server context; ValueError when this source cannot give `kind`."""
        ...


class CertificateAuthority:
    """A throw-away CA that issues one leaf per `CertKind`, on first use.

    Validity windows are relative to now (a day or more away from it), so that a check made
    by the client a few seconds later still sees the same verdict.
    """

    def __init__(self, hostnames: Sequence[str] = DEFAULT_HOSTNAMES) -> None:
        if not hostnames:
            raise ValueError("a certificate needs at least one host name")
        self.hostnames = tuple(hostnames)
        self._ca = trustme.CA(organization_name="binance-diag simulated CA")
        self._other_ca: trustme.CA | None = None
        self._leaves: dict[CertKind, trustme.LeafCert] = {}
        self._lock = threading.Lock()

    @property
    def ca_pem(self) -> bytes:
        """The PEM certificate a client must trust (the `--ca-bundle` content)."""
        pem: bytes = self._ca.cert_pem.bytes()
        return pem

    def write_ca_bundle(self, path: Path) -> Path:
        path.write_bytes(self.ca_pem)
        return path

    def leaf(self, kind: CertKind = CertKind.VALID) -> trustme.LeafCert:
        with self._lock:
            if kind not in self._leaves:
                self._leaves[kind] = self._issue(kind)
            return self._leaves[kind]

    def leaf_pem(self, kind: CertKind = CertKind.VALID) -> bytes:
        """The leaf certificate alone, as the server presents it."""
        pem: bytes = self.leaf(kind).cert_chain_pems[0].bytes()
        return pem

    def server_context(self, kind: CertKind = CertKind.VALID) -> ssl.SSLContext:
        """A fresh server context presenting the leaf of `kind`, ALPN http/1.1 like Binance."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.leaf(kind).configure_cert(context)
        context.set_alpn_protocols(["http/1.1"])
        return context

    def client_context(self) -> ssl.SSLContext:
        """A verifying client context that trusts this CA only (what `--ca-bundle` gives)."""
        context = ssl.create_default_context(cadata=self.ca_pem.decode("ascii"))
        context.set_alpn_protocols(["http/1.1"])
        return context

    def _issue(self, kind: CertKind) -> trustme.LeafCert:
        now = datetime.now(UTC).replace(tzinfo=None)  # trustme wants naive UTC
        day = timedelta(days=1)
        if kind is CertKind.VALID:
            return self._ca.issue_cert(*self.hostnames)
        if kind is CertKind.EXPIRED:
            return self._ca.issue_cert(
                *self.hostnames, not_before=now - 90 * day, not_after=now - 2 * day
            )
        if kind is CertKind.NOT_YET_VALID:
            return self._ca.issue_cert(
                *self.hostnames, not_before=now + 2 * day, not_after=now + 90 * day
            )
        if kind is CertKind.WRONG_HOST:
            return self._ca.issue_cert(WRONG_HOSTNAME)
        if self._other_ca is None:
            # What a TLS-intercepting proxy does: right names, issuer the client never saw.
            self._other_ca = trustme.CA(organization_name="Untrusted Interception CA")
        return self._other_ca.issue_cert(*self.hostnames)


class CertificateFiles:
    """A certificate the user brings (`simulate --cert FILE --key FILE`): valid leaf only.

    The faults that need a broken certificate (expired, untrusted...) are issued by our own
    CA; with these files they raise ValueError. Trusting the files' issuer is the user's job.
    """

    def __init__(self, cert: Path, key: Path | None = None) -> None:
        self.cert = cert
        self.key = key
        _check_pem_file(cert, "--cert")
        if key is not None:
            _check_pem_file(key, "--key")
        self.server_context()  # fail now, with the file names, not at the first handshake

    def server_context(self, kind: CertKind = CertKind.VALID) -> ssl.SSLContext:
        if kind is not CertKind.VALID:
            raise ValueError(
                f"a {kind.value} certificate needs the simulator's own CA, not --cert/--key"
            )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        try:
            context.load_cert_chain(self.cert, self.key)
        except (OSError, ssl.SSLError) as exc:
            names = f"{self.cert}" + (f" / {self.key}" if self.key else "")
            raise ValueError(f"cannot load certificate and key from {names}: {exc}") from None
        context.set_alpn_protocols(["http/1.1"])
        return context


MAX_PEM_BYTES = 10 * 1024 * 1024
"""A certificate chain or a key is a few KB; past 10 MiB it is not one (as --ca-bundle)."""


def _check_pem_file(path: Path, option: str) -> None:
    """A regular file of at most MAX_PEM_BYTES, before OpenSSL opens it: a FIFO would block
    the simulator's start for good (OpenSSL waits for a writer), /dev/zero fill memory."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise ValueError(f"cannot read {option} {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ValueError(f"{option} {path} is not a regular file")
    if info.st_size > MAX_PEM_BYTES:
        raise ValueError(f"{option} {path} is larger than {MAX_PEM_BYTES // (1024 * 1024)} "
                         "MiB: not a certificate or a key")
