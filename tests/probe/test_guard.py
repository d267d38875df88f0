"""The probe under the loop watchdog: blockages found and named, deadlines that always fire.

Real blocking of the probe's own event loop (time.sleep, a CPU-bound loop, a stage that
swallows its cancellation) against a real simulated Binance on loopback.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree

import pytest

from binance_diag.config.guard import GuardSettings
from binance_diag.config.guard import parse_guard_settings as guard_settings
from binance_diag.config.timeouts import Timeouts
from binance_diag.diagnose import diagnose_report
from binance_diag.model import (
    Blockage,
    LoopStats,
    ProbeReport,
    StageName,
    StageResult,
    StageStatus,
)
from binance_diag.probe.base import ProbeState, StageOutcome, Tracer
from binance_diag.probe.budget import run_budget
from binance_diag.probe.guard import ProbeGuard
from binance_diag.probe.runner import STAGES, ProbeProgress, mark_blocked_time, run_probe
from binance_diag.render.formats import OutputFormat
from binance_diag.run.probe import run_probe_command
from binance_diag.simulate.scenario import probe_config, start_fault
from binance_diag.timing import Deadline, utc_now
from tests.schema_check import VALIDATOR, validated_json
from tests.utils import MS

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve()
BLOCK = 400 * MS
BUDGET = 2000 * MS
TIMEOUTS = Timeouts(dns=BUDGET, proxy=BUDGET, tcp=BUDGET, tls=BUDGET, ws_upgrade=BUDGET,
                    first_message=BUDGET)


def line_of(path: Path, marker: str) -> int:
    for number, text in enumerate(path.read_text().splitlines(), 1):
        if marker in text:
            return number
    raise AssertionError(f"{marker!r} not in {path}")


def sleep_in_loop() -> None:
    time.sleep(BLOCK)  # SLEEP HERE


def spin_in_loop() -> None:
    end = time.monotonic() + BLOCK
    while time.monotonic() < end:  # SPIN HERE
        pass


def guarded_probe(block: Callable[[], None], at: StageName) -> ProbeReport:
    """Probe a healthy peer in-process under a ProbeGuard; `block` runs on the loop at `at`."""

    def listener(name: StageName, event: str, duration_ms: float | None) -> None:
        if name is at and event == "start":  # a callback of the loop, inside the stage
            asyncio.get_running_loop().call_soon(block)

    def expired(report: ProbeReport) -> None:
        raise AssertionError("the hard deadline fired in a run that should end by itself")

    tracer = Tracer(listeners=[listener])
    with start_fault("healthy") as scenario:
        config = probe_config(scenario, TIMEOUTS)
        progress = ProbeProgress(config)
        with ProbeGuard(progress, tracer, expired) as guard:
            report = asyncio.run(run_probe(config, tracer, progress=progress, loop=guard.stats))
    validated_json(report)
    return diagnose_report(report)


@pytest.mark.parametrize(("block", "marker", "trap"), [
    (sleep_in_loop, "# SLEEP HERE", "time_sleep"),
    (spin_in_loop, "# SPIN HERE", None),
])
def test_a_blocked_stage_is_found_named_and_not_blamed_on_the_network(
        block: Callable[[], None], marker: str, trap: str | None) -> None:
    report = guarded_probe(block, StageName.TLS)
    assert report.failed_stage is None, "a 400 ms block inside a 2 s budget still passes"
    assert report.loop.monitored and report.loop.heartbeats > 0
    (blockage,) = report.loop.blockages
    assert blockage.stage is StageName.TLS
    assert 300 * MS * 1000 <= blockage.duration_ms <= 700 * MS * 1000
    assert blockage.where == f"{HERE}:{line_of(HERE, marker)} in {block.__name__}"
    assert blockage.trap == trap
    tls = report.stage(StageName.TLS)
    assert tls is not None and tls.duration_ms is not None
    assert tls.loop_blocked_ms >= 300 * MS * 1000
    assert tls.duration_ms - tls.loop_blocked_ms < 100, "the network part stays small"
    ids = [f.id for f in report.findings]
    assert ids[0] == "loop.blocked"
    assert "perf.slow_stage" not in ids, "blocked time must not be blamed on the network"


def test_healthy_run_records_lag_and_no_blockage() -> None:
    report = guarded_probe(lambda: None, StageName.TLS)
    assert report.loop.monitored and report.loop.heartbeats > 0
    assert report.loop.blockages == ()
    assert report.loop.max_lag_ms < 100
    assert all(s.loop_blocked_ms == 0 for s in report.stages)
    assert report.findings[0].id == "probe.healthy"


async def swallow_cancellation(config: object, state: ProbeState, tracer: Tracer,
                               deadline: Deadline) -> StageOutcome:
    while True:
        try:
            await asyncio.sleep(3600)  # SWALLOWS HERE
        except asyncio.CancelledError:
            continue


def test_a_stage_that_swallows_its_cancellation_is_abandoned_on_time(
        capsys: pytest.CaptureFixture[str]) -> None:
    stages = [(name, swallow_cancellation if name is StageName.FIRST_MESSAGE else function)
              for name, function in STAGES]
    budget = 500 * MS
    timeouts = Timeouts(dns=BUDGET, proxy=BUDGET, tcp=BUDGET, tls=BUDGET, ws_upgrade=BUDGET,
                        first_message=budget)
    with start_fault("healthy") as scenario:
        config = probe_config(scenario, timeouts)
        started = time.perf_counter()
        code = run_probe_command(config, OutputFormat.JSON, None, "test", stages=stages)
        took = time.perf_counter() - started
    assert code == 2
    assert took < budget + 0.5 + 0.5, "timeout + grace, whatever the stage does"
    document = json.loads(capsys.readouterr().out)
    VALIDATOR.validate(document)
    (stage,) = [s for s in document["stages"] if s["name"] == "first_message"]
    assert stage["status"] == "timeout"
    assert "cancellation ignored; abandoned at" in stage["error"]["message"]
    swallow = line_of(HERE, "# SWALLOWS HERE")
    assert stage["error"]["abandoned_at"] == f"{HERE}:{swallow} in swallow_cancellation"
    assert document["findings"][0]["id"] == "runtime.cancellation_ignored"


SCRIPT = ROOT / "tests" / "probe" / "blocking_probe.py"


def run_blocked(mode: str, output_format: str, stage: str = "tls", *extra: str
                ) -> tuple[subprocess.CompletedProcess[str], float]:
    import os
    import tempfile

    started = time.perf_counter()
    # The watchdog ends the script with os._exit: its simulator cannot remove its CA
    # directory, so the script's temp files go in one we remove.
    with tempfile.TemporaryDirectory(prefix="bdiag-test-") as scratch:
        done = subprocess.run(
            [sys.executable, "-m", "tests.probe.blocking_probe", mode, output_format, stage,
             *extra],
            cwd=ROOT, capture_output=True, text=True, timeout=20,
            env={**os.environ, "TMPDIR": scratch},
        )
    return done, time.perf_counter() - started


@pytest.mark.parametrize(("mode", "marker"), [
    ("sleep", "# BLOCKING LINE: sleep"), ("spin", "# BLOCKING LINE: spin"),
])
def test_a_loop_blocked_past_the_deadline_is_ended_by_the_watchdog_with_a_report(
        mode: str, marker: str) -> None:
    done, took = run_blocked(mode, "json")
    assert done.returncode == 2, done.stderr
    # 0.5 s budget + 0.5 s grace; the rest is interpreter start-up and the simulator.
    assert took < 4.0, f"took {took:.2f} s"
    document = json.loads(done.stdout)
    VALIDATOR.validate(document)
    assert document["failed_stage"] == "tls"
    tls = document["stages"][2]
    assert tls["name"] == "tls" and tls["status"] == "timeout"
    error = tls["error"]
    assert error["deadline_enforced_by_watchdog"] is True
    assert error["cause"] == "loop_blocked"
    assert "the timeout could not fire" in error["message"]
    function = {"sleep": "sleep_forever", "spin": "spin_forever"}[mode]
    assert error["where"] == f"{SCRIPT}:{line_of(SCRIPT, marker)} in {function}"
    assert [s["status"] for s in document["stages"][3:]] == ["skipped", "skipped"]
    assert document["loop"]["deadline_enforced_by_watchdog"] is True
    (blockage,) = document["loop"]["blockages"]
    assert blockage["stage"] == "tls" and blockage["where"] == error["where"]
    assert document["findings"][0]["id"] == "loop.deadline_enforced"


def test_the_watchdog_report_comes_in_the_requested_format() -> None:
    done, _ = run_blocked("sleep", "junit", stage="first_message")
    assert done.returncode == 2, done.stderr
    suite = ElementTree.fromstring(done.stdout).find(".//testsuite")
    assert suite is not None
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert cases["first_message"].find("error") is not None
    assert cases["tls"].find("error") is None and cases["tls"].find("failure") is None


def test_the_matrix_loop_blocked_for_good_is_ended_with_every_report() -> None:
    """Two endpoints in one loop (healthy, refused); the loop blocks in the healthy one's TLS."""
    from tests.matrix_check import validated_matrix

    done, took = run_blocked("sleep", "json", "tls", "matrix")
    assert done.returncode == 2, done.stderr
    assert took < 12.0, f"took {took:.2f} s"  # the longest probe's budget + grace
    document = validated_matrix(done.stdout)
    stuck, refused = document["reports"]
    assert stuck["failed_stage"] == "tls"
    assert stuck["stages"][2]["error"]["cause"] == "loop_blocked"
    assert stuck["findings"][0]["id"] == "loop.deadline_enforced"
    assert refused["failed_stage"] == "tcp", "a probe that had finished keeps its verdict"
    assert refused["findings"][0]["id"] == "tcp.refused"
    assert refused["loop"]["monitored"] is True


