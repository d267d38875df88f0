"""The rule table (diagnose/rules/__init__.py): every rule has a case, every error kind of
every stage a specific rule, and the table is well formed and ranked."""

from __future__ import annotations

import pytest

from binance_diag.diagnose import RULES, RULES_BY_ID, diagnose
from binance_diag.diagnose.rule import Scope
from binance_diag.diagnose.rules import (
    clock,
    dns,
    message,
    paths,
    runtime,
    tls,
    transport,
    upgrade,
)
from binance_diag.model import (
    ErrorKind,
    StageName,
)
from tests.diagnose.rules.cases import CASES, DNS, MESSAGE, PROXY, TCP, TLS, UPGRADE, K, rule_ids_of
from tests.reports import make_report


def test_every_rule_has_a_case() -> None:
    assert sorted(CASES) == sorted(RULES_BY_ID)



STAGE_KINDS = {
    DNS: (K.NXDOMAIN, K.NO_ANSWER, K.TIMEOUT, K.SERVFAIL, K.REFUSED, K.NO_NAMESERVERS),
    PROXY: (K.REFUSED, K.TIMEOUT, K.AUTH_REQUIRED, K.REJECTED),
    TCP: (K.REFUSED, K.TIMEOUT, K.UNREACHABLE, K.RESET),
    TLS: (K.TIMEOUT, K.CERT_UNTRUSTED, K.CERT_EXPIRED, K.CERT_NOT_YET_VALID,
          K.HOSTNAME_MISMATCH, K.HANDSHAKE_FAILURE, K.RESET, K.EOF),
    UPGRADE: (K.TIMEOUT, K.HTTP_STATUS, K.NOT_WEBSOCKET, K.INVALID_HANDSHAKE, K.EOF, K.RESET),
    MESSAGE: (K.TIMEOUT, K.CLOSED, K.INVALID_PAYLOAD, K.WRONG_STREAM),
}
PREFIX = {DNS: "dns.", PROXY: "proxy.", TCP: "tcp.", TLS: "tls.", UPGRADE: "upgrade.",
          MESSAGE: "message."}


@pytest.mark.parametrize(("stage", "kind"), [(s, k) for s, kinds in STAGE_KINDS.items()
                                             for k in (*kinds, K.INTERNAL)])
@pytest.mark.parametrize("endpoint", ["spot", "wss://127.0.0.1:8443"])
def test_every_error_kind_of_every_stage_has_a_specific_rule(
        stage: StageName, kind: ErrorKind, endpoint: str) -> None:
    """Even with no evidence beyond the kind (e.g. a stage abandoned by the runner)."""
    report = make_report(endpoint=endpoint, proxy=stage is PROXY, fail=stage, kind=kind)
    top = report.findings[0]
    expected = "runtime.internal_error" if kind is K.INTERNAL else PREFIX[stage]
    assert top.id.startswith(expected), top.id
    assert top.severity.value == "critical"


def test_rule_table_is_well_formed() -> None:
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    for rule in RULES:
        assert rule.id.count(".") == 1 and rule.id == rule.id.lower()
        assert rule.meaning.endswith(".") or rule.meaning.endswith(")"), rule.id
        if rule.scope is Scope.FAILURE and rule.id != "runtime.unclassified":
            assert rule.analysis, f"{rule.id}: a failure rule says what it rules in and out"
    assert RULES[-1].id == "probe.healthy"


def test_healthy_report_has_only_the_info_finding() -> None:
    report = make_report()
    assert [f.id for f in report.findings] == ["probe.healthy"]
    assert report.status.value == "ok"


def test_findings_are_deterministic() -> None:
    assert diagnose(CASES["dns.private_address"]()) == diagnose(CASES["dns.private_address"]())



def test_every_rule_is_defined_by_one_module() -> None:
    """The per-module case runs (tests/diagnose/rules/) together cover the whole table."""
    modules = (clock, dns, message, paths, runtime, tls, transport, upgrade)
    by_module = [rule_id for module in modules
                 for rule_id in rule_ids_of(module)]
    assert sorted(by_module) == sorted(RULES_BY_ID)
