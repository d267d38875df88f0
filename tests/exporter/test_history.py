"""The recent probes: newest first, bounded, found by id."""

from __future__ import annotations

import pytest

from binance_diag.exporter.history import History
from binance_diag.exporter.probing import ProbeRun
from tests.reports import make_report

pytestmark = pytest.mark.timeout(10)
RUN = ProbeRun(make_report(), 0.1, 1.0, False)


def test_newest_first_and_bounded() -> None:
    history = History(2)
    ids = [history.add("m", f"T{i}", RUN).id for i in range(3)]
    assert [r.target for r in history.recent()] == ["T2", "T1"]
    assert history.get(ids[0]) is None and history.get(ids[2]) is not None
    assert len(set(ids)) == 3


def test_a_zero_limit_keeps_nothing() -> None:
    history = History(0)
    history.add("m", "T", RUN)
    assert history.recent() == []
