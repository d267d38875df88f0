"""watch/held.py: the held connection against real loopback peers: adopted from the probe,
held, asked LIST_SUBSCRIPTIONS, closed by Binance's maintenance."""

from __future__ import annotations

import asyncio
import time

import pytest

from binance_diag.simulate.certs import CertificateAuthority
from binance_diag.simulate.scenario import start_fault
from binance_diag.simulate.server import ServerOptions
from binance_diag.watch.held import HeldConnection, HoldEnd
from binance_diag.watch.stream import HeldStreamStats
from tests.probe.helpers import config_for
from tests.utils import MS


@pytest.mark.timeout(20)
def test_the_probes_connection_is_held_and_answers(certs: CertificateAuthority) -> None:
    lines: list[str] = []
    stats = HeldStreamStats(time.perf_counter())

    async def scenario_run(held: HeldConnection) -> tuple[object, HoldEnd | None, bool]:
        report = await held.connect()
        assert held.open and held.age > 0
        assert held.ask()
        end = await held.hold(time.perf_counter() + 800 * MS)
        still_open = held.open
        held.close()
        return report, end, still_open

    with start_fault("healthy", certs=certs,
                     options=ServerOptions(interval=50 * MS)) as scenario:
        held = HeldConnection(config_for(scenario, ("BTCUSDT", "ETHUSDT")), stats,
                              lines.append)
        report, end, still_open = asyncio.run(scenario_run(held))
    assert report.failed_stage is None  # type: ignore[attr-defined]
    assert end is None and still_open and not held.open
    assert stats.connections == 1
    assert set(stats.streams) == {"btcusdt@aggTrade", "ethusdt@aggTrade"}
    assert stats.messages >= 8, stats.messages
    assert held.answered and any("LIST_SUBSCRIPTIONS" in line for line in lines)


@pytest.mark.timeout(20)
def test_maintenance_is_noticed_and_ends_the_hold(certs: CertificateAuthority) -> None:
    lines: list[str] = []
    stats = HeldStreamStats(time.perf_counter())

    async def run(held: HeldConnection) -> HoldEnd | None:
        await held.connect()
        return await held.hold(time.perf_counter() + 5000 * MS)

    with start_fault("maintenance", certs=certs,
                     options=ServerOptions(shutdown_at=500 * MS)) as scenario:
        held = HeldConnection(config_for(scenario), stats, lines.append)
        end = asyncio.run(run(held))
        held.close()
    assert end is not None and end.closed is not None, end
    assert held.shutdown_notice
    assert "serverShutdown event received on the held connection" in lines


@pytest.mark.timeout(20)
def test_a_probe_that_fails_leaves_nothing_held(certs: CertificateAuthority) -> None:
    stats = HeldStreamStats(time.perf_counter())
    with start_fault("tcp-refused", certs=certs) as scenario:
        held = HeldConnection(config_for(scenario), stats, lambda text: None)
        report = asyncio.run(held.connect())
    assert report.failed_stage is not None
    assert not held.open and held.age == 0.0 and stats.connections == 0
    assert not held.ask()
