"""What a person sees while a watch runs, on stderr: a rich Live view on a terminal, plain
timestamped lines anywhere else (a log file, a CI job, `2>&1 | tee`)."""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from ..timing import utc_now

if TYPE_CHECKING:
    from rich.live import Live

StatusSource = Callable[[], list[str]]
"""The current status as lines (the live view redraws them; plain output prints them)."""


class PlainView:
    """Every event at once, the status every time `status()` is called (each probe)."""

    def __init__(self, source: StatusSource, stream: TextIO | None = None) -> None:
        self.source = source
        self.stream = stream or sys.stderr

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def line(self, text: str) -> None:
        self.stream.write(f"{utc_now().strftime('%H:%M:%S.%f')[:-3]} {text}\n")
        self.stream.flush()

    def status(self) -> None:
        for text in self.source():
            self.line(text)


class LiveView(PlainView):
    """The status redrawn twice a second, the last events under it (rich Live)."""

    def __init__(self, source: StatusSource, stream: TextIO | None = None) -> None:
        super().__init__(source, stream)
        self.recent: deque[str] = deque(maxlen=8)
        self._live: Live | None = None

    def _render(self) -> Any:
        from rich.console import Group
        from rich.panel import Panel
        from rich.text import Text

        status = Text("\n".join(self.source()))
        events = Text("\n".join(self.recent) or "no events yet", style="dim")
        return Group(Panel(status, title="binance-diag watch"),
                     Panel(events, title="events"))

    def start(self) -> None:
        from rich.console import Console
        from rich.live import Live

        self._live = Live(get_renderable=self._render, refresh_per_second=2,
                          console=Console(file=self.stream), transient=False)
        self._live.start()

    def stop(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def line(self, text: str) -> None:
        self.recent.append(f"{utc_now().strftime('%H:%M:%S')} {text}")

    def status(self) -> None:
        pass  # redrawn continuously


def make_view(source: StatusSource, stream: TextIO | None = None) -> PlainView:
    stream = stream or sys.stderr
    return LiveView(source, stream) if stream.isatty() else PlainView(source, stream)
