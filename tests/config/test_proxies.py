import pytest

from binance_diag.config.errors import ConfigError
from binance_diag.config.proxies import no_proxy_matches, parse_proxy_url, select_proxy

HOST, PORT = "stream.binance.com", 9443


def test_parse_and_redact() -> None:
    proxy = parse_proxy_url("http://alice:s%40cret@proxy.corp:3128")
    assert (proxy.host, proxy.port, proxy.username, proxy.password) == (
        "proxy.corp", 3128, "alice", "s@cret")
    assert proxy.url == "http://***@proxy.corp:3128"
    assert "cret" not in repr(proxy.url)
    assert parse_proxy_url("socks5h://127.0.0.1").port == 1080
    assert parse_proxy_url("socks5h://127.0.0.1").remote_dns
    assert not parse_proxy_url("socks5://127.0.0.1").remote_dns


@pytest.mark.parametrize("url", ["ftp://x", "https://proxy:443", "http://", "http://h:99999"])
def test_bad_proxy_urls(url: str) -> None:
    with pytest.raises(ConfigError, match="proxy"):
        parse_proxy_url(url)


@pytest.mark.parametrize(
    ("no_proxy", "matches"),
    [
        ("*", True),
        ("binance.com", True),
        (".binance.com", True),
        ("stream.binance.com:9443", True),
        ("stream.binance.com:443", False),
        ("notbinance.com", False),
        ("ance.com", False),
        ("localhost, 127.0.0.1", False),
    ],
)
def test_no_proxy_rules(no_proxy: str, matches: bool) -> None:
    assert no_proxy_matches(HOST, PORT, no_proxy) is matches


def test_no_proxy_cidr() -> None:
    assert no_proxy_matches("127.0.0.1", 80, "127.0.0.0/8")
    assert not no_proxy_matches("127.0.0.1", 80, "10.0.0.0/8")


def test_environment_choice_and_what_websockets_would_do() -> None:
    env = {"HTTPS_PROXY": "http://u:p@corp:3128", "all_proxy": "socks5://other:1080"}
    choice = select_proxy(HOST, PORT, True, env)
    assert choice.proxy is not None and choice.proxy.source == "HTTPS_PROXY"
    assert choice.websockets_would_use == "http://***@corp:3128"
    only_all = select_proxy(HOST, PORT, True, {"ALL_PROXY": "socks5h://corp:1080"})
    assert only_all.proxy is not None and only_all.proxy.source == "ALL_PROXY"
    assert only_all.websockets_would_use is None  # websockets ignores ALL_PROXY


def test_lowercase_wins_and_no_proxy_excludes() -> None:
    env = {"HTTPS_PROXY": "http://upper:1", "https_proxy": "http://lower:2"}
    choice = select_proxy(HOST, PORT, True, env)
    assert choice.proxy is not None and choice.proxy.host == "lower"
    excluded = select_proxy(HOST, PORT, True, {**env, "NO_PROXY": ".binance.com"})
    assert excluded.proxy is None and "NO_PROXY excludes" in excluded.reason


def test_flags_win_over_environment() -> None:
    env = {"HTTPS_PROXY": "http://corp:3128"}
    assert select_proxy(HOST, PORT, True, env, disabled=True).proxy is None
    explicit = select_proxy(HOST, PORT, True, env, explicit="socks5h://127.0.0.1:9050")
    assert explicit.proxy is not None and explicit.proxy.source == "--proxy"
    assert select_proxy(HOST, PORT, True, {}).proxy is None


def test_ws_uses_http_proxy() -> None:
    choice = select_proxy("127.0.0.1", 80, False, {"HTTP_PROXY": "http://corp:3128"})
    assert choice.proxy is not None and choice.proxy.source == "HTTP_PROXY"


def test_proxy_and_no_proxy_exclude_each_other() -> None:
    with pytest.raises(ConfigError, match="--proxy and --no-proxy exclude each other"):
        select_proxy(HOST, PORT, True, {}, explicit="http://127.0.0.1:3128", disabled=True)
    with pytest.raises(ConfigError, match="exclude each other"):
        select_proxy(HOST, PORT, True, {}, explicit="", disabled=True)


@pytest.mark.parametrize("explicit", ["", "  "])
def test_empty_proxy_is_refused_not_read_as_none(explicit: str) -> None:
    env = {"HTTPS_PROXY": "http://corp:3128"}
    with pytest.raises(ConfigError, match="--proxy is empty"):
        select_proxy(HOST, PORT, True, env, explicit=explicit)


@pytest.mark.parametrize(
    ("url", "message"),
    [("http://exa mple:3128", "host 'exa mple' is not an IP address or a DNS name"),
     ("http://proxy:\u00b2", "port '\u00b2' is not 1-65535"),
     ("http://proxy:\u0663\u0661\u0662\u0668", "is not 1-65535"),
     ("http://u:secret@[::1", "bad URL"),
     ("http://u:secret@::1:3128", "an IPv6 address goes in brackets")],
)
def test_proxy_host_and_port_are_checked(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match="invalid proxy in --proxy") as raised:
        parse_proxy_url(url)
    assert message in str(raised.value)
    assert "secret" not in str(raised.value)


def test_proxy_host_is_normalized() -> None:
    assert parse_proxy_url("http://u:p@[0:0::1]:3128").host == "::1"
    assert parse_proxy_url("socks5h://Proxy.Corp").host == "proxy.corp"


def test_no_proxy_port_in_other_digits_is_no_port() -> None:
    """int('²') raises and int('٥٣') is 53: such an entry names no port, as `host:x` does."""
    assert no_proxy_matches(HOST, 53, "stream.binance.com:\u0665\u0663")
    assert no_proxy_matches(HOST, PORT, "stream.binance.com:\u00b2")
    assert not no_proxy_matches(HOST, PORT, "stream.binance.com:53")


@pytest.mark.parametrize("userinfo", ["u" * 256 + ":pw", "bob:" + "%C3%A9" * 128,
                                      "u" * 300])
def test_socks5_credentials_over_255_bytes_are_refused_at_config_time(userinfo: str) -> None:
    for scheme in ("socks5", "socks5h"):
        with pytest.raises(ConfigError, match="255 bytes") as refused:
            parse_proxy_url(f"{scheme}://{userinfo}@127.0.0.1:1080")
        message = str(refused.value)
        assert "\n" not in message and "uuuuuuuuuu" not in message and "é" not in message
    # HTTP Basic has no such limit: a long user name is fine there.
    assert parse_proxy_url(f"http://{userinfo}@127.0.0.1:3128").username is not None


@pytest.mark.timeout(30)
def test_an_over_long_socks5_password_exits_3_with_one_line() -> None:
    from tests.simulate.running import run_cli

    result = run_cli("probe", "BTCUSDT", "--proxy", "socks5h://bob:" + "p" * 256 + "@127.0.0.1:1",
                     "--timeout", "1")
    assert result.returncode == 3, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "255 bytes" in lines[0], result.stderr
    assert "Traceback" not in result.stderr and "p" * 20 not in result.stderr + result.stdout
