"""The tcp stage against real loopback peers: every address at once, the first one wins."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from binance_diag.diagnose import diagnose_report
from binance_diag.diagnose.thresholds import parse_thresholds
from binance_diag.exitcodes import ExitCode, exit_code_for
from binance_diag.model import StageName, StageStatus
from binance_diag.probe.budget import SUPERVISION_MARGIN
from binance_diag.probe.tcp import SETTLE_MAX
from binance_diag.simulate.scenario import Scenario, start_fault
from binance_diag.simulate.tcp import BlackholePeer
from tests.probe.helpers import FAST, make_config, probe, stage
from tests.utils import MS

HOST = "stream.binance.com"
DEAD = "127.0.0.2"
"""Loopback too: the blackhole listens there, on the healthy server's port."""


@pytest.fixture
def healthy_beside_a_dead_address() -> Iterator[Scenario]:
    with start_fault("healthy", tls=False) as scenario, BlackholePeer(DEAD, scenario.port):
        yield scenario


@pytest.mark.timeout(10)
def test_a_dead_address_does_not_hold_the_stage(
        healthy_beside_a_dead_address: Scenario) -> None:
    scenario = healthy_beside_a_dead_address
    port = scenario.port
    # The dead address first, as DNS may well return it: a client trying in order hangs.
    config = make_config(scenario.url_base, resolve=[f"{HOST}:{port}:{DEAD},127.0.0.1"],
                         timeouts=replace(FAST, tcp=3000 * MS))
    report = probe(config)
    assert report.failed_stage is None
    tcp = stage(report, StageName.TCP)
    assert tcp.status is StageStatus.OK
    assert tcp.details["connected_to"] == f"127.0.0.1:{port}"
    # The stage ends at the first connection plus a short bounded settle, not at the budget.
    assert tcp.duration_ms is not None and tcp.duration_ms < (SETTLE_MAX + 100 * MS) * 1000
    attempts = {a["address"]: a for a in tcp.details["attempts"]}
    assert attempts["127.0.0.1"]["result"] == "ok"
    assert attempts[DEAD]["result"] == "pending"
    assert "not awaited" in attempts[DEAD]["message"]
    assert tcp.details["families"] == {"IPv4": "ok"}

    diagnosed = diagnose_report(replace(report, thresholds=parse_thresholds(["tcp=500"])))
    ids = [f.id for f in diagnosed.findings]
    assert ids[0] == "tcp.address_failed", ids
    assert "threshold.warning" not in ids and "perf.slow_stage" not in ids
    top = diagnosed.findings[0]
    assert DEAD in top.title
    assert any(DEAD in line and "pending" in line for line in top.evidence)
    assert exit_code_for(diagnosed) is ExitCode.WARNING


@pytest.mark.timeout(10)
def test_only_dead_addresses_time_out_on_the_stage_deadline() -> None:
    budget = 400 * MS
    with BlackholePeer() as dead, BlackholePeer(DEAD, dead.port):
        config = make_config(f"ws://{HOST}:{dead.port}",
                             resolve=[f"{HOST}:{dead.port}:127.0.0.1,{DEAD}"],
                             timeouts=replace(FAST, tcp=budget))
        report = probe(config)
    tcp = stage(report, StageName.TCP)
    assert tcp.error is not None and tcp.error.kind.value == "timeout"
    assert "stage cancelled" not in tcp.error.message
    assert [a["result"] for a in tcp.details["attempts"]] == ["timeout", "timeout"]
    assert tcp.duration_ms is not None
    assert budget * 1000 <= tcp.duration_ms < (budget + SUPERVISION_MARGIN + 150 * MS) * 1000
