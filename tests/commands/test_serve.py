"""`binance-diag serve`'s options (the server itself: tests/exporter/test_service.py)."""

from __future__ import annotations

import pytest

from tests.commands.helpers import run_cli

pytestmark = pytest.mark.timeout(30)


def test_help_shows_the_loopback_default_and_blackboxs_options() -> None:
    result = run_cli("serve", "--help")
    assert result.returncode == 0
    for text in ("--listen", "127.0.0.1:9115", "--config", "--max-concurrent-probes",
                 "--timeout-offset", "--history"):
        assert text in result.stdout


def test_a_missing_modules_file_is_exit_3() -> None:
    result = run_cli("serve", "--listen", "127.0.0.1:0", "--config", "/nonexistent/m.toml")
    assert result.returncode == 3
    assert result.stderr.startswith("binance-diag: error: cannot read --config")
