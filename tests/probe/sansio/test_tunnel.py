"""Proxy handshakes fed with the bytes real proxies send."""

import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from binance_diag.model import ErrorKind
from binance_diag.probe.sansio.tunnel import HttpConnect, Socks5


def test_connect_request_and_200() -> None:
    hs = HttpConnect("stream.binance.com", 9443, "alice", "secret")
    request = hs.bytes_to_send()
    assert request.startswith(b"CONNECT stream.binance.com:9443 HTTP/1.1\r\n")
    assert b"Proxy-Authorization: Basic YWxpY2U6c2VjcmV0\r\n" in request
    hs.feed(b"HTTP/1.1 200 Connection estab")
    assert not hs.done
    hs.feed(b"lished\r\n\r\n")
    assert hs.done and hs.error is None and hs.status == 200


def test_connect_407_is_auth_required_and_403_rejected() -> None:
    hs = HttpConnect("h", 443)
    hs.feed(b'HTTP/1.1 407 Proxy Authentication Required\r\n'
            b'Proxy-Authenticate: Basic realm="corp"\r\n\r\n')
    assert hs.error is not None and hs.error.kind is ErrorKind.AUTH_REQUIRED
    assert hs.error.extra["proxy_authenticate"] == 'Basic realm="corp"'
    hs = HttpConnect("h", 443)
    hs.feed(b"HTTP/1.1 403 Forbidden\r\n\r\n")
    assert hs.error is not None and hs.error.kind is ErrorKind.REJECTED
    hs = HttpConnect("h", 443)
    hs.feed(b"")
    assert hs.error is not None and "closed" in hs.error.message


def test_socks5_remote_dns_without_auth() -> None:
    hs = Socks5("stream.binance.com", 9443)
    assert hs.bytes_to_send() == b"\x05\x01\x00"
    hs.feed(b"\x05\x00")
    name = b"stream.binance.com"
    assert hs.bytes_to_send() == b"\x05\x01\x00\x03" + bytes([len(name)]) + name + struct.pack(
        "!H", 9443)
    hs.feed(b"\x05\x00\x00\x01\x7f\x00\x00\x01")
    assert not hs.done
    hs.feed(b"\x04\x00")
    assert hs.done and hs.error is None


def test_socks5_auth_and_ipv6_target() -> None:
    hs = Socks5("::1", 443, "bob", "pw")
    assert hs.bytes_to_send() == b"\x05\x02\x00\x02"
    hs.feed(b"\x05\x02")
    assert hs.bytes_to_send() == b"\x01\x03bob\x02pw"
    hs.feed(b"\x01\x00")
    assert hs.bytes_to_send()[:4] == b"\x05\x01\x00\x04"
    hs.feed(b"\x05\x00\x00\x04" + b"\x00" * 16 + b"\x01\xbb")
    assert hs.done


def test_socks5_failures() -> None:
    hs = Socks5("h", 443)
    hs.feed(b"\x05\xff")
    assert hs.error is not None and hs.error.kind is ErrorKind.AUTH_REQUIRED
    hs = Socks5("h", 443, "bob", "bad")
    hs.feed(b"\x05\x02\x01\x01")
    assert hs.error is not None and "rejected the username" in hs.error.message
    hs = Socks5("h", 443)
    hs.feed(b"\x05\x00\x05\x02\x00\x01")
    assert hs.error is not None and hs.error.kind is ErrorKind.REJECTED
    assert "not allowed by ruleset" in hs.error.message


# Hostile input (issue 16): nothing a proxy sends, and no credential, makes these raise.

def test_socks5_credentials_over_255_bytes_are_an_error_not_a_crash() -> None:
    for user, password in (("u" * 256, "pw"), ("bob", "é" * 128)):
        hs = Socks5("h", 443, user, password)
        hs.bytes_to_send()
        hs.feed(b"\x05\x02")
        assert hs.error is not None and hs.error.kind is ErrorKind.AUTH_REQUIRED
        assert "255 bytes" in hs.error.message
        assert hs.bytes_to_send() == b""  # nothing half-sent


def test_socks5_target_name_too_long_is_an_error_not_a_crash() -> None:
    hs = Socks5("a" * 300 + ".example", 443)
    hs.feed(b"\x05\x00")
    assert hs.error is not None and hs.error.kind is ErrorKind.REJECTED


def _feed_in_chunks(hs: HttpConnect | Socks5, data: st.DataObject, stream: bytes) -> None:
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=6)))
    for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        if end > start:
            hs.feed(stream[start:end])
            hs.bytes_to_send()
    if data.draw(st.booleans()):
        hs.feed(b"")
    assert not (hs.done and hs.error is not None)
    if hs.error is not None:
        assert hs.error.kind in (ErrorKind.REJECTED, ErrorKind.AUTH_REQUIRED)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_any_connect_answer_in_any_chunks_is_classified(data: st.DataObject) -> None:
    parts = data.draw(st.lists(st.sampled_from(
        [b"HTTP/1.1 ", b"HTTP/1.0 ", b"200", b"407", b"\xd9\xa5\xd9\xa5\xd9\xa5", b" OK",
         b"\r\n", b"Proxy-Authenticate: Basic\r\n", b":", b"\r\n\r\n", b"x" * 5000])
        | st.binary(max_size=40), max_size=12))
    hs = HttpConnect("stream.binance.com", 9443, data.draw(st.none() | st.text(max_size=300)),
                     data.draw(st.none() | st.text(max_size=300)))
    hs.bytes_to_send()
    _feed_in_chunks(hs, data, b"".join(parts))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_socks5_answer_in_any_chunks_is_classified(data: st.DataObject) -> None:
    parts = data.draw(st.lists(st.sampled_from(
        [b"\x05", b"\x00", b"\x02", b"\xff", b"\x01", b"\x03", b"\x04", b"\x05\x00\x00\x01",
         b"\x05\x00\x00\x03\xff", b"\x05\x00\x00\x04", b"\x7f\x00\x00\x01\x01\xbb"])
        | st.binary(max_size=24), max_size=12))
    user = data.draw(st.none() | st.text(max_size=300))
    host = data.draw(st.sampled_from(["stream.binance.com", "127.0.0.1", "::1",
                                      "a" * 300, "xn--bad-", "ex\u00e4mple.com"]))
    hs = Socks5(host, 9443, user, data.draw(st.none() | st.text(max_size=300)))
    hs.bytes_to_send()
    _feed_in_chunks(hs, data, b"".join(parts))
