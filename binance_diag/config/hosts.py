"""Host names, IP addresses, ports, resolvers and `--resolve` pins, as the user types them.

ASCII digits only for ports, RFC 1123 labels for names (Unicode via IDNA), IPv6 in brackets.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..addresses import hostport
from .errors import ConfigError

_PORT_RE = re.compile(r"[0-9]{1,5}")
"""ASCII digits only: str.isdigit() and int() also take '²' and '٥٣' (Arabic-Indic 53)."""


_LABEL_RE = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
"""A host name label (RFC 1123 §2.1): letters, digits, inner hyphens, at most 63."""


_NUMERIC_RE = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class Nameserver:
    address: str
    port: int = 53

    def __str__(self) -> str:
        return hostport(self.address, self.port) if self.port != 53 else self.address


def dns_name(text: str) -> str | None:
    """`text` as a lowercase ASCII host name (RFC 1123 labels; Unicode via IDNA), or None.

    A last label of digits only is refused (RFC 3696 §2): `127.1` or `1.2.3` is what
    getaddrinfo reads as an IPv4 address, not a name.
    """
    root = "." if text.endswith(".") else ""
    try:
        name = text.removesuffix(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    labels = name.split(".")
    if len(name) > 253 or not all(_LABEL_RE.fullmatch(label) for label in labels):
        return None
    if _NUMERIC_RE.fullmatch(labels[-1]):
        return None
    return name + root


def parse_host(text: str, what: str) -> str:
    """An IPv4 address or a DNS name, normalized; ConfigError (`invalid <what>`) otherwise."""
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        pass
    name = dns_name(text)
    if name is None:
        raise ConfigError(f"invalid {what}: host {text!r} is not an IP address or a DNS "
                          "name")
    return name


def parse_host_port(authority: str, what: str) -> tuple[str, int | None]:
    """`host[:port]` or `[IPv6][:port]` as in a URL (no user@): the host checked and
    normalized, the port 1-65535 in ASCII digits, None when absent."""
    if authority.startswith("["):
        inside, sep, rest = authority[1:].partition("]")
        if not sep or "[" in inside or (rest and not rest.startswith(":")):
            raise ConfigError(f"invalid {what}: unbalanced [ ] around the host")
        try:
            host = str(ipaddress.IPv6Address(inside)) if "%" not in inside else ""
        except ValueError:
            host = ""
        if not host:
            raise ConfigError(f"invalid {what}: {inside!r} in [ ] is not an IPv6 address")
        port_text = rest[1:] if rest else None
    else:
        name, sep, port_part = authority.partition(":")
        if ":" in port_part:
            raise ConfigError(f"invalid {what}: an IPv6 address goes in brackets, "
                              "e.g. [::1]:9443")
        if not name:
            raise ConfigError(f"invalid {what}: no host")
        host = parse_host(name, what)
        port_text = port_part if sep else None
    return host, None if port_text is None else _parse_port(port_text, what)


def _parse_ip(text: str, what: str) -> str:
    try:
        return str(ipaddress.ip_address(text.strip("[]")))
    except ValueError:
        raise ConfigError(f"invalid {what} {text!r}: expected an IP address") from None


def _parse_port(text: str, what: str) -> int:
    if not _PORT_RE.fullmatch(text) or not 0 < int(text) < 65536:
        raise ConfigError(f"invalid {what}: port {text!r} is not 1-65535")
    return int(text)


def parse_nameserver(text: str, flag: str = "--resolver") -> Nameserver:
    """`IP`, `IP:PORT`, `[IPv6]:PORT` or a bare IPv6 address."""
    text = text.strip()
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ConfigError(f"invalid {flag} {text!r}: expected IP[:PORT]")
        port = _parse_port(rest[1:], flag) if rest else 53
        return Nameserver(_parse_ip(host, flag), port)
    if text.count(":") == 1:
        host, _, port_text = text.partition(":")
        return Nameserver(_parse_ip(host, flag), _parse_port(port_text, flag))
    return Nameserver(_parse_ip(text, flag))


def parse_resolve(entries: Iterable[str]) -> dict[tuple[str, int], tuple[str, ...]]:
    """curl's `--resolve HOST:PORT:ADDR[,ADDR...]`; IPv6 addresses may be bracketed."""
    result: dict[tuple[str, int], tuple[str, ...]] = {}
    for entry in entries:
        host, sep1, rest = entry.partition(":")
        port_text, sep2, addrs = rest.partition(":")
        if not (host and sep1 and sep2 and addrs):
            raise ConfigError(f"invalid --resolve {entry!r}: expected HOST:PORT:ADDR")
        port = _parse_port(port_text, "--resolve")
        addresses = tuple(_parse_ip(a, "--resolve address") for a in addrs.split(","))
        result[(parse_host(host, f"--resolve {entry!r}"), port)] = addresses
    return result
