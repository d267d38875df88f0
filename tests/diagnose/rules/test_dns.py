"""diagnose/rules/dns.py: each DNS rule fires from its measurements; resolver addresses."""

from __future__ import annotations

import pytest

from binance_diag.diagnose.rules import dns
from binance_diag.model import ErrorKind as K
from tests.diagnose.rules.cases import (
    DNS,
    assert_rule_fires,
    make_report,
    rule_ids_of,
)


@pytest.mark.parametrize("rule_id", rule_ids_of(dns))
def test_rule_fires_from_measurements(rule_id: str) -> None:
    assert_rule_fires(rule_id)


@pytest.mark.parametrize(("text", "server"), [
    ("127.0.0.1:5353", ("127.0.0.1", 5353)),
    ("[::1]:5353", ("::1", 5353)),
    ("10.0.0.53, 10.0.0.54 (system)", ("10.0.0.53", 53)),
    ("::1 (system)", ("::1", 53)),
    ("none (no system configuration)", None),
    ("", None),
])
def test_resolver_address(text: str, server: tuple[str, int] | None) -> None:
    from binance_diag.diagnose.rules.dns import resolver_address

    assert resolver_address(text) == server


def test_a_dns_timeout_names_the_resolver_port_and_a_dig_line() -> None:
    report = make_report(fail=DNS, kind=K.TIMEOUT, details={"resolver": "127.0.0.1:5353"})
    top = report.findings[0]
    assert top.id == "dns.timeout"
    assert "port 5353 is blocked" in top.hypothesis
    assert "Test the resolver directly: `dig stream.binance.com @127.0.0.1 -p 5353`" in \
        top.actions

