"""The `dns` stage: where ordinary clients would connect, and what DNS says about the host.

Addresses come, in order of precedence, from `--resolve`, an IP literal, the hosts file
(/etc/hosts: getaddrinfo, and so `websockets.connect`, read it before DNS; dnspython does
not), or A and AAAA through dnspython from the system configuration or `--resolver`. With
`--compare-resolvers`, other resolvers are asked alongside; they are evidence, never the
verdict, and may not hold the stage long after its own answer is in.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ..addresses import UNREACHABLE_RESULTS, compare_answers, is_ip_literal, suspicious_addresses
from ..config.hosts import Nameserver
from ..config.probe import HOSTS_FILE, ProbeConfig
from ..model import JSON, ErrorKind
from ..timing import Deadline, format_seconds
from .base import ProbeState, StageOutcome, Tracer, failed, passed

if TYPE_CHECKING:
    import dns.asyncresolver
    import dns.resolver

T = TypeVar("T")

# Failures ranked by how much they say: a definite "no such name" beats a timeout.
_PRECEDENCE = (
    ErrorKind.NXDOMAIN,
    ErrorKind.SERVFAIL,
    ErrorKind.REFUSED,
    ErrorKind.NO_NAMESERVERS,
    ErrorKind.TIMEOUT,
    ErrorKind.NO_ANSWER,
)
COMPARISON_WAIT = 0.25
"""Seconds a lookup that is only evidence (a `--compare-resolvers` server, or DNS when the
hosts file answered) may still take once the stage's own answer is in. A working public
resolver answers in tens of milliseconds; one still silent by then is recorded as `timeout`,
so a dead one costs the stage this much at most, never a failure."""


@dataclass(frozen=True)
class Lookup:
    """A and AAAA from one resolver, classified."""

    resolver: str
    addresses: list[str] = field(default_factory=list)
    answers: list[dict[str, JSON]] = field(default_factory=list)
    cnames: list[str] = field(default_factory=list)
    queries: list[dict[str, JSON]] = field(default_factory=list)
    errors: list[tuple[ErrorKind, str]] = field(default_factory=list)
    elapsed_ms: float = 0.0

    @property
    def error(self) -> tuple[ErrorKind, str]:
        """The most telling failure (meaningful only without addresses)."""
        if not self.errors:
            return ErrorKind.NO_ANSWER, f"no answer from {self.resolver}"
        return min(self.errors, key=lambda e: _PRECEDENCE.index(e[0]))

    @property
    def result(self) -> str:
        """"ok", or the error kind's value."""
        return "ok" if self.addresses else self.error[0].value

    def summary(self) -> dict[str, JSON]:
        """What this resolver said, for a stage whose answer came from elsewhere."""
        summary: dict[str, JSON] = {"resolver": self.resolver, "result": self.result,
                                    "addresses": list(self.addresses) or None,
                                    "queries": list(self.queries)}
        if not self.addresses:
            summary["message"] = self.error[1]
        return summary


def _unanswered(resolver: str, waited_s: float) -> Lookup:
    """A lookup that is only evidence, given up on once the stage's own answer was in."""
    message = f"no answer from {resolver} within {format_seconds(waited_s)} (not awaited further)"
    return Lookup(resolver, errors=[(ErrorKind.TIMEOUT, message)],
                  elapsed_ms=round(waited_s * 1000, 3))


def asks_dns(config: ProbeConfig) -> bool:
    """Whether the dns stage will query a resolver: not for a --resolve pin or an IP."""
    target = config.target
    return not (config.resolve.get((target.host.lower(), target.port))
                or is_ip_literal(target.host))


def load_resolver() -> None:
    """Import dnspython (~50 ms): done by the runner before any stage's clock starts, and
    only for runs that ask DNS, so neither start-up nor the dns stage's time pays for it."""
    import dns.asyncresolver
    import dns.exception
    import dns.nameserver
    import dns.rdatatype
    import dns.resolver  # noqa: F401 - loaded for the stage's functions


