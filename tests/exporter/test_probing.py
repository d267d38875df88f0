"""A scrape's probe: answered in time even when the probe's own event loop is stuck."""

from __future__ import annotations

import dataclasses
import time

import pytest

from binance_diag.config.guard import GuardSettings
from binance_diag.config.probe import ProbeConfig
from binance_diag.config.timeouts import Timeouts
from binance_diag.exporter.probing import ProbeSlots, probe_within
from binance_diag.model import ErrorKind, StageName, StageStatus
from binance_diag.probe.base import ProbeState, StageOutcome, Tracer, passed
from binance_diag.simulate.certs import CertificateAuthority
from binance_diag.simulate.scenario import probe_config, start_fault
from binance_diag.timing import Deadline
from tests.utils import MS

pytestmark = pytest.mark.timeout(30)
BLOCK = 1500 * MS


async def blocks_the_loop(config: ProbeConfig, state: ProbeState, tracer: Tracer,
                          deadline: Deadline) -> StageOutcome:
    time.sleep(BLOCK)  # the trap the guard exists for: no timeout of the loop can fire
    return passed()


STUCK = ((StageName.DNS, blocks_the_loop),)


def stuck_config(timeouts: Timeouts | None = None) -> ProbeConfig:
    from binance_diag.config.endpoints import build_target

    return ProbeConfig(build_target(["BTCUSDT"], "aggTrade", "ws://127.0.0.1:9"),
                       timeouts or Timeouts())


def test_a_healthy_probe_finishes_and_frees_its_slot(certs: CertificateAuthority) -> None:
    slots = ProbeSlots(2)
    with start_fault("healthy", certs=certs) as peer:
        assert slots.acquire(0)
        run = probe_within(probe_config(peer, Timeouts()), 60.0, slots=slots)
    assert run.report.failed_stage is None and not run.cut_short
    assert run.timeout_factor == 1.0  # 30 s of stages fit in 60 s
    assert run.report.findings  # diagnosed
    assert slots.in_flight == 0 and slots.overdue == 0


def test_a_blocked_loop_is_ended_by_the_hard_deadline_not_the_process() -> None:
    started = time.monotonic()
    run = probe_within(stuck_config(Timeouts(dns=0.2)), 2.0, stages=STUCK,
                       settings=GuardSettings(grace=0.1))
    assert time.monotonic() - started < 0.2 + 0.25 + 0.1 + 300 * MS
    stage = run.report.stage(StageName.DNS)
    assert stage is not None and stage.status is StageStatus.TIMEOUT
    assert stage.error is not None and stage.error.extra.get("deadline_enforced_by_watchdog")
    assert not run.cut_short


def test_the_budget_ends_the_scrape_when_nothing_else_can() -> None:
    slots = ProbeSlots(1)
    assert slots.acquire(0)
    started = time.monotonic()
    run = probe_within(stuck_config(), 0.5, stages=STUCK, slots=slots,
                       settings=GuardSettings(grace=10.0))  # the hard deadline comes too late
    assert time.monotonic() - started < 0.5 + 200 * MS
    assert run.cut_short
    stage = run.report.stage(StageName.DNS)
    assert stage is not None and stage.error is not None
    assert stage.error.kind is ErrorKind.TIMEOUT and "cut short" in stage.error.message
    assert slots.overdue == 1 and slots.in_flight == 1  # still running: the slot stays taken
    assert not slots.acquire(0)
    deadline = time.monotonic() + BLOCK + 2000 * MS
    while slots.in_flight and time.monotonic() < deadline:
        time.sleep(10 * MS)
    assert slots.in_flight == 0 and slots.overdue == 0
    assert slots.acquire(0)


def test_stage_timeouts_are_fitted_and_said_so() -> None:
    run = probe_within(stuck_config(), 0.5, stages=STUCK, settings=GuardSettings(grace=0.1))
    assert run.timeout_factor < 1
    assert any("stage timeouts scaled by" in e.event for e in run.report.timeline)


def test_the_experiments_budget_is_fitted_too() -> None:
    config = dataclasses.replace(stuck_config(), experiments=3.0)
    run = probe_within(config, 0.5, stages=STUCK, settings=GuardSettings(grace=0.1))
    assert any("and the experiments' budget, now" in e.event for e in run.report.timeline)
