"""The command line as a user meets it: exit codes, one-line errors, no tracebacks."""

from __future__ import annotations

import sys

import pytest

from tests.commands.helpers import assert_one_error_line, run_cli


def test_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("binance-diag ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["probe", "BTC-USDT"], "invalid symbol 'BTC-USDT'"),
        (["probe"], "Missing argument"),
        (["probe", "BTCUSDT", "--endpoint", "http://x"], "invalid endpoint"),
        (["probe", "BTCUSDT", "--resolve", "nonsense"], "invalid --resolve"),
        (["probe", "BTCUSDT", "--ca-bundle", "/nonexistent/ca.pem"], "cannot read --ca-bundle"),
        (["probe", "BTCUSDT", "--timeout", "abc"], "--timeout"),
        (["probe", "BTCUSDT", "--timeout", "0"], "--timeout must be"),
        (["probe", "BTCUSDT", "--no-such-flag"], "No such option"),
        (["frobnicate"], "No such command"),
        (["probe", "BTCUSDT", "--endpoint", "ws://127.0.0.1:9", "--proxy", "http://127.0.0.1:9",
          "--no-proxy"], "--proxy and --no-proxy exclude each other"),
        (["probe", "BTCUSDT", "--endpoint", "ws://127.0.0.1:9", "--proxy", ""],
         "--proxy is empty"),
        (["probe", "BTCUSDT", "--endpoint", "ws://127.0.0.1:9,ws://127.0.0.1:10",
          "--loop-interval", "-5"], "--loop-interval must be between 1 and 60000 ms, got -5"),
        (["probe", "BTCUSDT", "--endpoint", "ws://127.0.0.1:9,ws://127.0.0.1:10",
          "--deadline-grace", "nan"], "--deadline-grace must be between 1 and 60000 ms, got nan"),
        (["probe", "BTCUSDT", "--endpoint", "ws://127.0.0.1:9", "--loop-threshold", "inf"],
         "--loop-threshold must be between 1 and 60000 ms, got inf"),
        (["probe", "BTCUSDT", "--endpoint", "ws://127.0.0.1:9", "--resolver", "127.0.0.1:\u00b2"],
         "invalid --resolver: port '\u00b2' is not 1-65535"),
        (["probe", "BTCUSDT", "--endpoint", "ws://127.0.0.1:9",
          "--resolve", "stream.binance.com:\u00b9:127.0.0.1"],
         "invalid --resolve: port '\u00b9' is not 1-65535"),
        (["probe", "BTCUSDT", "--endpoint", "ws://127.0.0.1:9", "--ca-bundle", "/dev/zero"],
         "--ca-bundle /dev/zero is not a regular file"),
        (["probe", "BTCUSDT", "--endpoint", "ws://127.0.0.1:9", "--warn", "tls=\u0661\u0660\u0660"],
         "is not a number of milliseconds"),
        (["loopwatch", "--threshold", "nan", "--", sys.executable, "-c", "pass"],
         "--threshold must be more than 0 ms"),
    ],
)
def test_bad_input_exits_3_with_one_line(args: list[str], message: str) -> None:
    assert_one_error_line(run_cli(*args), message)


def test_no_arguments_show_the_help_and_exit_0() -> None:
    result = run_cli()
    assert result.returncode == 0, result.stderr
    for command in ("probe", "endpoints", "simulate", "demo", "loopwatch"):
        assert command in result.stdout
    assert "Traceback" not in result.stderr
