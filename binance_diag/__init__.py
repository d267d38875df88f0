"""binance-diag: why can't my program get data from a Binance WebSocket market stream?

The package root imports nothing heavy so that `binance-diag --version` stays fast.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__"]
