"""The stages on one time axis: starts, lengths, budgets, outcomes."""

from __future__ import annotations

import pytest

from binance_diag.model import StageName, Thresholds
from binance_diag.render.waterfall import waterfall
from tests.render.cases import CASES
from tests.reports import make_report


def test_bars_follow_the_stages_start_times() -> None:
    chart = waterfall(CASES["healthy"]())
    starts = [step.start_ms for step in chart.steps]
    assert starts[0] == 0.0
    assert starts == sorted(starts)
    for before, after in zip(chart.steps, chart.steps[1:], strict=False):
        assert after.start_ms == pytest.approx(before.end_ms, abs=1.0)
    assert chart.span_ms == pytest.approx(chart.steps[-1].end_ms)


def test_a_timeout_reaches_its_deadline_and_later_stages_have_no_bar() -> None:
    chart = waterfall(CASES["tls_hang"]())
    tls = chart.steps[2]
    assert (tls.stage, tls.outcome, tls.result) == (StageName.TLS, "failed", "timeout")
    assert chart.fraction(tls.deadline_ms) == pytest.approx(1.0, abs=0.001)
    assert [s.stage for s in chart.bars] == [StageName.DNS, StageName.TCP, StageName.TLS]
    assert [(s.outcome, s.time, s.budget) for s in chart.steps[3:]] == [
        ("not reached", "–", "5 s"), ("not reached", "–", "10 s")]


def test_outcomes() -> None:
    assert [s.outcome for s in waterfall(CASES["tcp_refused_local"]()).steps] == [
        "ok", "failed", "not used", "not reached", "not reached"]
    assert waterfall(CASES["restricted_location"]()).steps[3].result == "HTTP 451"
    slow = waterfall(make_report(thresholds=Thresholds(crit={StageName.TLS: 50.0})))
    assert (slow.steps[2].outcome, slow.steps[2].result) == ("slow", "ok, over --crit tls=50")


def test_an_instant_run_still_has_an_axis() -> None:
    chart = waterfall(make_report(durations={name: 0.0 for name in StageName}))
    assert all(step.duration_ms == 0.0 for step in chart.bars) and len(chart.bars) == 5
    assert chart.span_ms == max(1.0, chart.steps[-1].end_ms)
    assert chart.span_ms > 0  # fractions stay finite
