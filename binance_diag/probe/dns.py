"""The `dns` stage: A and AAAA through dnspython, from the system configuration or `--resolver`.

dnspython does not read /etc/hosts, but ordinary clients (and `websockets.connect`) do, via
getaddrinfo: an entry there overrides DNS for them, so the stage reports it as evidence.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections.abc import Sequence
from pathlib import Path

import dns.asyncresolver
import dns.exception
import dns.nameserver
import dns.rdatatype
import dns.resolver

from ..config import HOSTS_FILE, Nameserver, ProbeConfig
from ..dnscheck import compare_answers, suspicious_addresses
from ..model import JSON, ErrorKind
from ..timing import Deadline
from .base import ProbeState, StageOutcome, Tracer, failed, passed

# Failures ranked by how much they say: a definite "no such name" beats a timeout.
_PRECEDENCE = (
    ErrorKind.NXDOMAIN,
    ErrorKind.SERVFAIL,
    ErrorKind.REFUSED,
    ErrorKind.NO_NAMESERVERS,
    ErrorKind.TIMEOUT,
    ErrorKind.NO_ANSWER,
)


async def resolve_addresses(
    config: ProbeConfig, state: ProbeState, tracer: Tracer, deadline: Deadline,
    hosts_file: Path | None = None,
) -> StageOutcome:
    host, port = config.target.host, config.target.port
    hosts_file = hosts_file or config.hosts_file
    hosts_entries = hosts_file_entries(host, hosts_file)
    common: dict[str, JSON] = {"host": host}
    if hosts_entries:
        common["hosts_file"] = {"path": str(hosts_file), "addresses": hosts_entries}

    override = config.resolve.get((host.lower(), port))
    if override:
        state.addresses = list(override)
        tracer.event(f"DNS skipped: --resolve {host}:{port} -> {', '.join(override)}")
        return passed(**common, source="--resolve", addresses=list(override))
    if _is_ip(host):
        state.addresses = [host.strip("[]")]
        return passed(**common, source="ip-literal", addresses=state.addresses)

    try:
        resolver = _make_resolver(config.nameservers)
    except dns.resolver.NoResolverConfiguration as exc:
        return failed(ErrorKind.NO_NAMESERVERS, f"no DNS server configured: {exc}", **common)
    resolver_text = _describe(resolver, config.nameservers)
    common["resolver"] = resolver_text
    tracer.event(f"DNS query A and AAAA {host} via {resolver_text}")

    comparing = list(config.compare_resolvers)
    lookups = await asyncio.gather(
        _lookup(resolver, host, deadline),
        *(_lookup(_make_resolver([ns]), host, deadline) for ns in comparing),
    )
    addresses, answers, cnames, query_log, errors = lookups[0]
    if comparing:
        results: dict[str, list[str] | None] = {resolver_text: addresses or None}
        for ns, lookup in zip(comparing, lookups[1:], strict=True):
            results[str(ns)] = lookup[0] or None
        common["comparison"] = {"answers": dict(results), "notes": compare_answers(results)}
    bad = suspicious_addresses(addresses)
    if bad:
        common["suspicious_addresses"] = dict(bad)

    details: dict[str, JSON] = {**common, "source": "dns", "queries": query_log}
    if addresses:
        state.addresses = addresses
        tracer.event(f"DNS answered: {', '.join(addresses)}")
        return passed(**details, addresses=addresses, answers=answers, cname_chain=cnames)
    kind, message = min(errors, key=lambda e: _PRECEDENCE.index(e[0]))
    if all(k is ErrorKind.NO_ANSWER for k, _ in errors):
        message = f"{host} has neither A nor AAAA records"
    tracer.event(f"DNS failed: {kind.value}")
    return failed(kind, message, {"resolver": resolver_text}, **details)


Lookup = tuple[
    list[str], list[dict[str, JSON]], list[str], list[dict[str, JSON]], list[tuple[ErrorKind, str]]
]


async def _lookup(
    resolver: dns.asyncresolver.Resolver, host: str, deadline: Deadline
) -> Lookup:
    """A and AAAA in parallel: (addresses, answers, CNAME chain, query log, errors)."""
    queries = await asyncio.gather(
        *(_query(resolver, host, rdtype, deadline) for rdtype in ("A", "AAAA"))
    )
    answers: list[dict[str, JSON]] = []
    addresses: list[str] = []
    cnames: list[str] = []
    query_log: list[dict[str, JSON]] = []
    errors: list[tuple[ErrorKind, str]] = []
    for rdtype, (result, time_ms) in zip(("A", "AAAA"), queries, strict=True):
        if isinstance(result, dns.resolver.Answer):
            ttl = result.rrset.ttl if result.rrset is not None else None
            for rdata in result.rrset or ():
                addresses.append(rdata.address)
                answers.append({"type": rdtype, "address": rdata.address, "ttl": ttl})
            for name in _cname_chain(result, host):
                if name not in cnames:
                    cnames.append(name)
            query_log.append({"type": rdtype, "result": "ok", "time_ms": time_ms})
        else:
            kind, message = result
            query_log.append(
                {"type": rdtype, "result": kind.value, "time_ms": time_ms, "message": message}
            )
            errors.append(result)
    return addresses, answers, cnames, query_log, errors


async def _query(
    resolver: dns.asyncresolver.Resolver, host: str, rdtype: str, deadline: Deadline
) -> tuple[dns.resolver.Answer | tuple[ErrorKind, str], float]:
    """One lookup, classified; never raises for a DNS failure."""
    start = time.perf_counter()

    def took() -> float:
        return round((time.perf_counter() - start) * 1000, 3)

    lifetime = deadline.remaining()
    try:
        async with asyncio.timeout(lifetime + 0.05):
            answer = await resolver.resolve(host, rdtype, lifetime=lifetime, search=False)
        return answer, took()
    except dns.resolver.NXDOMAIN:
        return (ErrorKind.NXDOMAIN, f"{host} does not exist (NXDOMAIN)"), took()
    except dns.resolver.NoAnswer:
        return (ErrorKind.NO_ANSWER, f"no {rdtype} record for {host}"), took()
    except dns.resolver.NoNameservers as exc:
        return _classify_no_nameservers(exc), took()
    except (dns.exception.Timeout, TimeoutError):
        return (ErrorKind.TIMEOUT, f"no DNS answer within {lifetime:.2f} s"), took()
    except dns.exception.DNSException as exc:
        return (ErrorKind.NO_NAMESERVERS, str(exc)), took()


def _classify_no_nameservers(exc: dns.resolver.NoNameservers) -> tuple[ErrorKind, str]:
    """dnspython folds every server's failure into one exception; name the rcode they gave."""
    errors = exc.kwargs.get("errors") or []
    texts = [str(e[3]) for e in errors]
    for rcode, kind in (("SERVFAIL", ErrorKind.SERVFAIL), ("REFUSED", ErrorKind.REFUSED)):
        if rcode in texts:
            return kind, f"DNS server answered {rcode}"
    detail = "; ".join(f"{e[0]}: {e[3]}" for e in errors) or "no server answered"
    return ErrorKind.NO_NAMESERVERS, f"every DNS server failed ({detail})"


