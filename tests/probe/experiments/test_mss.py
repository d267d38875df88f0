"""probe/experiments/mss.py: the same handshake with small packets (a path-MTU black hole),
decided from data and run against the simulator's MTU middlebox on loopback."""

from __future__ import annotations

import asyncio
import socket

import pytest

from binance_diag.model import ErrorKind, StageError, StageName, StageResult, StageStatus
from binance_diag.probe.experiments.catalogue import SMALL_MSS, SPECS
from binance_diag.probe.experiments.mss import decide, plan
from binance_diag.probe.experiments.shell import Attempt
from binance_diag.probe.experiments.view import RunView
from binance_diag.simulate.certs import CertificateAuthority
from binance_diag.simulate.scenario import start_fault
from binance_diag.timing import Deadline
from tests.probe.helpers import config_for, make_config
from tests.utils import MS


@pytest.mark.parametrize(("attempt", "outcome"), [
    (Attempt("handshake_ok", "TLSv1.3", mss=536), "answered"),
    (Attempt("answered", "certificate rejected"), "answered"),
    (Attempt("stalled", bytes_in=10), "stalled"),
    (Attempt("silent", elapsed_ms=900.0), "silent"),
    (Attempt("reset"), "reset"),
    (Attempt("not_tls", "WRONG_VERSION_NUMBER"), "silent"),
    (Attempt("unsupported", "no TCP_MAXSEG"), "unsupported"),
])
def test_decide(attempt: Attempt, outcome: str) -> None:
    verdict = decide(attempt)
    assert verdict.outcome == outcome
    assert outcome in SPECS[SMALL_MSS].outcomes
    assert verdict.details["attempt"] == "MSS 536"


def test_the_negotiated_mss_is_named() -> None:
    assert "(MSS 536 negotiated)" in decide(Attempt("handshake_ok", mss=536)).result


def timed_out_tls(sni: str = "stream.binance.com") -> tuple[StageResult, ...]:
    return (StageResult(StageName.TLS, StageStatus.TIMEOUT, 5.0,
                        error=StageError(ErrorKind.TIMEOUT, "t"), details={"sni": sni}),)


def test_only_a_silent_handshake_plans_it_and_never_through_a_proxy() -> None:
    config = make_config("wss://stream.binance.com:9443", proxy="http://127.0.0.1:3128")
    [planned] = plan(RunView(config, timed_out_tls()))
    assert planned.run is None and "through a proxy" in planned.reason
    refused = (StageResult(StageName.TLS, StageStatus.FAILED, 5.0,
                           error=StageError(ErrorKind.RESET, "r")),)
    assert plan(RunView(make_config("wss://stream.binance.com:9443"), refused)) == []


@pytest.mark.timeout(20)
@pytest.mark.skipif(not hasattr(socket, "TCP_MAXSEG"), reason="TCP_MAXSEG is Linux's")
def test_small_packets_get_through_the_mtu_black_hole(certs: CertificateAuthority) -> None:
    with start_fault("path-mtu-blackhole", certs=certs) as scenario:
        config = config_for(scenario)
        view = RunView(config, timed_out_tls(), addresses=(scenario.address,))
        [planned] = plan(view)
        assert planned.run is not None
        verdict = asyncio.run(planned.run(Deadline(3000 * MS)))
        assert scenario.middlebox is not None
        assert scenario.middlebox.decisions == ["relayed"]
    assert verdict.outcome == "answered", verdict
