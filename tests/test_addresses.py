import pytest

from binance_diag.addresses import (
    address_class,
    bracketed,
    compare_answers,
    hostport,
    suspicious_addresses,
)


def test_address_classes() -> None:
    assert address_class("127.0.0.1") == "loopback"
    assert address_class("::1") == "loopback"
    assert address_class("0.0.0.0") == "unspecified"
    assert address_class("169.254.1.1") == "link-local"
    assert address_class("192.168.1.1") == "private"
    assert address_class("52.199.12.133") is None  # a literal, not a destination
    assert suspicious_addresses(["52.199.12.133", "0.0.0.0"]) == {"0.0.0.0": "unspecified"}


def test_disagreement_and_hijack_are_named() -> None:
    notes = compare_answers({
        "system": ["127.0.0.1"],
        "9.9.9.9": ["52.199.12.133", "54.178.2.114"],
        "1.1.1.1": ["54.178.2.114"],
    })
    assert "system answers 127.0.0.1 (loopback): not a public address" in notes
    assert "system answers 127.0.0.1, which no other resolver returns" in notes
    assert not any(n.startswith("9.9.9.9") or n.startswith("1.1.1.1") for n in notes)


def test_failure_and_agreement() -> None:
    assert compare_answers({"a": None, "b": ["52.199.12.133"]}) == ["a gave no answer"]
    assert compare_answers({"a": ["52.199.12.133"], "b": ["52.199.12.133"]}) == []


@pytest.mark.parametrize(("host", "port", "expected"), [
    ("1.2.3.4", 443, "1.2.3.4:443"),
    ("::1", 9443, "[::1]:9443"),
    ("[::1]", 9443, "[::1]:9443"),
    ("stream.binance.com", 9443, "stream.binance.com:9443"),
    ("fe80::1%eth0", 53, "[fe80::1%eth0]:53"),
])
def test_hostport_brackets_ipv6_literals_once(host: str, port: int, expected: str) -> None:
    assert hostport(host, port) == expected
    assert bracketed(host) == expected.rpartition(":")[0]
