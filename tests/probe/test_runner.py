"""The runner's verdicts, as pure functions of what a stage returned and how long it took."""

import asyncio

import pytest

from binance_diag.model import ErrorKind, StageError, StageStatus
from binance_diag.probe.base import StageOutcome, passed
from binance_diag.probe.runner import past_deadline
from binance_diag.simulate.certs import CertificateAuthority


def test_a_pass_after_the_deadline_is_a_timeout_that_keeps_its_details() -> None:
    late = past_deadline(passed(protocol="TLSv1.3"), duration_ms=2.5, budget_s=0.001)
    assert late.status is StageStatus.TIMEOUT
    assert late.error is not None and late.error.kind is ErrorKind.TIMEOUT
    assert late.error.message == ("timed out after 1.0 ms: it completed only 1.5 ms past "
                                  "its deadline")
    assert late.error.extra == {"completed_late_ms": 1.5}
    assert late.details == {"protocol": "TLSv1.3"}


def test_a_pass_on_time_and_a_failure_are_left_alone() -> None:
    on_time = passed(protocol="TLSv1.3")
    assert past_deadline(on_time, duration_ms=1.0, budget_s=0.001) is on_time
    refused = StageOutcome(StageStatus.FAILED, StageError(ErrorKind.REFUSED, "refused"))
    assert past_deadline(refused, duration_ms=9.0, budget_s=0.001) is refused


def test_the_answer_that_counts_decides_lateness_not_the_waits_after_it() -> None:
    from binance_diag.model import StageName
    from binance_diag.probe.runner import essential_ms

    pinned = passed(source="--resolve", addresses=["127.0.0.1"])
    assert essential_ms(StageName.DNS, pinned, duration_ms=250.0) == 0.0
    compared = passed(source="dns", lookup_ms=3.0)  # then waited for comparison resolvers
    assert essential_ms(StageName.DNS, compared, duration_ms=999.0) == 3.0
    settled = passed(connect_ms=0.4)  # then waited on a slower address
    assert essential_ms(StageName.TCP, settled, duration_ms=999.0) == 0.4
    assert essential_ms(StageName.TLS, passed(), duration_ms=12.0) == 12.0


def test_a_report_built_for_a_stuck_run_keeps_stages_a_proxy_replaces_not_applicable() -> None:
    from binance_diag.model import LoopStats, StageName
    from binance_diag.probe.base import Tracer
    from binance_diag.probe.runner import ProbeProgress, build_report
    from tests.probe.helpers import make_config

    config = make_config("wss://stream.binance.com:9443", proxy="http://127.0.0.1:3128")
    progress = ProbeProgress(config, "binance-diag probe BTCUSDT")
    progress.plan = (StageName.DNS, StageName.PROXY, StageName.TCP, StageName.TLS)
    report = build_report(progress, Tracer(), LoopStats())  # the proxy stage never returned
    reasons = {s.name: str(s.details["reason"]) for s in report.stages}
    assert reasons[StageName.TCP].startswith("not applicable")
    assert reasons[StageName.DNS].startswith("not applicable")
    assert reasons[StageName.TLS] == "an earlier stage failed"


class _Watcher:
    """A HoldWatcher that remembers what it was told (the live line's input)."""

    def __init__(self) -> None:
        self.started: list[float] = []
        self.kinds: list[str] = []

    def hold_started(self, duration_s: float) -> None:
        self.started.append(duration_s)

    def hold_event(self, kind: str, at: float, detail: object) -> None:
        self.kinds.append(kind)


@pytest.mark.timeout(20)
def test_hold_watchers_hear_the_hold_start_and_each_event(certs: CertificateAuthority) -> None:
    from dataclasses import replace

    from binance_diag.probe.base import Tracer
    from binance_diag.probe.runner import run_probe
    from binance_diag.simulate.scenario import start_fault
    from tests.probe.helpers import config_for

    watcher, tracer = _Watcher(), Tracer()
    tracer.hold_watchers.append(watcher)
    with start_fault("healthy", certs=certs) as scenario:
        config = replace(config_for(scenario), hold=0.5)
        report = asyncio.run(run_probe(config, tracer=tracer))
    assert report.failed_stage is None
    assert watcher.started == [0.5]
    assert watcher.kinds.count("event") >= 1
