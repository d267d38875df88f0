import pytest

from binance_diag.config.errors import ConfigError
from binance_diag.config.hosts import (
    Nameserver,
    dns_name,
    parse_host,
    parse_host_port,
    parse_nameserver,
    parse_resolve,
)


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


def test_a_bad_comparison_resolver_is_named_by_its_own_option() -> None:
    from binance_diag.config.hosts import parse_nameserver

    with pytest.raises(ConfigError, match="invalid --compare-resolvers 'x'"):
        parse_nameserver("x", "--compare-resolvers")


@pytest.mark.parametrize(
    ("authority", "expected"),
    [("Stream.Binance.com:9443", ("stream.binance.com", 9443)), ("127.0.0.1", ("127.0.0.1", None)),
     ("[0:0::1]:80", ("::1", 80)), ("[::1]", ("::1", None))],
)
def test_host_port_is_checked_and_normalized(authority: str,
                                             expected: tuple[str, int | None]) -> None:
    assert parse_host_port(authority, "endpoint") == expected


@pytest.mark.parametrize(
    ("authority", "message"),
    [("[fe80::1%eth0]:1", "in [ ] is not an IPv6 address"), ("h:0", "port '0' is not 1-65535"),
     ("h:65536", "port '65536' is not 1-65535"), ("::1", "an IPv6 address goes in brackets")],
)
def test_bad_host_port_names_the_option(authority: str, message: str) -> None:
    with pytest.raises(ConfigError, match=r"^invalid --proxy: ") as raised:
        parse_host_port(authority, "--proxy")
    assert message in str(raised.value)


def test_nameserver_prints_as_typed_without_the_default_port() -> None:
    assert str(Nameserver("127.0.0.1")) == "127.0.0.1"
    assert str(Nameserver("::1", 5353)) == "[::1]:5353"
    assert str(parse_host("127.0.0.1", "x")) == "127.0.0.1"