def test_mark_blocked_time_counts_only_the_overlap() -> None:
    start = utc_now()

    def at(ms: float) -> datetime:
        return start + timedelta(milliseconds=ms)

    stages = (
        StageResult(StageName.DNS, StageStatus.OK, 1, at(0), 100.0),
        StageResult(StageName.TCP, StageStatus.OK, 1, at(100), 300.0),
        StageResult(StageName.TLS, StageStatus.SKIPPED, 1),
    )
    loop = LoopStats(blockages=(Blockage(at(50), 150.0, StageName.DNS),
                                Blockage(at(350), 500.0, StageName.TCP)))
    dns, tcp, tls = mark_blocked_time(stages, loop)
    assert dns.loop_blocked_ms == pytest.approx(50.0, abs=0.01)
    assert tcp.loop_blocked_ms == pytest.approx(100.0 + 50.0, abs=0.01)
    assert tls.loop_blocked_ms == 0.0


def test_run_budget_bounds_the_whole_run() -> None:
    with start_fault("healthy") as scenario:
        config = probe_config(scenario, TIMEOUTS)
    budget = run_budget(config, grace=0.5)
    assert budget >= 6 * BUDGET + 0.5
    assert budget < 6 * BUDGET + 0.5 + 4.0


@pytest.mark.parametrize("args", [(0.0, None, None), (None, 10**6, None), (None, None, -5.0)])
def test_guard_settings_refuse_nonsense(args: tuple[float | None, ...]) -> None:
    from binance_diag.config.errors import ConfigError

    with pytest.raises(ConfigError):
        guard_settings(*args)


