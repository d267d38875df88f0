"""diagnose/rules/message.py: each first-message and hold rule fires from its measurements."""

from __future__ import annotations

import pytest

from binance_diag.diagnose.rules import message
from tests.diagnose.rules.cases import assert_rule_fires, rule_ids_of


@pytest.mark.parametrize("rule_id", rule_ids_of(message))
def test_rule_fires_from_measurements(rule_id: str) -> None:
    assert_rule_fires(rule_id)
