"""The endpoint matrix runner's limits (its loopback runs: tests/probe/test_paths.py)."""

from __future__ import annotations

import pytest

from binance_diag.config.errors import ConfigError
from binance_diag.run.matrix import MAX_ENDPOINTS, check_matrix_size


def test_matrix_size_is_bounded() -> None:
    check_matrix_size(MAX_ENDPOINTS)
    with pytest.raises(ConfigError, match="300 connection attempts"):
        check_matrix_size(MAX_ENDPOINTS + 1)
