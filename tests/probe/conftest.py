"""Fixtures shared by the probe tests."""

from __future__ import annotations

import pytest

from binance_diag.simulate.certs import CertificateAuthority


@pytest.fixture(scope="session")
def certs() -> CertificateAuthority:
    """Issuing certificates is the slow part of a TLS peer: one CA for every probe test."""
    return CertificateAuthority()
