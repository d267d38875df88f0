"""watch/events.py: Binance's own closes told apart, severities, the bounded timeline."""

from __future__ import annotations

from datetime import timedelta

import pytest

from binance_diag.model import Severity
from binance_diag.timing import utc_now
from binance_diag.watch.events import (
    EXPECTED,
    SEVERITY,
    TIMELINE_LINES,
    Conclusion,
    EventKind,
    WatchEvent,
    WatchTimeline,
    classify_close,
)

DAY = 86_400.0


@pytest.mark.parametrize(("code", "age", "notice", "conclusion"), [
    (1001, 10.0, True, Conclusion.SERVER_SHUTDOWN),
    (1000, DAY, False, Conclusion.DAILY_DISCONNECT),
    (None, DAY * 0.985, False, Conclusion.DAILY_DISCONNECT),
    (1006, DAY * 0.97, False, Conclusion.UNEXPECTED_CLOSE),
    (1008, 60.0, False, Conclusion.POLICY_CLOSE),
    (1011, 60.0, False, Conclusion.UNEXPECTED_CLOSE),
    (None, 60.0, False, Conclusion.UNEXPECTED_CLOSE),
])
def test_classify_close(code: int | None, age: float, notice: bool,
                        conclusion: Conclusion) -> None:
    assert classify_close(code, "", age, DAY, notice) is conclusion


def test_every_conclusion_has_a_severity_and_binances_own_are_never_critical() -> None:
    assert set(SEVERITY) == set(Conclusion)
    assert all(SEVERITY[c] is not Severity.CRITICAL for c in EXPECTED)


def test_an_event_as_data() -> None:
    event = WatchEvent(7, EventKind.RECONNECT_FAILED, Conclusion.PATH_DOWN, "down",
                       evidence=["tcp fails"], details={"code": None})
    assert event.severity is Severity.CRITICAL and not event.expected
    assert event.slug == "incident-0007-reconnect-failed"
    data = event.to_dict()
    assert data["kind"] == "reconnect_failed" and data["severity"] == "critical"
    assert data["evidence"] == ["tcp fails"] and data["recovery_s"] is None
    event.evidence.append("later")
    assert data["evidence"] == ["tcp fails"], "to_dict copies"
    assert WatchEvent(1, EventKind.CLOSE, Conclusion.DAILY_DISCONNECT, "d").expected


def test_the_timeline_is_bounded_and_gives_the_lines_before_an_event() -> None:
    timeline = WatchTimeline()
    now = utc_now()
    for n in range(TIMELINE_LINES + 10):
        timeline.add(f"line {n}", now - timedelta(seconds=TIMELINE_LINES + 10 - n))
    assert len(timeline.lines) == TIMELINE_LINES
    assert timeline.lines[0][1] == "line 10"
    around = timeline.around(now, before_s=5)
    assert [text for _, text in around] == [f"line {n}" for n in range(505, 510)]