async def resolve_addresses(
    config: ProbeConfig, state: ProbeState, tracer: Tracer, deadline: Deadline,
) -> StageOutcome:
    host, port = config.target.host, config.target.port
    hosts_file = config.hosts_file
    hosts_entries = hosts_file_entries(host, hosts_file)
    common: dict[str, JSON] = {"host": host}
    if hosts_entries:
        common["hosts_file"] = {"path": str(hosts_file), "addresses": hosts_entries}

    override = config.resolve.get((host.lower(), port))
    if override:
        state.addresses = list(override)
        tracer.event(f"DNS skipped: --resolve {host}:{port} -> {', '.join(override)}")
        return passed(**common, source="--resolve", addresses=list(override))
    if is_ip_literal(host):
        state.addresses = [host.strip("[]")]
        return passed(**common, source="ip-literal", addresses=state.addresses)

    import dns.resolver  # loaded before the clock by load_resolver(): a lookup of sys.modules

    try:
        resolver: dns.asyncresolver.Resolver | None = _make_resolver(config.nameservers)
    except dns.resolver.NoResolverConfiguration as exc:
        if not hosts_entries:
            return failed(ErrorKind.NO_NAMESERVERS, f"no DNS server configured: {exc}",
                          **common)
        resolver = None
    resolver_text = _describe(resolver, config.nameservers)
    common["resolver"] = resolver_text
    comparing = {str(ns): _make_resolver([ns]) for ns in config.compare_resolvers}

    if hosts_entries:
        # getaddrinfo answers from the hosts file and never asks DNS: so does the stage.
        # DNS is still asked, as evidence, for as long as a comparison may take.
        state.addresses = list(hosts_entries)
        tracer.event(f"DNS answered by {hosts_file}: {', '.join(hosts_entries)}")
        evidence = dict(comparing)
        if resolver is not None:
            evidence = {resolver_text: resolver, **evidence}
        _, lookups = await _ask(None, evidence, host, deadline)
        details: dict[str, JSON] = {**common, "source": "hosts-file",
                                    "addresses": list(hosts_entries)}
        if resolver is not None:
            details["dns"] = lookups[resolver_text].summary()
        if comparing:
            details["comparison"] = _comparison(list(lookups.values()), None)
        return passed(**details)

    assert resolver is not None
    tracer.event(f"DNS query A and AAAA {host} via {resolver_text}")
    main, compared = await _ask((resolver_text, resolver), comparing, host, deadline)
    assert main is not None
    common["lookup_ms"] = main.elapsed_ms
    if comparing:
        common["comparison"] = _comparison([main, *compared.values()], resolver_text)
    bad = suspicious_addresses(main.addresses)
    if bad:
        common["suspicious_addresses"] = dict(bad)

    details = {**common, "source": "dns", "queries": main.queries}
    if main.addresses:
        state.addresses = main.addresses
        tracer.event(f"DNS answered: {', '.join(main.addresses)}")
        return passed(**details, addresses=main.addresses, answers=main.answers,
                      cname_chain=main.cnames)
    kind, message = main.error
    if all(k is ErrorKind.NO_ANSWER for k, _ in main.errors):
        message = f"{host} has neither A nor AAAA records"
    tracer.event(f"DNS failed: {kind.value}")
    return failed(kind, message, {"resolver": resolver_text}, **details)


async def _ask(
    main: tuple[str, dns.asyncresolver.Resolver] | None,
    others: Mapping[str, dns.asyncresolver.Resolver], host: str, deadline: Deadline,
) -> tuple[Lookup | None, dict[str, Lookup]]:
    """The main lookup, which may take the whole stage budget, and the others alongside.

    The others are evidence only: once the main answer is in (at once, without a main
    lookup) they get at most COMPARISON_WAIT more, never past the deadline; those still
    silent then are recorded as unanswered and cancelled.
    """
    tasks = {name: asyncio.ensure_future(_lookup(resolver, name, host, deadline))
             for name, resolver in others.items()}
    try:
        lookup = await _lookup(main[1], main[0], host, deadline) if main else None
        pending = {task for task in tasks.values() if not task.done()}
        if pending:
            await asyncio.wait(pending, timeout=min(COMPARISON_WAIT, deadline.remaining()))
    finally:
        for task in tasks.values():
            task.cancel()
    had = time.perf_counter() - deadline.started
    return lookup, {name: task.result() if task.done() and not task.cancelled()
                    else _unanswered(name, had) for name, task in tasks.items()}


def _comparison(lookups: Sequence[Lookup], main: str | None) -> dict[str, JSON]:
    """Every resolver's answer side by side (`details.comparison`). Resolvers other than
    `main` that never answered are listed apart: they say nothing about the name."""
    answers: dict[str, list[str] | None] = {lk.resolver: lk.addresses or None
                                            for lk in lookups}
    results = {lk.resolver: lk.result for lk in lookups}
    return {
        "answers": dict(answers),
        "results": dict(results),
        "notes": compare_answers(answers, results),
        "unreachable": [name for name, result in results.items()
                        if name != main and result in UNREACHABLE_RESULTS],
    }


