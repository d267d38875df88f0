import pytest

from binance_diag.config import (
    ConfigError,
    Nameserver,
    build_target,
    build_timeouts,
    parse_ca_bundle,
    parse_nameserver,
    parse_resolve,
    parse_symbols,
)


def test_single_symbol_uses_raw_stream_path_lowercase() -> None:
    target = build_target(["BtcUsdt"], "aggtrade", "spot")
    assert target.url == "wss://stream.binance.com:9443/ws/btcusdt@aggTrade"
    assert (target.host, target.port, target.secure) == ("stream.binance.com", 9443, True)
    assert target.symbols == ("BTCUSDT",)


def test_several_symbols_use_combined_stream() -> None:
    target = build_target(["btcusdt", "ETHUSDT", "BTCUSDT"], "aggTrade", "spot-443")
    assert target.url == (
        "wss://stream.binance.com:443/stream?streams=btcusdt@aggTrade/ethusdt@aggTrade"
    )
    assert target.symbols == ("BTCUSDT", "ETHUSDT")


def test_usdm_preset_keeps_market_prefix_and_default_port() -> None:
    target = build_target(["BTCUSDT"], "aggTrade", "usdm")
    assert target.url == "wss://fstream.binance.com/market/ws/btcusdt@aggTrade"
    assert target.port == 443


def test_custom_plain_endpoint() -> None:
    target = build_target(["BTCUSDT"], "aggTrade", "ws://127.0.0.1:8765/")
    assert target.url == "ws://127.0.0.1:8765/ws/btcusdt@aggTrade"
    assert (target.secure, target.port, target.endpoint) == (False, 8765, "custom")


@pytest.mark.parametrize(
    "endpoint", ["http://stream.binance.com", "spot2", "wss://", "wss://h:99999", "wss://h/?a=1"]
)
def test_bad_endpoints_are_config_errors(endpoint: str) -> None:
    with pytest.raises(ConfigError, match="invalid endpoint"):
        build_target(["BTCUSDT"], "aggTrade", endpoint)


@pytest.mark.parametrize("symbol", ["B", "BTC-USDT", "", "X" * 21, "btc usdt"])
def test_bad_symbols(symbol: str) -> None:
    with pytest.raises(ConfigError, match="symbol"):
        parse_symbols([symbol])


def test_unknown_stream() -> None:
    with pytest.raises(ConfigError, match="unknown stream"):
        build_target(["BTCUSDT"], "kline_1m", "spot")


def test_stage_flag_wins_over_timeout_whatever_the_order() -> None:
    timeouts = build_timeouts(2.0, tls=7.5)
    assert (timeouts.dns, timeouts.tcp, timeouts.tls, timeouts.first_message) == (2, 2, 7.5, 2)
    assert build_timeouts().first_message == 10.0
    assert build_timeouts().total == 30.0


@pytest.mark.parametrize("value", [0, -1, 1e9])
def test_timeouts_must_be_positive_and_bounded(value: float) -> None:
    with pytest.raises(ConfigError, match="--tls-timeout"):
        build_timeouts(tls=value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1", Nameserver("127.0.0.1", 53)),
        ("127.0.0.1:5353", Nameserver("127.0.0.1", 5353)),
        ("::1", Nameserver("::1", 53)),
        ("[::1]:5353", Nameserver("::1", 5353)),
    ],
)
def test_parse_nameserver(text: str, expected: Nameserver) -> None:
    assert parse_nameserver(text) == expected


@pytest.mark.parametrize("text", ["dns.google", "127.0.0.1:0", "127.0.0.1:x", "[::1"])
def test_bad_nameserver(text: str) -> None:
    with pytest.raises(ConfigError, match="--resolver"):
        parse_nameserver(text)


def test_parse_resolve_like_curl() -> None:
    assert parse_resolve(["Stream.Binance.com:9443:127.0.0.1,::1"]) == {
        ("stream.binance.com", 9443): ("127.0.0.1", "::1")
    }
    assert parse_resolve(["h:443:[::1]"]) == {("h", 443): ("::1",)}


@pytest.mark.parametrize("text", ["h:443", "h:x:127.0.0.1", "h:443:not-an-ip", ":443:127.0.0.1"])
def test_bad_resolve(text: str) -> None:
    with pytest.raises(ConfigError, match="--resolve"):
        parse_resolve([text])


def test_ca_bundle_must_be_readable_pem(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="cannot read"):
        parse_ca_bundle(str(tmp_path / "missing.pem"))
    empty = tmp_path / "empty.pem"
    empty.write_text("hello")
    with pytest.raises(ConfigError, match="no PEM"):
        parse_ca_bundle(str(empty))
