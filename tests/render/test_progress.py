"""Live progress: each stage ends as ✅/❌ with its time, and nothing is left spinning."""

from __future__ import annotations

import io

from rich.console import Console

from binance_diag.model import StageName
from binance_diag.render.progress import StageProgress

SPINNER_FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


def final_frame(progress: StageProgress, width: int = 60) -> str:
    console = Console(file=io.StringIO(), width=width, color_system=None)
    console.print(progress.renderable())
    return console.file.getvalue()  # type: ignore[attr-defined, no-any-return]


def test_stages_end_marked_with_their_time() -> None:
    console = Console(file=io.StringIO(), force_terminal=True, width=60)
    with StageProgress(console) as progress:
        progress(StageName.DNS, "start", None)
        progress(StageName.DNS, "ok", 12.34)
        progress(StageName.TCP, "start", None)
        progress(StageName.TCP, "timeout", 5001.0)
        progress(StageName.TLS, "skipped", None)
    frame = final_frame(progress)
    assert "✅ DNS lookup" in frame and "12.3 ms" in frame
    assert "❌ TCP connect" in frame and "5.00 s" in frame
    assert "TLS handshake" in frame and "skipped" in frame
    assert not set(SPINNER_FRAMES) & set(frame)


def test_a_stage_still_running_at_stop_is_not_left_spinning() -> None:
    console = Console(file=io.StringIO(), force_terminal=True, width=60)
    progress = StageProgress(console)
    progress.start()
    progress(StageName.TLS, "start", None)
    assert set(SPINNER_FRAMES) & set(final_frame(progress))
    progress.stop()
    frame = final_frame(progress)
    assert "interrupted" in frame
    assert not set(SPINNER_FRAMES) & set(frame)


def test_a_running_stage_shows_the_loop_blockage_and_keeps_spinning() -> None:
    """The spinner is drawn by rich's own refresh thread: a blocked loop cannot freeze it."""
    import time

    lag: list[float | None] = [None]
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=80)
    progress = StageProgress(console, loop_lag=lambda: lag[0])
    progress.start()
    progress(StageName.TLS, "start", None)
    assert "event loop blocked" not in final_frame(progress)
    lag[0] = 1234.0
    assert "event loop blocked 1.23 s" in final_frame(progress)
    before = len(out.getvalue())
    time.sleep(0.3)  # this thread is "the blocked loop": only the refresh thread draws
    assert len(out.getvalue()) > before, "the display kept refreshing"
    progress.stop()


class Clock:
    """A clock the test moves by hand: the display's elapsed times are exact."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


BUDGETS = {StageName.DNS: 5.0, StageName.TCP: 5.0, StageName.TLS: 10.0}


def test_a_running_stage_shows_its_elapsed_time_against_its_budget() -> None:
    clock = Clock()
    console = Console(file=io.StringIO(), width=80)
    progress = StageProgress(console, budgets=BUDGETS.__getitem__, clock=clock)
    progress(StageName.DNS, "start", None)
    clock.now += 0.0234
    progress(StageName.DNS, "ok", 23.4)
    progress(StageName.TLS, "start", None)
    clock.now += 2.5
    frame = final_frame(progress, 120)
    assert "23.4 ms of 5 s" in frame
    assert "2.50 s of 10 s ▰▰▱▱▱▱▱▱▱▱" in frame  # a quarter of the budget spent
    clock.now += 7.0
    assert "9.50 s of 10 s ▰▰▰▰▰▰▰▰▰▱" in final_frame(progress, 120)


def test_without_budgets_the_elapsed_time_alone() -> None:
    clock = Clock()
    progress = StageProgress(Console(file=io.StringIO(), width=80), clock=clock)
    progress(StageName.TCP, "start", None)
    clock.now += 0.25
    frame = final_frame(progress, 120)
    assert "250.0 ms" in frame and "▰" not in frame and " of " not in frame


def test_hold_line_shows_messages_rate_and_the_largest_gap() -> None:
    clock = Clock()
    progress = StageProgress(Console(file=io.StringIO(), width=100), clock=clock)
    progress.hold_started(30.0)
    clock.now += 1.0
    progress.hold(10, 0.4)
    clock.now += 1.0
    progress.hold(20, 0.4)
    frame = final_frame(progress, 120)
    assert "Holding the stream" in frame
    assert "2 s of 30 s · 20 messages · 10.0/s · largest gap 400.0 ms" in frame
    clock.now += 3.0  # silence: the gap in progress is the largest so far
    assert "largest gap 3.00 s" in final_frame(progress, 120)
    progress.stop()
    clock.now += 60.0  # stopped: frozen, the silence no longer grows
    frame = final_frame(progress, 120)
    assert "largest gap 3.00 s" in frame and "20 messages" in frame
    assert not set(SPINNER_FRAMES) & set(frame)


def test_hold_listener_counts_events_and_measures_gaps_on_the_holds_clock() -> None:
    clock = Clock()
    progress = StageProgress(Console(file=io.StringIO(), width=120), clock=clock)
    progress.hold_event("event", 5.0, None)  # before the hold: not counted
    progress.hold_started(10.0)
    clock.now += 0.5
    for kind, at in (("event", 50.0), ("ping", 50.2), ("event", 50.3), ("other", 51.0),
                     ("event", 51.5)):
        progress.hold_event(kind, at, None)
    clock.now += 0.5
    frame = final_frame(progress, 120)
    assert "3 messages" in frame and "3.0/s" in frame
    assert "largest gap 1.20 s" in frame  # 50.3 -> 51.5
