"""Fixtures for the exporter tests: simulated Binance peers on loopback, and a modules file
that pins their names to them (`resolve`), trusts their CA and ignores proxy variables, so no
probe ever asks a DNS resolver or leaves the machine."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from binance_diag.simulate.certs import CertificateAuthority
from binance_diag.simulate.scenario import Scenario, start_fault
from tests.exporter.helpers import modules_toml


@pytest.fixture(scope="session")
def certs() -> CertificateAuthority:
    return CertificateAuthority()


@pytest.fixture(scope="module")
def peers(certs: CertificateAuthority, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[dict[str, Scenario]]:
    """A healthy stream and one that refuses the upgrade with 451 (restricted location)."""
    workdir = tmp_path_factory.mktemp("peers")
    with ExitStack() as stack:
        yield {name: stack.enter_context(start_fault(fault, certs=certs, workdir=workdir))
               for name, fault in (("healthy", "healthy"), ("blocked", "http-451"))}


@pytest.fixture
def modules_file(peers: dict[str, Scenario], tmp_path: Path) -> Path:
    path = tmp_path / "modules.toml"
    path.write_text(modules_toml(peers))
    return path
