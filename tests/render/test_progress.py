"""Live progress: each stage ends as ✅/❌ with its time, and nothing is left spinning."""

from __future__ import annotations

import io

from rich.console import Console

from binance_diag.model import StageName
from binance_diag.render.progress import StageProgress

SPINNER_FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


def final_frame(progress: StageProgress) -> str:
    console = Console(file=io.StringIO(), width=60, color_system=None)
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
