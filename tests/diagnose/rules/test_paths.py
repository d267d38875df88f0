"""diagnose/rules/paths.py: each way in that an experiment proved working is reported."""

from __future__ import annotations

import pytest

from binance_diag.diagnose.rules import paths
from tests.diagnose.rules.cases import assert_rule_fires, rule_ids_of


@pytest.mark.parametrize("rule_id", rule_ids_of(paths))
def test_rule_fires_from_measurements(rule_id: str) -> None:
    assert_rule_fires(rule_id)
