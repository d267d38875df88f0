"""config/options.py: the one path from a probe's options (CLI or library) to its configs."""

from __future__ import annotations

import pytest

from binance_diag.config.errors import ConfigError
from binance_diag.config.options import ProbeOptions, build_probe_setup


def test_defaults_probe_spot_with_default_timeouts() -> None:
    setup = build_probe_setup(ProbeOptions(symbols=["btcusdt"]), {})
    (config,) = setup.configs
    assert config.target.url == "wss://stream.binance.com:9443/ws/btcusdt@aggTrade"
    assert config.target.symbols == ("BTCUSDT",)
    assert (config.timeouts.dns, config.timeouts.first_message) == (5.0, 10.0)
    assert setup.warnings == ()


def test_every_option_lands_in_the_config() -> None:
    setup = build_probe_setup(ProbeOptions(
        symbols=["BTCUSDT", "ETHUSDT"], endpoints=["spot,spot-443"], resolvers=["127.0.0.1:53"],
        resolve=["stream.binance.com:9443:127.0.0.1"], timeout=2, tls_timeout=0.5,
        duration=3, families=(4,), no_proxy=True,
    ), {"HTTPS_PROXY": "http://127.0.0.1:3128"})
    assert [c.target.port for c in setup.configs] == [9443, 443]
    config = setup.configs[0]
    assert (config.timeouts.dns, config.timeouts.tls) == (2, 0.5)
    assert config.hold == 3 and config.families == (4,)
    assert config.resolve == {("stream.binance.com", 9443): ("127.0.0.1",)}
    assert all(c.proxy is not None and c.proxy.proxy is None for c in setup.configs)


def test_proxy_comes_from_the_environment_unless_no_proxy() -> None:
    (config,) = build_probe_setup(ProbeOptions(symbols=["BTCUSDT"]),
                                  {"HTTPS_PROXY": "http://127.0.0.1:3128"}).configs
    assert config.proxy is not None and config.proxy.proxy is not None
    assert config.proxy.proxy.port == 3128


def test_a_resolve_entry_matching_no_endpoint_is_a_warning() -> None:
    setup = build_probe_setup(ProbeOptions(symbols=["BTCUSDT"],
                                           resolve=["stream.binance.com:443:127.0.0.1"]), {})
    assert len(setup.warnings) == 1
    assert "matches no endpoint probed" in setup.warnings[0]


@pytest.mark.parametrize(("options", "message"), [
    (ProbeOptions(symbols=["B"]), "symbol"),
    (ProbeOptions(symbols=["BTCUSDT"], families=(5,)), "families must be"),
    (ProbeOptions(symbols=["BTCUSDT"], families=(4, 6)), "families must be"),
    (ProbeOptions(symbols=["BTCUSDT"], timeout=0), "timeout"),
    (ProbeOptions(symbols=["BTCUSDT"], endpoints=["gopher://x"]), "ws://"),
])
def test_bad_options_are_config_errors(options: ProbeOptions, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build_probe_setup(options, {})
