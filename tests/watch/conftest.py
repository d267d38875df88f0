"""Fixtures of the watch tests: one CA for the session (certificates are the slow part)."""

from __future__ import annotations

import pytest

from binance_diag.simulate.certs import CertificateAuthority


@pytest.fixture(scope="session")
def certs() -> CertificateAuthority:
    return CertificateAuthority()