def test_guard_settings_are_milliseconds() -> None:
    assert guard_settings(10, 20, 300) == GuardSettings(0.01, 0.02, 0.3)


def test_a_run_stopped_before_its_first_stage_reports_it_stuck_not_healthy() -> None:
    """A matrix whose loop blocks before a probe starts: that probe did not work."""
    from binance_diag.probe.guard import partial_report
    from binance_diag.watchdog.hard_deadline import DeadlineExpiry, ExpiryCause

    with start_fault("healthy") as scenario:
        config = probe_config(scenario, TIMEOUTS)
    progress = ProbeProgress(config)
    assert progress.plan[0] is StageName.DNS and not progress.finished
    expiry = DeadlineExpiry(ExpiryCause.LOOP_BLOCKED, "the loop was blocked", None, 12.0, 0.5,
                            where="bot.py:3 in main")
    enforced = LoopStats(monitored=True, deadline_enforced_by_watchdog=True)
    report = diagnose_report(partial_report(progress, Tracer(), enforced, expiry))
    assert report.failed_stage is not None and report.failed_stage.name is StageName.DNS
    assert report.failed_stage.error is not None
    assert "the timeout could not fire" in report.failed_stage.error.message
    assert [s.status for s in report.stages[1:]] == [StageStatus.SKIPPED] * 4
    assert report.findings[0].id == "loop.deadline_enforced"
    unwatched = diagnose_report(partial_report(ProbeProgress(config), Tracer(), LoopStats(),
                                               expiry))
    assert unwatched.findings, "a report always has a root cause"


def test_probes_sharing_a_loop_get_one_deadline_and_each_its_report() -> None:
    """The endpoint matrix's guard: the longest probe's budget, and on expiry a report per
    probe, a finished probe's verdict untouched by a deadline that was not its own."""
    from binance_diag.probe.guard import ConcurrentProbesGuard
    from binance_diag.watchdog.hard_deadline import DeadlineExpiry, ExpiryCause

    with start_fault("healthy") as scenario:
        short = probe_config(scenario, TIMEOUTS)
    long = replace(short, timeouts=replace(TIMEOUTS, tls=TIMEOUTS.tls + 7.0))
    done, stuck = ProbeProgress(short), ProbeProgress(long)
    done.finished = True
    published: list[list[ProbeReport]] = []
    watch = ConcurrentProbesGuard([(done, Tracer()), (stuck, Tracer())], published.append)
    assert watch.budget == run_budget(long) > run_budget(short)
    expiry = DeadlineExpiry(ExpiryCause.LOOP_BLOCKED, "the loop was blocked", None, 12.0, 0.5,
                            where="bot.py:3 in main")
    watch._expired(expiry)
    (reports,) = published
    assert [r.target for r in reports] == [short.target, long.target]
    assert not reports[0].loop.deadline_enforced_by_watchdog
    assert reports[1].failed_stage is not None
    assert reports[1].failed_stage.name is StageName.DNS
