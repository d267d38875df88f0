"""diagnose/rules/transport.py: each proxy and TCP rule fires from its measurements."""

from __future__ import annotations

import pytest

from binance_diag.diagnose.rules import transport
from tests.diagnose.rules.cases import assert_rule_fires, rule_ids_of


@pytest.mark.parametrize("rule_id", rule_ids_of(transport))
def test_rule_fires_from_measurements(rule_id: str) -> None:
    assert_rule_fires(rule_id)
