"""diagnose/rules/clock.py: the clock is off, delivery is late, or (not measured) a guess."""

from __future__ import annotations

import pytest

from binance_diag.diagnose import diagnose_report
from binance_diag.diagnose.rules import clock
from tests.diagnose.rules.cases import assert_rule_fires, rule_ids_of, server_time, skewed, tried


@pytest.mark.parametrize("rule_id", rule_ids_of(clock))
def test_rule_fires_from_measurements(rule_id: str) -> None:
    assert_rule_fires(rule_id)


def ids(report: object) -> list[str]:
    return [f.id for f in report.findings]  # type: ignore[attr-defined]


def test_a_measured_clock_off_says_so_with_its_bound() -> None:
    report = tried(skewed(-5000.0), "clock.server_time", "clock_off",
                   **server_time(5001.5, -5000.0))
    top = report.findings[0]
    assert top.id == "message.clock_off" and "message.clock_skew" not in ids(report)
    assert top.title == ("Your clock is off by ~5.0 s (± 13.0 ms): it is behind Binance's "
                         "server time")
    assert any("latency 1.5 ms ± 13.0 ms" in line for line in top.evidence)


def test_late_delivery_is_not_called_a_clock() -> None:
    report = tried(skewed(3004.0), "clock.server_time", "late_delivery",
                   **server_time(-1.0, 3004.0))
    assert ids(report)[0] == "message.late_delivery"
    assert not {"message.clock_off", "message.clock_skew"} & set(ids(report))
    assert report.findings[0].title.startswith("Delivery is late: events arrive 3.00 s")


def test_both_at_once() -> None:
    report = tried(skewed(6000.0), "clock.server_time", "clock_off_and_late",
                   **server_time(-4000.0, 6000.0))
    assert {"message.clock_off", "message.late_delivery"} <= set(ids(report))


@pytest.mark.parametrize("outcome", ["inconclusive", "not_separated", None])
def test_without_a_separating_measurement_the_rule_guesses(outcome: str | None) -> None:
    report = skewed(4000.0) if outcome is None else tried(
        skewed(4000.0), "clock.server_time", outcome)
    report = diagnose_report(report) if outcome is None else report
    assert ids(report)[0] == "message.clock_skew"
    assert "the clock, or late delivery" in report.findings[0].title


def test_a_negative_lag_can_only_be_the_clock() -> None:
    report = diagnose_report(skewed(-3500.0))
    assert "behind by at least 3.50 s" in report.findings[0].hypothesis
