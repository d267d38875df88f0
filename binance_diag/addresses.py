"""What an address is and how it is written: IP literals, `host:port` with IPv6 in brackets,
addresses no public service uses, and resolvers that disagree.

Pure. A public host such as stream.binance.com never resolves to loopback, private,
link-local or unspecified addresses: such an answer is a DNS filter, a hijack or an
/etc/hosts pin. Two resolvers answering disjoint sets is weaker evidence (CDNs rotate
addresses), so it is reported with the suspicious answers, not alone. A resolver that never
answered says nothing about the name: it is no disagreement, and is reported apart.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence

UNREACHABLE_RESULTS = frozenset({"timeout", "no_nameservers"})
"""Lookup results (error kind values) of a resolver that never answered at all."""


def is_ip_literal(host: str) -> bool:
    """An IP address (IPv6 bracketed or not) rather than a name: no DNS, no SNI."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def bracketed(host: str) -> str:
    """An IPv6 literal as URLs and `host:port` need it, `[::1]` (RFC 3986 §3.2.2); others as is."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def hostport(host: str, port: object) -> str:
    """`1.2.3.4:443`, `[::1]:443`, `stream.binance.com:9443`: the one way to write an endpoint."""
    return f"{bracketed(host)}:{port}"


def address_class(address: str) -> str | None:
    """Why an address cannot be a public service's, or None if it can."""
    ip = ipaddress.ip_address(address)
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_private:
        return "private"
    if ip.is_reserved or ip.is_multicast:
        return "reserved"
    return None


def suspicious_addresses(addresses: Sequence[str]) -> dict[str, str]:
    """address -> class, for every address a public host should never resolve to."""
    return {a: c for a in addresses if (c := address_class(a)) is not None}


def compare_answers(answers: Mapping[str, Sequence[str] | None],
                    results: Mapping[str, str] | None = None) -> list[str]:
    """Disagreements between resolvers' answers (resolver -> addresses, None when it failed).

    `results` (resolver -> "ok" or an error kind value) tells a resolver that answered
    without addresses (NXDOMAIN: a filter) from one that never answered (not noted here).
    """
    notes: list[str] = []
    answered = {name: set(addrs) for name, addrs in answers.items() if addrs}
    for name, addrs in answers.items():
        if addrs is None:
            result = (results or {}).get(name)
            if result in UNREACHABLE_RESULTS:
                continue
            notes.append(f"{name} gave no answer" + (f" ({result})" if result else ""))
            continue
        bad = suspicious_addresses(list(addrs))
        if bad:
            listed = ", ".join(f"{a} ({c})" for a, c in bad.items())
            notes.append(f"{name} answers {listed}: not a public address")
    if len(answered) > 1:
        for name, mine in answered.items():
            others: set[str] = set().union(*(a for n, a in answered.items() if n != name))
            if mine.isdisjoint(others):
                notes.append(f"{name} answers {', '.join(sorted(mine))}, "
                             "which no other resolver returns")
    return notes