def _make_resolver(nameservers: Sequence[Nameserver]) -> dns.asyncresolver.Resolver:
    if not nameservers:
        return dns.asyncresolver.Resolver()
    resolver = dns.asyncresolver.Resolver(configure=False)
    resolver.nameservers = [dns.nameserver.Do53Nameserver(ns.address, ns.port)
                            for ns in nameservers]
    return resolver


def _describe(resolver: dns.asyncresolver.Resolver, explicit: Sequence[Nameserver]) -> str:
    if explicit:
        return ", ".join(str(ns) for ns in explicit)
    servers = ", ".join(str(ns) for ns in resolver.nameservers)
    return f"{servers} (system)"


def _cname_chain(answer: dns.resolver.Answer, host: str) -> list[str]:
    chain: list[str] = []
    for rrset in answer.response.answer:
        if rrset.rdtype == dns.rdatatype.CNAME:
            for rdata in rrset:
                chain.append(str(rdata.target).rstrip("."))
    return chain


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def hosts_file_entries(host: str, path: Path = HOSTS_FILE) -> list[str]:
    """Addresses an /etc/hosts-style file gives for `host` (what getaddrinfo would use)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    found: list[str] = []
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 2 and host.lower() in (n.lower() for n in fields[1:]):
            found.append(fields[0])
    return found
