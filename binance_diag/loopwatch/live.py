"""Which line to print, and when, as blockages are reported: one line per blockage.

Pure: times are passed in. The watchdog reports a blockage twice, when it sees the loop stuck
(`ended` false: where, but not yet for how long) and when the loop runs again (the duration).
Printing at the end gives one complete line; but a loop stuck for good (the seed incident)
never ends, so a blockage still open `still_blocked_after` seconds after it was seen is
printed then, with its duration so far, and printed again when (if ever) it ends.
"""

from __future__ import annotations

from dataclasses import dataclass

from .rendering import blockage_line
from .wire import Event, WatchedBlockage

STILL_BLOCKED_AFTER = 1.0


@dataclass
class _Open:
    blockage: WatchedBlockage
    seen_at: float
    announced: bool = False


class LiveReporter:
    def __init__(self, still_blocked_after: float = STILL_BLOCKED_AFTER,
                 cwd: str | None = None) -> None:
        self.still_blocked_after = still_blocked_after
        self.cwd = cwd
        self._open: dict[str, _Open] = {}

    def feed(self, event: Event, now: float) -> list[str]:
        """The lines this event calls for."""
        if not isinstance(event, WatchedBlockage):
            return []
        if not event.ended:
            if event.key not in self._open:
                self._open[event.key] = _Open(event, now)
            return []
        self._open.pop(event.key, None)
        return [blockage_line(event, cwd=self.cwd)]

    def tick(self, now: float) -> list[str]:
        """Lines for blockages that have lasted long enough to be told before they end."""
        lines = []
        for entry in self._open.values():
            if not entry.announced and now - entry.seen_at >= self.still_blocked_after:
                entry.announced = True
                lines.append(blockage_line(entry.blockage, cwd=self.cwd,
                                           still_blocked_ms=self._so_far(entry, now)))
        return lines

    def flush(self, now: float) -> list[str]:
        """At the end: blockages that never ended (the program exited or died while stuck)."""
        lines = [blockage_line(entry.blockage, still_blocked_ms=self._so_far(entry, now),
                               program_ended=True, cwd=self.cwd) for entry in self._open.values()]
        self._open.clear()
        return lines

    @staticmethod
    def _so_far(entry: _Open, now: float) -> float:
        return entry.blockage.duration_ms + (now - entry.seen_at) * 1000
