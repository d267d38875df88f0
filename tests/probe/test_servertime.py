"""probe/servertime.py: the REST host of each market, and the server time measured
against the simulator's clock on one keep-alive connection (loopback only)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from binance_diag.config.endpoints import build_target
from binance_diag.probe.experiments.shell import Route
from binance_diag.probe.servertime import RestTime, measure_clock, rest_time_of
from binance_diag.probe.tls import make_context
from binance_diag.simulate.certs import CertificateAuthority
from binance_diag.simulate.server import BinanceStreamServer, ServerOptions
from binance_diag.simulate.tcp import RefusingPort
from binance_diag.timing import Deadline
from tests.utils import MS


@pytest.mark.parametrize(("endpoint", "rest"), [
    ("spot", RestTime("api.binance.com", 443, "/api/v3/time")),
    ("spot-443", RestTime("api.binance.com", 443, "/api/v3/time")),
    ("data-stream", RestTime("data-api.binance.vision", 443, "/api/v3/time")),
    ("usdm", RestTime("fapi.binance.com", 443, "/fapi/v1/time")),
    ("coinm", RestTime("dapi.binance.com", 443, "/dapi/v1/time")),
    ("testnet", RestTime("testnet.binance.vision", 443, "/api/v3/time")),
    ("wss://127.0.0.1:8443", RestTime("127.0.0.1", 8443, "/api/v3/time")),
    ("ws://localhost:8080/market", RestTime("localhost", 8080, "/fapi/v1/time", False)),
    ("wss://fstream.binancefuture.com", None),
])
def test_the_rest_host_of_each_market(endpoint: str, rest: RestTime | None) -> None:
    assert rest_time_of(build_target(["BTCUSDT"], "aggTrade", endpoint)) == rest



@pytest.fixture(scope="module")
def certs() -> CertificateAuthority:
    return CertificateAuthority()


@pytest.fixture(scope="module")
def ca_bundle(certs: CertificateAuthority, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return certs.write_ca_bundle(tmp_path_factory.mktemp("ca") / "ca.pem")


@pytest.mark.timeout(10)
@pytest.mark.parametrize(("fault", "path", "true_offset"), [
    ("clock-skew", "/api/v3/time", 5000.0), ("healthy", "/fapi/v1/time", 0.0),
    ("late-delivery", "/dapi/v1/time", 0.0)])
def test_measured_against_the_simulators_clock(certs: CertificateAuthority, ca_bundle: Path,
                                               fault: str, path: str,
                                               true_offset: float) -> None:
    with BinanceStreamServer(fault, certs=certs) as server:
        rest = RestTime("localhost", server.port, path)
        measured = asyncio.run(measure_clock(Route("localhost", server.port, "127.0.0.1"),
                                             rest, Deadline(3000 * MS), make_context(ca_bundle)))
        requests = [r.path for r in server.requests]
    assert measured.error == "" and measured.offset is not None
    assert measured.offset.samples == 4 and requests == [path] * 4
    assert len(server.connections) == 1  # one keep-alive connection for every sample
    offset = measured.offset
    # The same machine's clock on both sides: only the fault's offset (and ms rounding).
    assert abs(offset.offset_ms - true_offset) <= offset.bound_ms + 1.0


@pytest.mark.timeout(10)
def test_a_refused_port_is_no_measurement() -> None:
    with RefusingPort() as closed:
        rest = RestTime("127.0.0.1", closed.port, "/api/v3/time", False)
        measured = asyncio.run(measure_clock(Route("127.0.0.1", closed.port, "127.0.0.1"),
                                             rest, Deadline(2000 * MS), None))
    assert measured.offset is None and "TCP connect" in measured.error


@pytest.mark.timeout(10)
def test_plain_ws_endpoint_and_the_simulators_clock_offset(certs: CertificateAuthority) -> None:
    options = ServerOptions(clock_offset_s=-2.5)
    with BinanceStreamServer("clock-skew", options=options) as server:
        rest = RestTime("127.0.0.1", server.port, "/api/v3/time", False)
        measured = asyncio.run(measure_clock(Route("127.0.0.1", server.port, "127.0.0.1"),
                                             rest, Deadline(3000 * MS), None, samples=2))
    assert measured.offset is not None and measured.offset.samples == 2
    assert abs(measured.offset.offset_ms + 2500.0) <= measured.offset.bound_ms + 1.0
