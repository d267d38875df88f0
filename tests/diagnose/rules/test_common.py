"""diagnose/rules/common.py: the small predicates the rule tables share, on built stage results."""

from __future__ import annotations

from binance_diag.diagnose.facts import Facts
from binance_diag.diagnose.rules.common import (
    binance,
    bytes_received,
    detail,
    extra,
    no_bytes,
    not_binance,
    some_bytes,
)
from binance_diag.model import ErrorKind, ProbeReport, StageName
from tests.reports import make_report


def test_extra_and_detail_read_the_error_and_the_details_and_tolerate_none() -> None:
    report = make_report(fail=StageName.TLS, kind=ErrorKind.TIMEOUT,
                         extra={"bytes_received": 0}, details={"sni": "stream.binance.com"})
    tls = report.stage(StageName.TLS)
    assert extra(tls, "bytes_received") == 0 and extra(tls, "missing") is None
    assert detail(tls, "sni") == "stream.binance.com"
    assert extra(None, "x") is None and detail(None, "x") is None
    assert extra(report.stage(StageName.DNS), "bytes_received") is None  # passed: no error


def test_bytes_received_tells_none_from_zero_and_ignores_booleans() -> None:
    def tls_with(**evidence: object) -> ProbeReport:
        return make_report(fail=StageName.TLS, kind=ErrorKind.TIMEOUT, extra=evidence)

    silent = tls_with(bytes_received=0)
    stage = silent.stage(StageName.TLS)
    facts = Facts(silent)
    assert bytes_received(stage) == 0 and no_bytes(facts, stage) and not some_bytes(facts, stage)
    some = tls_with(bytes_received=517).stage(StageName.TLS)
    assert bytes_received(some) == 517 and some_bytes(facts, some)
    unknown = tls_with(bytes_received=True).stage(StageName.TLS)
    assert bytes_received(unknown) is None and not no_bytes(facts, unknown)


def test_the_host_is_binance_or_not() -> None:
    spot = Facts(make_report())
    assert binance(spot, None) and not not_binance(spot, None)
    local = Facts(make_report(endpoint="ws://127.0.0.1:9"))
    assert not_binance(local, None) and not binance(local, None)
