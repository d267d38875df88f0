"""diagnose/rules/runtime.py: loop, error and lateness rules fire from measurements."""

from __future__ import annotations

import pytest

from binance_diag.diagnose.rules import runtime
from binance_diag.model import ErrorKind as K
from tests.diagnose.rules.cases import (
    TLS,
    assert_rule_fires,
    make_report,
    rule_ids_of,
)


@pytest.mark.parametrize("rule_id", rule_ids_of(runtime))
def test_rule_fires_from_measurements(rule_id: str) -> None:
    assert_rule_fires(rule_id)


def test_a_late_answer_is_not_blamed_on_silence() -> None:
    report = make_report(fail=TLS, kind=K.TIMEOUT, message="timed out after 5.00 s: it "
                         "completed only 1.5 ms past its deadline",
                         extra={"completed_late_ms": 1.5}, command="binance-diag probe BTCUSDT")
    top = report.findings[0]
    assert top.id == "stage.completed_late"
    assert top.title == "TLS answered only after its 5.00 s deadline"
    assert "Probe again with a longer budget: `binance-diag probe BTCUSDT --tls-timeout 10`" \
        in top.actions
    assert "tls.handshake_timeout" not in [f.id for f in report.findings]
