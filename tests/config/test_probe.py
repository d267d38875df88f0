import pytest

from binance_diag.config.endpoints import build_target
from binance_diag.config.errors import ConfigError
from binance_diag.config.hosts import parse_resolve
from binance_diag.config.probe import ProbeConfig, parse_families, resolve_warnings


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


def test_families_from_the_ip_version_flags() -> None:
    assert parse_families(False, False) == ()
    assert parse_families(True, False) == (4,)
    assert parse_families(False, True) == (6,)
    with pytest.raises(ConfigError, match="-4 and -6 exclude each other"):
        parse_families(True, True)


def test_a_probe_config_defaults_to_the_system_resolver_and_every_family() -> None:
    config = ProbeConfig(build_target(["BTCUSDT"], "aggTrade", "spot"))
    assert (config.nameservers, config.families, config.resolve, config.proxy) == ((), (), {}, None)
    assert config.timeouts.total == 30.0
    assert config.user_agent == "binance-diag"
