"""Timing that holds when the event loop does not: the loop watchdog (lag and blockages, with
stacks), hard deadlines a blocked loop cannot miss, and supervision of code that swallows its
cancellation. Not to be confused with the `watch` command."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .loop import LoopBlockage, LoopWatchdog

__all__ = ["LoopBlockage", "LoopWatchdog"]


def __getattr__(name: str) -> Any:
    """`from binance_diag.watchdog import LoopWatchdog` (the library API), loaded on use."""
    if name in __all__:
        from . import loop

        return getattr(loop, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
