import pytest

from binance_diag.config.endpoints import (
    DEFAULT_ENDPOINT,
    ENDPOINTS,
    build_target,
    parse_endpoints,
    parse_stream,
    parse_symbols,
    resolve_endpoint,
)
from binance_diag.config.errors import ConfigError


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


@pytest.mark.parametrize(
    ("endpoint", "message"),
    [
        ("wss://[::1", "unbalanced [ ] around the host"),
        ("wss://[::1]x:1", "unbalanced [ ] around the host"),
        ("wss://[nothost]:1", "'nothost' in [ ] is not an IPv6 address"),
        ("wss://::1:9443", "an IPv6 address goes in brackets"),
        ("wss://127.0.0.1 :1", "host '127.0.0.1 ' is not an IP address or a DNS name"),
        ("wss://exa mple.com", "host 'exa mple.com' is not an IP address or a DNS name"),
        ("wss://exa_mple.com", "host 'exa_mple.com' is not"),
        ("wss://-bad.example", "host '-bad.example' is not"),
        ("wss://a..b", "host 'a..b' is not"),
        ("wss://127.1:9443", "host '127.1' is not"),  # getaddrinfo would read 127.0.0.1
        (f"wss://{'a' * 64}.com", "is not an IP address or a DNS name"),
        ("wss://u:p@127.0.0.1:1", "user:password@ is not supported"),
        ("wss://u@127.0.0.1:1", "user:password@ is not supported"),
        ("wss://host#frag", "without #fragment"),
        ("wss://host/?a=1", "without ?query"),
        ("wss://host/ws/btcusdt@aggTrade", "not a stream URL"),
        ("wss://host/a b", "the path must be ASCII without spaces"),
        ("wss://host\t:1", "control characters"),
        ("wss://host:", "port '' is not 1-65535"),
        ("wss://host:\u00b2", "port '\u00b2' is not 1-65535"),
        ("wss://host:\u0665\u0663", "is not 1-65535"),
        ("wss://:1", "no host"),
    ],
)
def test_endpoint_url_checks_name_the_problem(endpoint: str, message: str) -> None:
    with pytest.raises(ConfigError, match="invalid endpoint") as raised:
        build_target(["BTCUSDT"], "aggTrade", endpoint)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("endpoint", "url"),
    [
        ("wss://host:1/ws", "wss://host:1/ws/btcusdt@aggTrade"),  # Binance's documented base
        ("wss://host:1/ws/", "wss://host:1/ws/btcusdt@aggTrade"),
        ("wss://host:1/stream", "wss://host:1/ws/btcusdt@aggTrade"),
        ("wss://fstream.binance.com/market/ws", "wss://fstream.binance.com/market/ws/btcusdt@aggTrade"),
        ("wss://fstream.binance.com/market", "wss://fstream.binance.com/market/ws/btcusdt@aggTrade"),
        ("wss://host/news", "wss://host/news/ws/btcusdt@aggTrade"),  # not a /ws segment
        ("WSS://Stream.Binance.COM:9443", "wss://stream.binance.com:9443/ws/btcusdt@aggTrade"),
        ("wss://b\u00fccher.example", "wss://xn--bcher-kva.example/ws/btcusdt@aggTrade"),
        ("ws://[0:0::1]:8080", "ws://[::1]:8080/ws/btcusdt@aggTrade"),
        ("wss://host.:1", "wss://host.:1/ws/btcusdt@aggTrade"),
    ],
)
def test_custom_base_urls_are_normalized(endpoint: str, url: str) -> None:
    assert build_target(["BTCUSDT"], "aggTrade", endpoint).url == url


def test_base_url_suffix_is_stripped_for_combined_streams_too() -> None:
    target = build_target(["BTCUSDT", "ETHUSDT"], "aggTrade", "wss://host:1/stream")
    assert target.url == "wss://host:1/stream?streams=btcusdt@aggTrade/ethusdt@aggTrade"
    assert target.host == "host" and target.port == 1


def test_endpoint_list_drops_the_same_base_spelled_twice() -> None:
    assert parse_endpoints(["wss://h:1,wss://h:1/ws,WSS://H:1/"]) == ("wss://h:1",)


def test_a_combined_url_too_long_for_common_servers_is_warned_about() -> None:
    from binance_diag.config.endpoints import build_target, url_warnings

    many = build_target([f"S{n:04d}USDT" for n in range(1024)], "aggTrade", "spot")
    (warning,) = url_warnings([many])
    assert warning.startswith(f"the stream URL is {len(many.path)} bytes")
    assert "HTTP 414" in warning
    assert url_warnings([build_target(["BTCUSDT", "ETHUSDT"], "aggTrade", "spot")]) == []


def test_presets_resolve_to_their_base_url_and_urls_to_custom() -> None:
    assert resolve_endpoint("data-stream") == ("data-stream", "wss://data-stream.binance.vision")
    assert resolve_endpoint("ws://127.0.0.1:8765/ws") == ("custom", "ws://127.0.0.1:8765")
    assert all(e.base_url.startswith("wss://") for e in ENDPOINTS.values())
    assert DEFAULT_ENDPOINT in ENDPOINTS


def test_stream_names_are_case_insensitive_and_symbols_capped() -> None:
    assert parse_stream("AGGTRADE") == "aggTrade"
    assert len(parse_symbols([f"S{n:04d}USDT" for n in range(1024)])) == 1024
    with pytest.raises(ConfigError, match="1025 streams: Binance allows at most 1024"):
        parse_symbols([f"S{n:04d}USDT" for n in range(1025)])
    with pytest.raises(ConfigError, match="no symbol given"):
        parse_symbols([])
