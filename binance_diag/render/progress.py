"""Live stage progress on stderr: a spinner per running stage that turns into ✅/❌ + time.

A `Tracer` listener (probe/base.py). Used only when stderr is a terminal; `stop()` (or the
`with` block's end) leaves a final, static frame, so nothing is left spinning after a timeout,
an error or Ctrl-C.

The display must not lie when the event loop is blocked: rich's `Live` redraws from its own
thread, so the spinner keeps turning, and `loop_lag` (the watchdog's current blockage) puts
"event loop blocked 1.2 s" beside the running stage so a frozen stage is not mistaken for a
slow network.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

from rich.console import Console, RenderableType
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from ..diagnose.describe import STAGE_ACTIONS
from ..model import StageName
from ..timing import format_ms

DONE_MARKS = {"ok": ("✅", "green"), "failed": ("❌", "red"), "timeout": ("❌", "red"),
              "skipped": ("➖", "dim"), "interrupted": ("⏹", "yellow")}


@dataclass
class _Row:
    stage: StageName
    state: str = "start"
    duration_ms: float | None = None


class StageProgress:
    """Feed it (stage, event, duration_ms) from the runner; it keeps a Live display current."""

    def __init__(self, console: Console,
                 loop_lag: Callable[[], float | None] | None = None) -> None:
        self.console = console
        self.loop_lag = loop_lag
        self.rows: list[_Row] = []
        self._lock = threading.Lock()
        self._live = Live(console=console, get_renderable=self.renderable,
                          refresh_per_second=12.5, transient=False, redirect_stdout=False,
                          redirect_stderr=False)
        self._spinner = Spinner("dots", style="cyan")

    def __call__(self, stage: StageName, event: str, duration_ms: float | None) -> None:
        with self._lock:
            row = next((r for r in self.rows if r.stage is stage), None)
            if row is None:
                row = _Row(stage)
                self.rows.append(row)
            row.state, row.duration_ms = event, duration_ms
        if self._live.is_started:
            self._live.refresh()

    def renderable(self) -> RenderableType:
        grid = Table.grid(padding=(0, 1))
        grid.add_column(width=2, no_wrap=True)
        grid.add_column(min_width=18, no_wrap=True)
        grid.add_column(justify="right", no_wrap=True)
        with self._lock:
            rows = list(self.rows)
        for row in rows:
            label = STAGE_ACTIONS[row.stage][0].upper() + STAGE_ACTIONS[row.stage][1:]
            if row.state == "start":
                lag = self.loop_lag() if self.loop_lag is not None else None
                note = Text(f"event loop blocked {format_ms(lag)}", style="bold yellow") \
                    if lag is not None else Text("…", style="dim")
                grid.add_row(self._spinner, label, note)
                continue
            mark, style = DONE_MARKS.get(row.state, ("❌", "red"))
            took = format_ms(row.duration_ms) if row.duration_ms is not None else ""
            detail = took if row.state not in ("skipped", "interrupted") else row.state
            grid.add_row(mark, Text(label, style=style), Text(detail, style="dim"))
        return grid

    def start(self) -> None:
        self._live.start()

    def stop(self) -> None:
        """Freeze the display; a stage still running is shown as interrupted, not spinning."""
        with self._lock:
            for row in self.rows:
                if row.state == "start":
                    row.state = "interrupted"
        self._live.stop()

    def __enter__(self) -> StageProgress:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()
