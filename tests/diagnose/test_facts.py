"""What the report says worked: only what was measured (pure, from built reports)."""

from __future__ import annotations

from binance_diag.diagnose.facts import Facts
from binance_diag.model import ErrorKind, StageName
from tests.reports import make_report

DNS, TCP = StageName.DNS, StageName.TCP


def test_worked_lists_the_passed_stages_before_the_subject() -> None:
    report = make_report(fail=StageName.WS_UPGRADE)
    facts = Facts(report)
    assert facts.worked(report.stage(StageName.WS_UPGRADE)) == "DNS, TCP and TLS all worked"
    assert facts.worked(report.stage(StageName.TLS)) == "DNS and TCP all worked"
    assert facts.worked(report.stage(TCP)) == "DNS worked"
    healthy = make_report()
    assert Facts(healthy).worked(None) == \
        "DNS, TCP, TLS, the upgrade and the first event all worked"


def test_an_address_given_by_resolve_is_not_a_dns_result() -> None:
    pinned = {DNS: {"source": "--resolve", "addresses": ["127.0.0.1"]}}
    report = make_report(fail=TCP, kind=ErrorKind.REFUSED, overrides=pinned)
    facts = Facts(report)
    assert facts.worked(report.stage(TCP)) == "`--resolve` gave the address"
    assert facts.previous_line(report.stage(TCP)) == [
        "`--resolve` gave `127.0.0.1` (no DNS query)"]
    healthy = Facts(make_report(overrides=pinned))
    assert healthy.worked(None) == ("TCP, TLS, the upgrade and the first event all worked "
                                    "(`--resolve` gave the address)")


def test_the_analysis_of_a_refusal_does_not_claim_dns_worked() -> None:
    pinned = {DNS: {"source": "--resolve", "addresses": ["127.0.0.1"]}}
    report = make_report(fail=TCP, kind=ErrorKind.REFUSED, overrides=pinned)
    assert not [line for line in report.analysis if "DNS worked" in line]
    assert any("(`--resolve` gave the address)" in line for line in report.analysis)