async def _lookup(
    resolver: dns.asyncresolver.Resolver, label: str, host: str, deadline: Deadline
) -> Lookup:
    """A and AAAA in parallel, each ending by the deadline on its own."""
    import dns.resolver

    start = time.perf_counter()
    queries = await asyncio.gather(
        *(_query(resolver, label, host, rdtype, deadline) for rdtype in ("A", "AAAA"))
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
    return Lookup(label, addresses, answers, cnames, query_log, errors,
                  round((time.perf_counter() - start) * 1000, 3))


async def _query(
    resolver: dns.asyncresolver.Resolver, label: str, host: str, rdtype: str,
    deadline: Deadline,
) -> tuple[dns.resolver.Answer | tuple[ErrorKind, str], float]:
    """One lookup, classified; never raises for a DNS failure, never outlives the deadline.

    dnspython's `lifetime` is a target, not a bound: its retry back-off may sleep past it.
    The wait here ends at the deadline whatever dnspython does, so the stage reports its own
    timeout before the runner's supervisor would cancel it and lose the evidence.
    """
    import dns.exception
    import dns.resolver

    start = time.perf_counter()

    def took() -> float:
        return round((time.perf_counter() - start) * 1000, 3)

    lifetime = deadline.remaining()
    timeout = (ErrorKind.TIMEOUT, f"no answer from {label} within {format_seconds(lifetime)}")
    try:
        answer = await _within(
            resolver.resolve(host, rdtype, lifetime=lifetime, search=False), lifetime)
    except dns.resolver.NXDOMAIN:
        return (ErrorKind.NXDOMAIN, f"{host} does not exist (NXDOMAIN)"), took()
    except dns.resolver.NoAnswer:
        return (ErrorKind.NO_ANSWER, f"no {rdtype} record for {host}"), took()
    except dns.resolver.NoNameservers as exc:
        return _classify_no_nameservers(exc), took()
    except (dns.exception.Timeout, TimeoutError):
        return timeout, took()
    except dns.exception.DNSException as exc:
        return (ErrorKind.NO_NAMESERVERS, str(exc)), took()
    return answer, took()


async def _within(aw: Awaitable[T], seconds: float) -> T:
    """`aw`'s result, or TimeoutError at `seconds` without waiting for it to unwind."""
    task = asyncio.ensure_future(aw)
    try:
        done, _ = await asyncio.wait({task}, timeout=seconds)
    except asyncio.CancelledError:
        task.cancel()
        raise
    if not done:
        task.cancel()
        task.add_done_callback(_discard)
        raise TimeoutError
    return task.result()


def _discard(task: asyncio.Task[Any]) -> None:
    """Retrieve what a task abandoned on timeout ended with, so nothing is logged for it."""
    if not task.cancelled():
        task.exception()


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
    import dns.asyncresolver
    import dns.nameserver

    if not nameservers:
        return dns.asyncresolver.Resolver()
    resolver = dns.asyncresolver.Resolver(configure=False)
    resolver.nameservers = [dns.nameserver.Do53Nameserver(ns.address, ns.port)
                            for ns in nameservers]
    return resolver


def _describe(resolver: dns.asyncresolver.Resolver | None,
              explicit: Sequence[Nameserver]) -> str:
    if explicit:
        return ", ".join(str(ns) for ns in explicit)
    if resolver is None:
        return "none (no system configuration)"
    servers = ", ".join(str(ns) for ns in resolver.nameservers)
    return f"{servers} (system)"


def _cname_chain(answer: dns.resolver.Answer, host: str) -> list[str]:
    import dns.rdatatype

    chain: list[str] = []
    for rrset in answer.response.answer:
        if rrset.rdtype == dns.rdatatype.CNAME:
            for rdata in rrset:
                chain.append(str(rdata.target).rstrip("."))
    return chain




def hosts_file_entries(host: str, path: Path = HOSTS_FILE) -> list[str]:
    """Addresses an /etc/hosts-style file gives for `host`, in file order, as getaddrinfo
    would use them (lines whose address is not an IP address are skipped, as glibc does)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    found: list[str] = []
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 2 and host.lower() in (n.lower() for n in fields[1:]) \
                and is_ip_literal(fields[0]) and fields[0] not in found:
            found.append(fields[0])
    return found
