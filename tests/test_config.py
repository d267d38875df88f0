import math
import os
from pathlib import Path

import pytest
import trustme

from binance_diag.config.ca_bundle import MAX_CA_BUNDLE_BYTES, parse_ca_bundle
from binance_diag.config.endpoints import build_target, parse_endpoints, parse_symbols
from binance_diag.config.errors import ConfigError
from binance_diag.config.hosts import Nameserver, dns_name, parse_nameserver, parse_resolve
from binance_diag.config.probe import resolve_warnings
from binance_diag.config.timeouts import build_timeouts, parse_timeout

PEM = trustme.CA().cert_pem.bytes().decode()
"""A real CA certificate: the bundle check loads it with OpenSSL."""


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


def test_ca_bundle_that_openssl_rejects_is_bad_input(tmp_path: Path) -> None:
    good = PEM.encode()
    corrupt = b"-----BEGIN CERTIFICATE-----\nMIIBAAAA\n-----END CERTIFICATE-----\n"
    for name, data in [("garbage.pem", corrupt), ("mixed.pem", good + corrupt)]:
        bundle = tmp_path / name
        bundle.write_bytes(data)
        with pytest.raises(ConfigError, match=f"cannot load --ca-bundle {bundle}: OpenSSL"):
            parse_ca_bundle(str(bundle))
    (tmp_path / "good.pem").write_bytes(good)
    assert parse_ca_bundle(str(tmp_path / "good.pem")) == tmp_path / "good.pem"


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


@pytest.mark.parametrize(
    ("text", "name"),
    [("stream.binance.com", "stream.binance.com"), ("Stream.Binance.COM.", "stream.binance.com."),
     ("b\u00fccher.example", "xn--bcher-kva.example"), ("localhost", "localhost"),
     ("a-b.c", "a-b.c"), ("", None), ("a b", None), ("a_b", None), ("-a.b", None),
     ("a-.b", None), ("1.2.3", None), ("a.123", None), ("x" * 64, None),
     (".".join(["a" * 63] * 4), None)],
)
def test_dns_name(text: str, name: str | None) -> None:
    assert dns_name(text) == name


@pytest.mark.parametrize(
    "text", ["127.0.0.1:\u00b2", "127.0.0.1:\u0665\u0663", "[::1]:\u00b9", "127.0.0.1: 53",
             "127.0.0.1:+53", "127.0.0.1:5_3"],
)
def test_resolver_port_is_ascii_digits_only(text: str) -> None:
    with pytest.raises(ConfigError, match="invalid --resolver: port .* is not 1-65535"):
        parse_nameserver(text)


@pytest.mark.parametrize(
    "text", ["stream.binance.com:\u00b9:127.0.0.1", "h:\u0664\u0664\u0663:127.0.0.1",
             "exa mple.com:443:127.0.0.1", "h_x:443:127.0.0.1"],
)
def test_bad_resolve_ports_and_hosts(text: str) -> None:
    with pytest.raises(ConfigError, match="invalid --resolve"):
        parse_resolve([text])


def test_resolve_host_is_normalized_like_the_target_host() -> None:
    resolve = parse_resolve(["B\u00fccher.Example:443:127.0.0.1"])
    target = build_target(["BTCUSDT"], "aggTrade", "wss://b\u00fccher.example:443")
    assert resolve_warnings(resolve, [target]) == []


def test_resolve_entries_that_match_no_target_are_warned_about() -> None:
    targets = [build_target(["BTCUSDT"], "aggTrade", e) for e in ("spot", "ws://[::1]:80")]
    resolve = parse_resolve(["stream.binance.com:9443:127.0.0.1",
                             "stream.binance.com:443:127.0.0.1"])
    assert resolve_warnings(resolve, targets) == [
        "--resolve stream.binance.com:443 matches no endpoint probed (stream.binance.com:9443, "
        "[::1]:80): ignored, as curl does"]


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_timeouts_refuse_nan_and_inf(value: float) -> None:
    with pytest.raises(ConfigError, match="--duration must be more than 0 and at most 3600 s"):
        parse_timeout(value, "--duration")
    with pytest.raises(ConfigError, match="--timeout must be more than 0 and at most 3600 s"):
        build_timeouts(value)


