"""commands/common.py: the command line as the report shows it."""

from __future__ import annotations

import sys

import pytest

from binance_diag.commands.common import command_line


def test_the_command_line_is_shell_quoted_and_prefixed() -> None:
    assert command_line(["probe", "BTCUSDT", "--endpoint", "ws://[::1]:1 x"]) == \
        "binance-diag probe BTCUSDT --endpoint 'ws://[::1]:1 x'"
    assert command_line([]) == "binance-diag"


def test_the_command_line_never_carries_a_url_password() -> None:
    line = command_line(["probe", "--proxy", "socks5h://bob:hunter22@127.0.0.1:1080"])
    assert "hunter22" not in line and "bob:" not in line
    assert line.endswith("--proxy 'socks5h://***@127.0.0.1:1080'") or \
        line.endswith("--proxy socks5h://***@127.0.0.1:1080")


def test_without_arguments_it_is_the_running_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["/usr/bin/binance-diag", "endpoints"])
    assert command_line() == "binance-diag endpoints"
