"""The modules file: validated at load, every error with its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from binance_diag.config.errors import ConfigError
from binance_diag.exporter.modules import DEFAULT_MODULE, load_modules, parse_modules

pytestmark = pytest.mark.timeout(10)


def parse(text: str, tmp_path: Path) -> object:
    return parse_modules(text, tmp_path / "modules.toml")


def test_a_module_takes_the_probe_options(tmp_path: Path) -> None:
    modules = parse_modules('''
[modules.tokyo]
endpoint = "wss://stream.binance.com:9443"
timeout = 8
dns_timeout = 1
message_timeout = 4.5
resolvers = ["127.0.0.53", "[::1]:5353"]
resolve = ["stream.binance.com:9443:127.0.0.1"]
no_proxy = true
ip_version = 4
''', tmp_path / "modules.toml")
    module = modules.modules["tokyo"]
    assert module.timeout == 8
    assert module.timeouts.dns == 1 and module.timeouts.first_message == 4.5
    assert module.timeouts.tcp == 5  # the probe's default
    assert [str(n.address) for n in module.nameservers] == ["127.0.0.53", "::1"]
    assert module.resolve == {("stream.binance.com", 9443): ("127.0.0.1",)}
    assert module.families == (4,)
    config = module.probe_config(["ethusdt"], {"HTTPS_PROXY": "http://127.0.0.1:3128"})
    assert config.target.url == "wss://stream.binance.com:9443/ws/ethusdt@aggTrade"
    assert config.proxy is not None and config.proxy.proxy is None  # no_proxy wins


def test_without_a_file_the_default_module_probes_spot() -> None:
    modules = load_modules(None)
    assert list(modules.modules) == [DEFAULT_MODULE]
    config = modules.modules[DEFAULT_MODULE].probe_config(["BTCUSDT"], {})
    assert config.target.host == "stream.binance.com"


def test_a_relative_ca_bundle_is_read_beside_the_file(tmp_path: Path) -> None:
    from binance_diag.simulate.certs import CertificateAuthority

    CertificateAuthority().write_ca_bundle(tmp_path / "ca.pem")
    modules = parse_modules('[modules.m]\nca_bundle = "ca.pem"\n', tmp_path / "modules.toml")
    assert modules.modules["m"].ca_bundle == tmp_path / "ca.pem"


@pytest.mark.parametrize(("text", "message"), [
    ("[modules.a]\nendpoint = \"spot\"\n\n[modules.b]\nmessage_timeout = 0\n",
     "modules.toml:5: modules.b.message_timeout: message_timeout must be more than 0"),
    ("[modules.a]\nendpont = \"spot\"\n", "modules.toml:2: modules.a.endpont: unknown key"),
    ("[modules.a]\nendpoint = \"http://example.com\"\n", "modules.toml:2: modules.a.endpoint:"),
    ("[modules.a]\ntimeout = \"5\"\n", "modules.toml:2: modules.a.timeout: wrong type: str"),
    ("[modules.a]\nresolve = [\"nonsense\"]\n",
     "modules.toml:2: modules.a.resolve: invalid --resolve"),
    ("[modules.a]\nca_bundle = \"missing.pem\"\n",
     "modules.toml:2: modules.a.ca_bundle: cannot read --ca-bundle"),
    ("[modules.a]\nproxy = \"ftp://p:21\"\n", "modules.toml:2: modules.a.proxy: invalid proxy"),
    ("[modules.a]\nproxy = \"http://p:3128\"\nno_proxy = true\n",
     "modules.toml:3: modules.a.no_proxy: proxy and no_proxy exclude each other"),
    ("[modules.a]\nip_version = 5\n", "modules.toml:2: modules.a.ip_version: must be 4 or 6"),
    ("[modules.a]\nno_proxy = 1\n", "modules.toml:2: modules.a.no_proxy: wrong type: int"),
    ("[modules.a]\n[watch.btc]\nmodule = \"a\"\n",
     "modules.toml:2: watch.btc: symbols missing"),
    ("[modules.a]\n[watch.btc]\nmodule = \"b\"\nsymbols = [\"BTCUSDT\"]\n",
     "modules.toml:3: watch.btc.module: no module 'b'"),
    ("[modules.a]\n[watch.btc]\nsymbols = []\n",
     "modules.toml:3: watch.btc.symbols: at least one symbol"),
    ("[modules.a]\n[watch.btc]\nsymbols = \"BTC/USDT\"\n", "modules.toml:3: watch.btc.symbols"),
    ("[modules.a]\n[watch.btc]\nsymbols = \"BTCUSDT\"\nstall_factor = 0.5\n",
     "modules.toml:4: watch.btc.stall_factor: must be 1 or more"),
    ("[modules.a]\n[watch.btc]\nsymbols = \"BTCUSDT\"\nstall_floor = 0\n",
     "modules.toml:4: watch.btc.stall_floor: must be more than 0 s"),
    ("[modules.a]\n[watch.btc]\nsymbols = \"BTCUSDT\"\nevery = -1\n",
     "modules.toml:4: watch.btc.every: must be more than 0 s"),
    ("[modules.a]\n[watch.btc]\nsymbols = \"BTCUSDT\"\nhold = 3\n",
     "modules.toml:4: watch.btc.hold: unknown key"),
    ("[modules.a]\n[watch.btc]\nsymbols = \"BTCUSDT\"\nmessage_timeout = 0\n",
     "modules.toml:4: watch.btc.message_timeout: message_timeout must be more than 0"),
    ("[modules.a]\nwatch = 1\n", "modules.toml:2: modules.a.watch: unknown key"),
    ("[modules.a]\nexperiments = false\nexperiments_timeout = 2\n",
     "modules.toml:3: modules.a.experiments_timeout: experiments = false and "
     "experiments_timeout exclude each other"),
    ("[modules.a]\nexperiments = 1\n", "modules.toml:2: modules.a.experiments: wrong type"),
    ("[modules.a]\nexperiments_timeout = 0\n",
     "modules.toml:2: modules.a.experiments_timeout: experiments_timeout must be more than 0"),
    ("title = \"x\"\n", "modules.toml:1: title: unknown top-level key"),
    ("", "modules.toml: modules: no module defined"),
    ("[modules.\"a b\"]\n", "modules.toml:1: modules.a b: a module name is"),
    ("[modules.a]\ntimeout = \n", "modules.toml: invalid TOML: Invalid value (at line 2"),
])
def test_errors_name_the_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(text, tmp_path)
    assert message in str(caught.value)
    assert str(caught.value).startswith(str(tmp_path / "modules.toml"))


def test_an_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read --config"):
        load_modules(tmp_path / "absent.toml")
    (tmp_path / "latin1.toml").write_bytes(b"# caf\xe9\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_modules(tmp_path / "latin1.toml")


def test_bad_symbols_are_refused_per_scrape_not_at_load(tmp_path: Path) -> None:
    module = parse_modules("[modules.a]\n", tmp_path / "m.toml").modules["a"]
    with pytest.raises(ConfigError):
        module.probe_config(["BTC/USDT"], {})


@pytest.mark.parametrize(("keys", "expected"), [
    ("", None),                                    # off unless asked, as before
    ("experiments = true\n", 3.0),                 # the probe command's default budget
    ("experiments_timeout = 1.5\n", 1.5),          # a budget turns them on
    ("experiments = true\nexperiments_timeout = 2\n", 2.0),
    ("experiments = false\n", None),
])
def test_experiments_map_to_the_probe_config(tmp_path: Path, keys: str,
                                             expected: float | None) -> None:
    module = parse_modules("[modules.a]\n" + keys, tmp_path / "m.toml").modules["a"]
    assert module.probe_config(["BTCUSDT"], {}).experiments == expected


def test_a_watch_target_starts_from_its_module_and_overrides_it(tmp_path: Path) -> None:
    modules = parse_modules('''
[modules.pinned]
endpoint = "wss://stream.binance.com:9443"
resolve = ["stream.binance.com:9443:127.0.0.1"]
dns_timeout = 1
message_timeout = 4

[watch.btc]
module = "pinned"
symbols = ["BTCUSDT", "ETHUSDT"]
message_timeout = 2
stall_factor = 5
stall_floor = 1.5
every = 30

[watch.eth]
symbols = "ETHUSDT"
''', tmp_path / "modules.toml")
    btc, eth = modules.watch["btc"], modules.watch["eth"]
    assert btc.symbols == ("BTCUSDT", "ETHUSDT")
    assert btc.module.resolve == {("stream.binance.com", 9443): ("127.0.0.1",)}
    assert btc.module.timeouts.dns == 1 and btc.module.timeouts.first_message == 2
    assert modules.modules["pinned"].timeouts.first_message == 4  # the module is untouched
    assert (btc.stall.factor, btc.stall.floor, btc.every) == (5, 1.5, 30)
    assert eth.module.endpoint == "spot"  # the default preset
    assert (eth.stall.factor, eth.stall.floor, eth.every) == (20, 10, 60)  # watch's defaults
    assert list(modules.modules) == ["pinned"]  # a watch target is not a module