def test_ca_bundle_must_be_a_regular_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is not a regular file"):
        parse_ca_bundle(str(tmp_path))
    with pytest.raises(ConfigError, match="--ca-bundle is empty"):
        parse_ca_bundle("")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.timeout(5)
def test_ca_bundle_fifo_without_writer_is_refused_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "ca.pem"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match=f"--ca-bundle {fifo} is not a regular file"):
        parse_ca_bundle(str(fifo))


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero here")
@pytest.mark.timeout(5)
def test_ca_bundle_device_is_refused_not_read() -> None:
    with pytest.raises(ConfigError, match="/dev/zero is not a regular file"):
        parse_ca_bundle("/dev/zero")


def test_ca_bundle_size_is_capped(tmp_path: Path) -> None:
    at_cap, over = tmp_path / "at-cap.pem", tmp_path / "over.pem"
    for path, size in ((at_cap, MAX_CA_BUNDLE_BYTES), (over, MAX_CA_BUNDLE_BYTES + 1)):
        with path.open("wb") as handle:
            handle.write(PEM.encode())
            handle.truncate(size)  # sparse: no 10 MiB written
    assert parse_ca_bundle(str(at_cap)) == at_cap
    with pytest.raises(ConfigError, match="is larger than 10 MiB: not a CA bundle"):
        parse_ca_bundle(str(over))


def test_ca_bundle_through_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real.pem"
    real.write_text(PEM)
    link = tmp_path / "link.pem"
    link.symlink_to(real)
    assert parse_ca_bundle(str(link)) == link


def test_a_bad_comparison_resolver_is_named_by_its_own_option() -> None:
    from binance_diag.config.hosts import parse_nameserver

    with pytest.raises(ConfigError, match="invalid --compare-resolvers 'x'"):
        parse_nameserver("x", "--compare-resolvers")


def test_pins_that_a_resolving_proxy_makes_moot_are_warned_about() -> None:
    from binance_diag.config.probe import remote_dns_warnings
    from tests.probe.helpers import make_config

    pin = ["stream.binance.com:9443:127.0.0.1"]
    url = "wss://stream.binance.com:9443"
    http = make_config(url, resolve=pin, proxy="http://127.0.0.1:3128")
    assert remote_dns_warnings([http]) == [
        "--resolve stream.binance.com:9443 has no effect through the http proxy: it resolves "
        "stream.binance.com itself (--no-proxy to connect directly, or socks5:// to resolve "
        "here)"]
    both = make_config(url, resolve=pin, resolvers=["127.0.0.1:5353"],
                       proxy="socks5h://127.0.0.1:1080")
    assert remote_dns_warnings([both])[0].startswith(
        "--resolve stream.binance.com:9443 and --resolver have no effect through the socks5h")
    local = make_config(url, resolve=pin, proxy="socks5://127.0.0.1:1080")
    assert remote_dns_warnings([local, make_config(url, resolve=pin)]) == []


def test_a_combined_url_too_long_for_common_servers_is_warned_about() -> None:
    from binance_diag.config.endpoints import build_target, url_warnings

    many = build_target([f"S{n:04d}USDT" for n in range(1024)], "aggTrade", "spot")
    (warning,) = url_warnings([many])
    assert warning.startswith(f"the stream URL is {len(many.path)} bytes")
    assert "HTTP 414" in warning
    assert url_warnings([build_target(["BTCUSDT", "ETHUSDT"], "aggTrade", "spot")]) == []


def test_a_bundle_with_utf8_comments_loads(tmp_path: Path) -> None:
    bundle = tmp_path / "distro.pem"
    bundle.write_bytes("# Issuer: CN=Főtanúsítvány\n".encode() + PEM.encode())
    assert parse_ca_bundle(str(bundle)) == bundle
