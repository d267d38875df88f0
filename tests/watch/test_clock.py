"""watch/clock.py: the offset measured over the held stream's route (the simulator's clock,
loopback only), or not measured - once - where the REST host has no address."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from binance_diag.probe.base import ProbeState
from binance_diag.probe.tls import make_context
from binance_diag.simulate.certs import CertificateAuthority
from binance_diag.simulate.server import BinanceStreamServer
from binance_diag.watch.clock import WatchClock, clock_lines
from tests.probe.helpers import make_config


@pytest.fixture(scope="module")
def ca_bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[CertificateAuthority, Path]:
    certs = CertificateAuthority()
    return certs, certs.write_ca_bundle(tmp_path_factory.mktemp("ca") / "ca.pem")


@pytest.mark.timeout(15)
def test_measured_on_the_streams_own_host_and_port(
        ca_bundle: tuple[CertificateAuthority, Path]) -> None:
    certs, bundle = ca_bundle
    with BinanceStreamServer("clock-skew", certs=certs) as server:
        config = make_config(f"wss://localhost:{server.port}",
                             resolve=(f"localhost:{server.port}:127.0.0.1",), ca_bundle=bundle)
        state = ProbeState(addresses=["127.0.0.1"])
        state.tls_context = make_context(bundle)
        clock = WatchClock(config)
        line = asyncio.run(clock.measure(state))
        again = asyncio.run(clock.measure(state))
    assert line.startswith("clock: this machine's clock is 5.00 s behind Binance's"), line
    assert again.startswith("clock: this machine's clock is") and clock.measurements == 2
    assert clock.offset is not None and abs(clock.offset.offset_ms - 5000) < 50
    data = clock.to_dict()
    assert data["server"] == f"localhost:{server.port}" and len(data["offsets_ms"]) == 2
    (shown,) = clock_lines(clock, {"streams": {"btcusdt@aggTrade": {
        "event_latency_p50_ms": 3.1}}})
    assert re.match(r"clock offset \+(499\d|500\d)\.\d ms ± \d+\.\d ms; ", shown), shown
    assert shown.endswith("btcusdt@aggTrade p50 3.1 ms")


def test_a_binance_host_pinned_for_the_stream_only_is_not_measured_and_not_retried() -> None:
    config = make_config("wss://stream.binance.com:9443",
                         resolve=("stream.binance.com:9443:127.0.0.1",))
    clock = WatchClock(config)
    line = asyncio.run(clock.measure(ProbeState(addresses=["127.0.0.1"])))
    reason = ("not measured: no address for api.binance.com without asking DNS a question "
              "the run did not ask")
    assert line == f"clock {reason}; event lags stay raw"
    assert clock.final and clock.offset is None and clock.to_dict()["not_measured"] == reason
    assert clock_lines(clock, {}) == [f"clock {reason}"]
