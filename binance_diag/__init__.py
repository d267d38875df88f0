"""binance-diag: why can't my program get data from a Binance WebSocket market stream?

The package root imports nothing heavy so that `binance-diag --version` stays fast; the
library API (`LoopWatchdog`) is loaded on first use.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not `typing`'s: importing typing costs 10 ms of every start
if TYPE_CHECKING:
    from typing import Any

__version__ = "0.1.0"
__all__ = ["LoopWatchdog", "__version__"]

if TYPE_CHECKING:
    from .watchdog.loop import LoopWatchdog


def __getattr__(name: str) -> Any:
    if name == "LoopWatchdog":
        from .watchdog.loop import LoopWatchdog

        return LoopWatchdog
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
