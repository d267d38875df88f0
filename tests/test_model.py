"""model.py: the vocabulary of a probe and what a report derives from its stages.

Pure data, fed by hand. The names and values are the JSON contract (schema version
`binance-diag/probe/1`): a renamed member fails here before it reaches a user's parser.
"""

from __future__ import annotations

import dataclasses

import pytest

from binance_diag.model import (
    SCHEMA_ID,
    Blame,
    Blockage,
    ErrorKind,
    Finding,
    LoopStats,
    OverallStatus,
    ProbeReport,
    Severity,
    StageError,
    StageName,
    StageResult,
    StageStatus,
    Target,
)
from tests.reports import AT, make_report

TCP, TLS = StageName.TCP, StageName.TLS


def test_the_contracts_names_and_values() -> None:
    assert SCHEMA_ID == "binance-diag/probe/1"
    assert [s.value for s in StageName] == ["dns", "proxy", "tcp", "tls", "ws_upgrade",
                                            "first_message"]
    assert [s.value for s in StageStatus] == ["ok", "failed", "timeout", "skipped"]
    assert [s.value for s in OverallStatus] == ["ok", "degraded", "failed"]
    assert [s.value for s in Severity] == ["critical", "warning", "info"]
    assert [b.value for b in Blame] == ["local", "network", "remote", "policy"]
    assert ErrorKind("cert_untrusted") is ErrorKind.CERT_UNTRUSTED
    assert all(kind.value == kind.name.lower() for kind in ErrorKind)


def test_every_stage_has_a_label() -> None:
    assert [s.label for s in StageName] == ["DNS", "Proxy", "TCP", "TLS", "WebSocket upgrade",
                                            "First message"]


def test_results_are_frozen() -> None:
    stage = StageResult(TCP, StageStatus.OK, 5.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        stage.status = StageStatus.FAILED  # type: ignore[misc]
    assert stage.passed
    assert not StageResult(TCP, StageStatus.SKIPPED, 5.0).passed
    assert StageError(ErrorKind.RESET, "reset").extra == {}


def test_a_report_finds_its_stages_and_its_failure() -> None:
    report = make_report(fail=TLS, kind=ErrorKind.RESET, diagnosed=False)
    tls = report.stage(TLS)
    assert tls is not None and tls.status is StageStatus.FAILED
    assert report.failed_stage is tls
    assert report.stage(StageName.PROXY) is None  # not in this run
    assert make_report(diagnosed=False).failed_stage is None


def test_a_timeout_is_a_failure_and_a_skip_is_not() -> None:
    stages = (StageResult(TCP, StageStatus.OK, 5.0),
              StageResult(TLS, StageStatus.TIMEOUT, 5.0),
              StageResult(StageName.WS_UPGRADE, StageStatus.SKIPPED, 5.0))
    report = dataclasses.replace(make_report(diagnosed=False), stages=stages)
    assert report.failed_stage is stages[1]
    assert report.status is OverallStatus.FAILED


def finding(severity: Severity) -> Finding:
    return Finding("x.y", severity, Blame.NETWORK, "title", "hypothesis")


@pytest.mark.parametrize(
    ("findings", "blockages", "status"),
    [
        ((), (), OverallStatus.OK),
        ((finding(Severity.INFO),), (), OverallStatus.OK),
        ((finding(Severity.WARNING),), (), OverallStatus.DEGRADED),
        ((finding(Severity.CRITICAL),), (), OverallStatus.DEGRADED),
        ((), (Blockage(AT, 300.0, TCP),), OverallStatus.DEGRADED),
    ],
)
def test_a_run_whose_stages_passed_is_degraded_by_findings_or_blockages(
        findings: tuple[Finding, ...], blockages: tuple[Blockage, ...],
        status: OverallStatus) -> None:
    report = dataclasses.replace(make_report(diagnosed=False), findings=findings,
                                 loop=LoopStats(blockages=blockages))
    assert report.status is status


def test_a_failed_stage_outranks_everything() -> None:
    report = dataclasses.replace(make_report(fail=TCP, kind=ErrorKind.REFUSED, diagnosed=False),
                                 findings=(finding(Severity.INFO),))
    assert report.status is OverallStatus.FAILED


def test_a_target_with_several_symbols_is_a_combined_stream() -> None:
    one = Target("wss://h:9443/ws/btcusdt@aggTrade", "h", 9443, True, "/ws/btcusdt@aggTrade",
                 ("BTCUSDT",), "aggTrade", "spot")
    assert not one.combined
    assert dataclasses.replace(one, symbols=("BTCUSDT", "ETHUSDT")).combined


def test_nobody_watched_the_loop_by_default() -> None:
    loop = LoopStats()
    assert (loop.monitored, loop.blockages, loop.max_lag_ms, loop.heartbeats) == \
        (False, (), 0.0, 0)
    assert ProbeReport("0.1.0", AT, make_report().target, ()).loop == loop
