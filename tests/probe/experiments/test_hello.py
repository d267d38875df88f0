"""probe/experiments/hello.py: the name in the ClientHello, or something else in it."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from binance_diag.model import ErrorKind, StageError, StageName, StageResult, StageStatus
from binance_diag.probe.experiments.catalogue import HELLO_VARIANTS, SNI_VARIANTS, SPECS
from binance_diag.probe.experiments.hello import decide_hello, decide_sni, plan
from binance_diag.probe.experiments.shell import Attempt
from binance_diag.probe.experiments.view import RunView
from tests.probe.helpers import make_config

HOST = "stream.binance.com"
OK = Attempt("handshake_ok", "TLSv1.3")
ANSWERED = Attempt("answered", "certificate rejected")
SILENT = Attempt("silent", elapsed_ms=1000.0)
RESET = Attempt("reset")
ALERT = Attempt("alert", "TLSV1_ALERT_PROTOCOL_VERSION")


def labelled(*attempts: Attempt) -> list[tuple[str, Attempt]]:
    return list(zip(("first", "second", "third"), attempts, strict=False))


@pytest.mark.parametrize(("attempts", "outcome"), [
    ((SILENT, ANSWERED, ANSWERED), "name_blocked"),
    ((RESET, SILENT, OK), "name_blocked"),
    ((SILENT, SILENT, SILENT), "all_blocked"),
    ((RESET, RESET, SILENT), "all_blocked"),
    ((OK, OK, OK), "not_reproduced"),
    ((Attempt("stalled", bytes_in=9), SILENT, SILENT), "all_blocked"),
    ((Attempt("connect_failed", "refused"), OK, OK), "inconclusive"),
])
def test_decide_sni(attempts: Sequence[Attempt], outcome: str) -> None:
    verdict = decide_sni(HOST, labelled(*attempts))
    assert verdict.outcome == outcome
    assert verdict.outcome in (*SPECS[SNI_VARIANTS].outcomes, "inconclusive")
    assert len(verdict.details["attempts"]) == 3


@pytest.mark.parametrize(("attempts", "outcome"), [
    ((ALERT, OK, ALERT), "rejects_alpn"),
    ((RESET, RESET, ANSWERED), "rejects_tls13"),
    ((RESET, RESET, RESET), "rejects_every_hello"),
    ((OK, OK, OK), "not_reproduced"),
    ((RESET, OK, OK), "inconclusive"),
])
def test_decide_hello(attempts: Sequence[Attempt], outcome: str) -> None:
    verdict = decide_hello(labelled(*attempts))
    assert verdict.outcome == outcome
    assert verdict.outcome in (*SPECS[HELLO_VARIANTS].outcomes, "inconclusive")


def tls_failed(kind: ErrorKind, **extra: object) -> tuple[StageResult, ...]:
    return (StageResult(StageName.TLS, StageStatus.FAILED, 5.0,
                        error=StageError(kind, "x", extra)),)


PINNED = make_config(f"wss://{HOST}:9443", resolve=[f"{HOST}:9443:127.0.0.1"])


def test_a_silent_hello_plans_the_sni_variants_only() -> None:
    [planned] = plan(RunView(PINNED, tls_failed(ErrorKind.TIMEOUT)))
    assert planned.name == SNI_VARIANTS and planned.run is not None
    assert "SNI example.com" in planned.action and "at 127.0.0.1" in planned.action


def test_a_refused_hello_plans_both() -> None:
    names = [p.name for p in plan(RunView(PINNED, tls_failed(ErrorKind.RESET)))]
    assert names == [SNI_VARIANTS, HELLO_VARIANTS]


def test_no_variants_for_a_peer_that_does_not_speak_tls_or_a_certificate() -> None:
    assert plan(RunView(PINNED, tls_failed(ErrorKind.HANDSHAKE_FAILURE,
                                           reason="WRONG_VERSION_NUMBER"))) == []
    assert plan(RunView(PINNED, tls_failed(ErrorKind.CERT_EXPIRED))) == []


def test_an_ip_host_sent_no_name_so_no_sni_variants() -> None:
    config = make_config("wss://127.0.0.1:9443")
    planned = plan(RunView(config, tls_failed(ErrorKind.EOF)))
    assert planned[0].name == SNI_VARIANTS and planned[0].run is None
    assert "IP address" in planned[0].reason
    assert planned[1].name == HELLO_VARIANTS and planned[1].run is not None
