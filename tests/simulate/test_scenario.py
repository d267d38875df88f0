"""What `start_fault` hands a probe: URL, --resolve / --resolver, --ca-bundle."""

from __future__ import annotations

import pytest

from binance_diag.simulate.certs import CertificateAuthority
from binance_diag.simulate.scenario import start_fault
from binance_diag.simulate.server import ServerOptions


def test_tls_scenario_with_resolve(certs: CertificateAuthority) -> None:
    with start_fault("healthy", certs=certs) as scenario:
        port = scenario.port
        assert scenario.url_base == f"wss://stream.binance.com:{port}"
        assert scenario.host == "127.0.0.1"
        assert scenario.resolve == (f"stream.binance.com:{port}:127.0.0.1",)
        assert scenario.nameservers == () and scenario.dns_port is None
        assert scenario.ca_bundle is not None
        assert scenario.ca_bundle.read_bytes() == certs.ca_pem
        assert scenario.cli_args == (
            "--endpoint", f"wss://stream.binance.com:{port}",
            "--ca-bundle", str(scenario.ca_bundle),
            "--resolve", f"stream.binance.com:{port}:127.0.0.1",
        )  # fmt: skip
        bundle = scenario.ca_bundle
    assert not bundle.exists()


def test_dns_scenario_uses_a_resolver(certs: CertificateAuthority) -> None:
    options = ServerOptions(path_prefix="/market")
    with start_fault(
        "healthy", dns=True, hostname="fstream.binance.com", options=options, certs=certs
    ) as scenario:
        assert scenario.url_base == f"wss://fstream.binance.com:{scenario.port}/market"
        assert scenario.resolve == ()
        assert scenario.nameservers == (f"127.0.0.1:{scenario.dns_port}",)
        assert scenario.cli_args[-2:] == ("--resolver", f"127.0.0.1:{scenario.dns_port}")


def test_dns_fault_has_a_dns_server_and_a_refusing_port() -> None:
    with start_fault("dns-nxdomain", tls=False) as scenario:
        assert scenario.dns is not None and scenario.server is None
        assert scenario.url_base.startswith("ws://stream.binance.com:")


def test_unknown_fault_and_external_address() -> None:
    with pytest.raises(KeyError):
        start_fault("nope").__enter__()
    with pytest.raises(ValueError, match="non-loopback"):
        start_fault("healthy", host="192.0.2.1").__enter__()
