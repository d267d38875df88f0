"""Shared test helpers.

Every time a test waits is a multiple of `MS`, so a slow CI machine can scale them all with
BINANCE_DIAG_TEST_MS (websockets' tests/utils.py trick) instead of flaking.
"""

from __future__ import annotations

import os

MS = float(os.environ.get("BINANCE_DIAG_TEST_MS", "1")) / 1000
