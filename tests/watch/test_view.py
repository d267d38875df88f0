"""watch/view.py: plain lines anywhere but a terminal; the live view keeps the last events."""

from __future__ import annotations

import io
import re

from binance_diag.watch.view import LiveView, PlainView, make_view


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_plain_output_is_timestamped_lines_and_the_status_on_demand() -> None:
    out = io.StringIO()
    view = make_view(lambda: ["held: 3 msgs", "probes: 1"], out)
    assert type(view) is PlainView
    view.start()
    view.line("stall: no message for 12 s")
    view.status()
    view.stop()
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert all(re.fullmatch(r"\d\d:\d\d:\d\d\.\d{3} .+", line) for line in lines)
    assert lines[0].endswith(" stall: no message for 12 s")
    assert lines[2].endswith(" probes: 1")


def test_a_terminal_gets_the_live_view_with_the_last_eight_events() -> None:
    out = Terminal()
    view = make_view(lambda: ["held: 3 msgs"], out)
    assert isinstance(view, LiveView)
    view.start()
    try:
        for n in range(12):
            view.line(f"event {n}")
        view.status()  # redrawn continuously: nothing printed for it
    finally:
        view.stop()
    assert [text.split(" ", 1)[1] for text in view.recent] == [f"event {n}"
                                                               for n in range(4, 12)]
    assert "held: 3 msgs" in out.getvalue() and "event 11" in out.getvalue()
    view.stop()  # twice is harmless
