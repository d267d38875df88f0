"""timing.py: absolute deadlines and the durations people read."""

from __future__ import annotations

import time
from datetime import UTC

from binance_diag.timing import Deadline, format_ms, format_seconds, utc_now
from tests.utils import MS


def test_a_deadline_is_absolute_and_never_negative() -> None:
    deadline = Deadline(50 * MS)
    assert deadline.budget == 50 * MS and not deadline.expired
    assert 0 < deadline.remaining() <= 50 * MS
    time.sleep(60 * MS)
    assert deadline.expired and deadline.remaining() == 0.0
    assert deadline.elapsed_ms() >= 60 * MS * 1000
    assert Deadline(0).expired


def test_durations_switch_to_seconds_at_one_second() -> None:
    assert format_ms(12.34) == "12.3 ms"
    assert format_ms(999.9) == "999.9 ms"
    assert format_ms(1000) == "1.00 s"
    assert format_seconds(0.199) == "199.0 ms"
    assert format_seconds(5) == "5.00 s"


def test_utc_now_is_aware_utc() -> None:
    assert utc_now().tzinfo is UTC
