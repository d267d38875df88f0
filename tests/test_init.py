"""binance_diag/__init__.py (and watchdog/__init__.py): the library API loaded on first use,
so that importing the package stays cheap."""

from __future__ import annotations

import pytest

import binance_diag
import binance_diag.watchdog
from binance_diag.watchdog.loop import LoopBlockage, LoopWatchdog
from tests.utils import run_python


def test_loop_watchdog_is_reachable_from_the_package_and_watchdog() -> None:
    assert binance_diag.LoopWatchdog is LoopWatchdog
    assert binance_diag.watchdog.LoopWatchdog is LoopWatchdog
    assert binance_diag.watchdog.LoopBlockage is LoopBlockage
    assert isinstance(binance_diag.__version__, str)


def test_unknown_attributes_are_attribute_errors() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        binance_diag.nothing  # noqa: B018
    with pytest.raises(AttributeError, match="binance_diag.watchdog"):
        binance_diag.watchdog.nothing  # noqa: B018


def test_importing_the_package_loads_nothing_heavy() -> None:
    process, _ = run_python("""
        import sys
        import binance_diag
        heavy = {"asyncio", "typer", "binance_diag.watchdog.loop"} & set(sys.modules)
        assert not heavy, heavy
    """, timeout=30)
    assert process.returncode == 0, process.stderr
