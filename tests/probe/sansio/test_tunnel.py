"""Proxy handshakes fed with the bytes real proxies send."""

import struct

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
