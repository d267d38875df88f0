"""probe/experiments/tunnel.py: the proxy's tunnel or the target behind it."""

from __future__ import annotations

import pytest

from binance_diag.model import ErrorKind, StageError, StageName, StageResult, StageStatus
from binance_diag.probe.experiments.catalogue import TUNNEL_VS_DIRECT
from binance_diag.probe.experiments.shell import Attempt
from binance_diag.probe.experiments.tunnel import decide, plan
from binance_diag.probe.experiments.view import RunView
from tests.probe.helpers import make_config

OK = Attempt("handshake_ok", "TLSv1.3")
SILENT = Attempt("silent", elapsed_ms=1000.0)
STALLED = Attempt("stalled", "12 bytes, then silence", 12)


@pytest.mark.parametrize(("through", "straight", "outcome"), [
    (OK, SILENT, "not_reproduced"),
    (SILENT, OK, "direct_answers"),
    (STALLED, Attempt("answered", "certificate rejected"), "direct_answers"),
    (SILENT, SILENT, "both_silent"),
    (SILENT, Attempt("reset"), "both_silent"),
    (SILENT, Attempt("connect_failed", "refused"), "inconclusive"),
])
def test_decide(through: Attempt, straight: Attempt, outcome: str) -> None:
    verdict = decide(through, straight)
    assert verdict.outcome == outcome
    assert "through the proxy:" in verdict.result and "direct:" in verdict.result
    assert [a["attempt"] for a in verdict.details["attempts"]] == ["through the proxy",
                                                                   "direct"]


def stages(kind: ErrorKind) -> tuple[StageResult, ...]:
    return (StageResult(StageName.PROXY, StageStatus.OK, 5.0, duration_ms=3.0),
            StageResult(StageName.TLS, StageStatus.TIMEOUT, 5.0, error=StageError(kind, "x")))


def test_planned_only_behind_a_proxy_that_passed_for_a_silent_tls() -> None:
    pinned = ["stream.binance.com:9443:127.0.0.1"]
    config = make_config("wss://stream.binance.com:9443", resolve=pinned,
                         proxy="http://127.0.0.1:3128")
    [planned] = plan(RunView(config, stages(ErrorKind.TIMEOUT)))
    assert planned.name == TUNNEL_VS_DIRECT and planned.run is not None
    assert "direct to stream.binance.com:9443 at 127.0.0.1" in planned.action
    assert plan(RunView(config, stages(ErrorKind.CERT_UNTRUSTED))) == []
    assert plan(RunView(make_config("wss://stream.binance.com:9443", resolve=pinned),
                        stages(ErrorKind.TIMEOUT))) == []


def test_not_run_without_a_direct_address() -> None:
    config = make_config("wss://stream.binance.com:9443", proxy="http://127.0.0.1:3128")
    [planned] = plan(RunView(config, stages(ErrorKind.RESET)))
    assert planned.run is None and "without asking DNS" in planned.reason
