"""Live stage progress on stderr: a spinner per running stage that turns into ✅/❌ + time.

A `Tracer` listener (probe/base.py). Used only when stderr is a terminal; `stop()` (or the
`with` block's end) leaves a final, static frame, so nothing is left spinning after a timeout,
an error or Ctrl-C.

The display must not lie when the event loop is blocked: rich's `Live` redraws from its own
thread, so the spinner keeps turning, and `loop_lag` (the watchdog's current blockage) puts
"event loop blocked 1.2 s" beside the running stage so a frozen stage is not mistaken for a
slow network.

A running stage shows its elapsed time against its budget (`budgets`: the stage's timeout),
with a gauge that fills up to the deadline. During `--duration`, `hold_started` and `hold`
(messages so far, the largest gap so far) keep a live line: messages, rate, the largest gap,
the current silence counting as a gap while it lasts.
"""

from __future__ import annotations

import threading
import time
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

GAUGE_WIDTH = 10
DONE_MARKS = {"ok": ("✅", "green"), "failed": ("❌", "red"), "timeout": ("❌", "red"),
              "skipped": ("➖", "dim"), "interrupted": ("⏹", "yellow")}


@dataclass
class _Row:
    stage: StageName
    state: str = "start"
    duration_ms: float | None = None
    started: float = 0.0
    """time.monotonic() at the stage's start: its elapsed time is drawn live."""


@dataclass
class _Hold:
    duration_s: float
    started: float
    messages: int = 0
    largest_gap_s: float = 0.0
    last_message: float = 0.0
    last_event_at: float | None = None
    """The hold's own time (perf_counter) of the last event, for `hold_event`."""
    finished_at: float | None = None
    """When the display stopped: the line is frozen there, the silence no longer grows."""


def gauge(fraction: float, width: int = GAUGE_WIDTH) -> str:
    """`▰▰▰▱▱▱▱▱▱▱`: how much of the budget is spent."""
    filled = max(0, min(width, int(fraction * width)))
    return "▰" * filled + "▱" * (width - filled)


class StageProgress:
    """Feed it (stage, event, duration_ms) from the runner; it keeps a Live display current."""

    def __init__(self, console: Console,
                 loop_lag: Callable[[], float | None] | None = None,
                 budgets: Callable[[StageName], float] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.console = console
        self.loop_lag = loop_lag
        self.budgets = budgets
        self.clock = clock
        self.rows: list[_Row] = []
        self.holding: _Hold | None = None
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
            if event == "start":
                row.started = self.clock()
        if self._live.is_started:
            self._live.refresh()

    def hold_started(self, duration_s: float) -> None:
        """`--duration`: the stream is held open from now, for `duration_s`."""
        now = self.clock()
        with self._lock:
            self.holding = _Hold(duration_s, now, last_message=now)
        if self._live.is_started:
            self._live.refresh()

    def hold(self, messages: int, largest_gap_s: float) -> None:
        """A message arrived during the hold: the count and the largest gap so far."""
        with self._lock:
            if self.holding is not None:
                self.holding.messages, self.holding.largest_gap_s = messages, largest_gap_s
                self.holding.last_message = self.clock()
        if self._live.is_started:
            self._live.refresh()

    def hold_event(self, kind: str, at: float, detail: object) -> None:
        """The hold's listener (probe/hold.py `HoldListener`: kind, perf_counter time,
        detail): each data event counts, the gaps between them are measured on its clock."""
        if kind != "event":
            return
        with self._lock:
            holding = self.holding
            if holding is None:
                return
            since = (at - holding.last_event_at if holding.last_event_at is not None
                     else self.clock() - holding.started)
            holding.last_event_at = at
            messages, largest = holding.messages + 1, max(holding.largest_gap_s, since)
        self.hold(messages, largest)

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
                    if lag is not None else self._elapsed(row)
                grid.add_row(self._spinner, label, note)
                continue
            mark, style = DONE_MARKS.get(row.state, ("❌", "red"))
            took = format_ms(row.duration_ms) if row.duration_ms is not None else ""
            detail = took if row.state not in ("skipped", "interrupted") else row.state
            budget = self._budget(row.stage)
            if budget is not None and row.state not in ("skipped", "interrupted"):
                detail += f" of {budget:g} s"
            grid.add_row(mark, Text(label, style=style), Text(detail, style="dim"))
        with self._lock:
            holding = self.holding
        if holding is not None:
            grid.add_row(self._spinner if holding.finished_at is None else "•",
                         "Holding the stream", self._hold_line(holding))
        return grid

    def _budget(self, stage: StageName) -> float | None:
        return self.budgets(stage) if self.budgets is not None else None

    def _elapsed(self, row: _Row) -> Text:
        """`1.2 s of 5 s ▰▰▱▱▱▱▱▱▱▱`: the running stage against its deadline."""
        elapsed_ms = (self.clock() - row.started) * 1000
        budget = self._budget(row.stage)
        if budget is None:
            return Text(format_ms(elapsed_ms), style="dim")
        spent = elapsed_ms / (budget * 1000)
        style = "dim" if spent < 0.5 else "yellow" if spent < 0.9 else "bold red"
        return Text(f"{format_ms(elapsed_ms)} of {budget:g} s {gauge(spent)}", style=style)

    def _hold_line(self, holding: _Hold) -> Text:
        now = holding.finished_at if holding.finished_at is not None else self.clock()
        elapsed = max(now - holding.started, 1e-9)
        gap = max(holding.largest_gap_s, now - holding.last_message)
        rate = holding.messages / elapsed
        return Text(f"{min(elapsed, holding.duration_s):.0f} s of {holding.duration_s:g} s · "
                    f"{holding.messages} messages · {rate:.1f}/s · largest gap "
                    f"{format_ms(gap * 1000)}", style="dim")

    def start(self) -> None:
        self._live.start()

    def stop(self) -> None:
        """Freeze the display; a stage still running is shown as interrupted, not spinning."""
        with self._lock:
            for row in self.rows:
                if row.state == "start":
                    row.state = "interrupted"
            if self.holding is not None and self.holding.finished_at is None:
                self.holding.finished_at = self.clock()
        self._live.stop()

    def __enter__(self) -> StageProgress:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()
