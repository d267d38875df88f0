"""`--listen`: loopback by default, parsed like the rest of the CLI's host:port options."""

from __future__ import annotations

import pytest

from binance_diag.config.errors import ConfigError
from binance_diag.exporter.listen import DEFAULT_LISTEN, is_loopback, parse_listen

pytestmark = pytest.mark.timeout(10)


def test_the_default_is_loopback() -> None:
    host, port = parse_listen(DEFAULT_LISTEN)
    assert (host, port) == ("127.0.0.1", 9115) and is_loopback(host)


@pytest.mark.parametrize(("text", "expected"), [
    ("[::1]:9115", ("::1", 9115)), ("127.0.0.1:0", ("127.0.0.1", 0)),
    ("0.0.0.0:9115", ("0.0.0.0", 9115)), ("localhost:80", ("localhost", 80)),
])
def test_addresses(text: str, expected: tuple[str, int]) -> None:
    assert parse_listen(text) == expected


@pytest.mark.parametrize("text", ["127.0.0.1", "::1:9115", ":9115", "127.0.0.1:99999"])
def test_bad_addresses_are_config_errors(text: str) -> None:
    with pytest.raises(ConfigError, match="--listen"):
        parse_listen(text)


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("127.1.2.3", True), ("::1", True), ("localhost", True),
    ("0.0.0.0", False), ("::", False), ("192.0.2.1", False), ("exporter.example", False),
])
def test_only_loopback_is_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
