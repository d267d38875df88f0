"""Rules for the `dns` stage: failures by rcode, and answers that cannot be Binance's."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...model import Blame, ErrorKind, Severity, StageName, StageStatus
from ...timing import format_ms
from ..describe import code, codes
from ..facts import Facts, address_kind, is_public_address
from ..rule import Action, Rule, Scope, Subject
from .common import ATTACH, binance, detail, not_binance

CRITICAL, WARNING = Severity.CRITICAL, Severity.WARNING
DNS = StageName.DNS

OTHER_RESOLVER = Action("Ask a public resolver instead: `{again:--resolver 1.1.1.1}`")
DIG = Action("Compare answers: `dig +short {host}` and `dig +short {host} @1.1.1.1`")
RESOLV_CONF = Action("Check the system resolver: `cat /etc/resolv.conf` "
                     "(or `resolvectl status` with systemd-resolved)")


def dns_evidence(facts: Facts, subject: Subject) -> list[str]:
    if subject is None:
        return []
    d = subject.details
    lines = []
    hosts = d.get("hosts_file")
    from_hosts = d.get("source") == "hosts-file"
    if subject.error is not None:
        resolver = str(d.get("resolver", "unknown"))
        message = subject.error.message
        lines.append(message if resolver in message else f"resolver {code(resolver)}: {message}")
    elif from_hosts and isinstance(hosts, Mapping):
        lines.append(f"{hosts.get('path')} answered {codes(d.get('addresses') or ())} for "
                     f"{code(d.get('host'))}, as getaddrinfo does: DNS was not used")
    elif d.get("addresses"):
        lines.append(f"resolver {code(d.get('resolver', 'unknown'))} answered "
                     f"{codes(d.get('addresses') or ())} for {code(d.get('host'))}")
    lines += _query_lines(d.get("queries"))
    said = d.get("dns")
    if isinstance(said, Mapping):
        answer = said.get("addresses")
        lines.append(f"DNS ({code(said.get('resolver'))}) says "
                     f"{codes(answer) if answer else said.get('result')}")
    comparison = d.get("comparison")
    if isinstance(comparison, Mapping):
        results = comparison.get("results") or {}
        unreachable = comparison.get("unreachable") or ()
        for resolver, answer in (comparison.get("answers") or {}).items():
            result = results.get(resolver)
            if answer:
                lines.append(f"{code(resolver)} answered {codes(answer)}")
            elif resolver in unreachable:
                lines.append(f"{code(resolver)} never answered ({result}): not compared")
            else:
                lines.append(f"{code(resolver)} answered nothing"
                             + (f" ({result})" if result else ""))
        lines += [str(note) for note in comparison.get("notes") or ()]
    if isinstance(hosts, Mapping) and not from_hosts:
        lines.append(f"{hosts.get('path')} maps {code(d.get('host'))} to "
                     f"{codes(hosts.get('addresses') or ())} (used by ordinary clients)")
    return lines


def _query_lines(queries: Any) -> list[str]:
    lines = []
    for query in queries or ():
        time = query.get("time_ms")
        time_text = f" in {format_ms(time)}" if isinstance(time, int | float) else ""
        lines.append(f"{query.get('type')} query: {query.get('result')}{time_text}")
    return lines


def _hosts_addresses(subject: Subject) -> list[str]:
    hosts = detail(subject, "hosts_file")
    if not isinstance(hosts, Mapping):
        return []
    return [str(a) for a in hosts.get("addresses") or ()]


def hosts_blackhole(facts: Facts, subject: Subject) -> bool:
    """/etc/hosts maps a Binance host to a non-public address"""
    return facts.binance and any(not is_public_address(a) for a in _hosts_addresses(subject))


def hosts_override(facts: Facts, subject: Subject) -> bool:
    """/etc/hosts maps a Binance host to public addresses"""
    return facts.binance and bool(_hosts_addresses(subject)) and not hosts_blackhole(facts, subject)


def private_answer(facts: Facts, subject: Subject) -> bool:
    """DNS answered a non-public address for a Binance host"""
    if not facts.binance or subject is None or subject.status is not StageStatus.OK:
        return False
    if subject.details.get("source") != "dns":
        return False
    return any(not is_public_address(str(a)) for a in subject.details.get("addresses") or ())


def partial_answer(facts: Facts, subject: Subject) -> bool:
    """A or AAAA failed while the other answered"""
    if subject is None or subject.status is not StageStatus.OK:
        return False
    results = [q.get("result") for q in subject.details.get("queries") or ()]
    return "ok" in results and any(r not in ("ok", "no_answer") for r in results)


def resolvers_disagree(facts: Facts, subject: Subject) -> bool:
    """`--compare-resolvers` found a suspicious or disjoint answer"""
    comparison = detail(subject, "comparison")
    return isinstance(comparison, Mapping) and bool(comparison.get("notes")) and \
        not private_answer(facts, subject)


def unreachable_resolvers(subject: Subject) -> list[str]:
    comparison = detail(subject, "comparison")
    if not isinstance(comparison, Mapping):
        return []
    return [str(r) for r in comparison.get("unreachable") or ()]


def compare_resolver_unreachable(facts: Facts, subject: Subject) -> bool:
    """a `--compare-resolvers` server never answered"""
    return bool(unreachable_resolvers(subject))


def resolver_address(resolver: str) -> tuple[str, int] | None:
    """The first server of a stage's `resolver` text (`127.0.0.1:5353`, `[::1]:5353`,
    `10.0.0.53, 10.0.0.54 (system)`) as (address, port); None when there is none."""
    first = resolver.split(",")[0].split(" (")[0].strip()
    if first.startswith("["):
        address, _, rest = first[1:].partition("]")
        port = rest.removeprefix(":")
    elif first.count(":") == 1:
        address, port = first.split(":")
    else:
        address, port = first, ""
    if not address or not (port or "53").isdigit() or address.startswith("none"):
        return None
    return address, int(port or 53)


def dns_values(facts: Facts, subject: Subject) -> Mapping[str, str]:
    d: Mapping[str, Any] = subject.details if subject is not None else {}
    addresses = d.get("addresses") or []
    private = [f"{a} ({address_kind(str(a))})" for a in addresses
               if not is_public_address(str(a))]
    server = resolver_address(str(d.get("resolver", "")))
    port = server[1] if server else 53
    dig = f"dig {facts.target.host} @<resolver address>"
    if server:
        dig = f"dig {facts.target.host} @{server[0]}" + (f" -p {port}" if port != 53 else "")
    return {
        "dns_port": str(port),
        "dig": dig,
        "resolver": str(d.get("resolver", "the resolver")),
        "addresses": ", ".join(str(a) for a in addresses),
        "private": ", ".join(private),
        "hosts_addresses": ", ".join(_hosts_addresses(subject)),
        "unreachable": ", ".join(unreachable_resolvers(subject)),
    }


FAILURES = (
    Rule(
        "dns.blocked_nxdomain", Scope.FAILURE, CRITICAL, Blame.POLICY,
        title="The resolver denies that {host} exists: DNS filtering",
        meaning="A resolver answered NXDOMAIN for a Binance host name that exists: the name "
                "is filtered by the ISP, the country or a corporate / parental DNS filter.",
        hypothesis="{host} is a public Binance host name. A resolver that says it does not "
                   "exist is filtering it; Binance is reachable only through another resolver "
                   "or network, where that is allowed.",
        stage=DNS, kinds=frozenset({ErrorKind.NXDOMAIN}), when=binance,
        evidence=dns_evidence, values=dns_values,
        analysis="DNS failed with a definite NXDOMAIN from {resolver}: the resolver answered, "
                 "so the path to it works; the name itself is denied.",
        actions=(OTHER_RESOLVER, DIG,
                 Action("If the filter is your organisation's policy, ask its network team; "
                        "Binance also restricts some countries (see its terms of use).")),
    ),
    Rule(
        "dns.nxdomain", Scope.FAILURE, CRITICAL, Blame.LOCAL,
        title="{host} does not exist (NXDOMAIN)",
        meaning="The host name of a custom endpoint does not exist: a typo or a stale name.",
        hypothesis="The endpoint URL names a host that DNS does not know: check its spelling "
                   "or use a preset (`binance-diag endpoints`).",
        stage=DNS, kinds=frozenset({ErrorKind.NXDOMAIN}), when=not_binance,
        evidence=dns_evidence, values=dns_values,
        analysis="DNS answered NXDOMAIN: the resolver works, the name does not exist.",
        actions=(Action("Check the endpoint URL `{url}`; list the presets with "
                        "`binance-diag endpoints`"), DIG),
    ),
    Rule(
        "dns.no_answer", Scope.FAILURE, CRITICAL, Blame.NETWORK,
        title="{host} has neither an A nor an AAAA record here",
        meaning="The name exists but the resolver returned no address: a filtering resolver "
                "or a broken record.",
        hypothesis="The resolver returns the name without any address. For a Binance host "
                   "this is filtering that answers empty instead of NXDOMAIN; for a custom "
                   "host the record is missing.",
        stage=DNS, kinds=frozenset({ErrorKind.NO_ANSWER}),
        evidence=dns_evidence, values=dns_values,
        analysis="DNS answered, but with no address: the resolver is reachable.",
        actions=(OTHER_RESOLVER, DIG),
    ),
    Rule(
        "dns.timeout", Scope.FAILURE, CRITICAL, Blame.NETWORK,
        title="No DNS answer for {host} within {timeout}",
        meaning="The resolver never answered: it is down, unreachable, or UDP/TCP port 53 is "
                "blocked on the path.",
        hypothesis="The queries to {resolver} went unanswered for {timeout}. The resolver is "
                   "unreachable or dead, or port {dns_port} is blocked on this network.",
        stage=DNS, kinds=frozenset({ErrorKind.TIMEOUT}),
        evidence=dns_evidence, values=dns_values,
        analysis="No answer at all from {resolver}: nothing is known about {host} itself.",
        actions=(OTHER_RESOLVER, RESOLV_CONF,
                 Action("Test the resolver directly: `{dig}`")),
    ),
    Rule(
        "dns.servfail", Scope.FAILURE, CRITICAL, Blame.NETWORK,
        title="The resolver failed to resolve {host} (SERVFAIL)",
        meaning="The resolver answered SERVFAIL: it could not reach upstream servers, or "
                "DNSSEC validation failed.",
        hypothesis="{resolver} is reachable but cannot resolve {host}: its upstream is broken "
                   "or it rejects the answer (DNSSEC).",
        stage=DNS, kinds=frozenset({ErrorKind.SERVFAIL}),
        evidence=dns_evidence, values=dns_values,
        analysis="The resolver answered (SERVFAIL): the path to it works; it fails upstream.",
        actions=(OTHER_RESOLVER, Action("Check the resolver's health: "
                                        "`dig +dnssec {host} @<resolver address>`")),
    ),
    Rule(
        "dns.refused", Scope.FAILURE, CRITICAL, Blame.LOCAL,
        title="The resolver refuses to answer this machine (REFUSED)",
        meaning="The resolver answered REFUSED: it does not serve this client (an access list, "
                "or a `--resolver` that is not a recursive resolver).",
        hypothesis="{resolver} refuses queries from this machine: it is not the right resolver "
                   "for this network, or not a recursive resolver at all.",
        stage=DNS, kinds=frozenset({ErrorKind.REFUSED}),
        evidence=dns_evidence, values=dns_values,
        analysis="The resolver answered REFUSED: reachable, but not willing to serve us.",
        actions=(RESOLV_CONF, OTHER_RESOLVER),
    ),
    Rule(
        "dns.no_nameservers", Scope.FAILURE, CRITICAL, Blame.LOCAL,
        title="No usable DNS server",
        meaning="No resolver is configured, or every configured one failed.",
        hypothesis="This machine has no working DNS configuration: {message}",
        stage=DNS, kinds=frozenset({ErrorKind.NO_NAMESERVERS}),
        evidence=dns_evidence, values=dns_values,
        analysis="No DNS server could be asked: nothing is known about the network beyond.",
        actions=(RESOLV_CONF, OTHER_RESOLVER),
    ),
)

PRECEDING = (
    Rule(
        "dns.hosts_file_blackhole", Scope.STAGE, CRITICAL, Blame.LOCAL,
        title="/etc/hosts sends {host} to {hosts_addresses}",
        meaning="/etc/hosts maps a Binance host to a loopback, private or unspecified address "
                "(an ad-blocker or a leftover test entry): ordinary clients, your bot included, "
                "connect there instead of to Binance, whatever DNS says.",
        hypothesis="Your program resolves {host} through /etc/hosts, which maps it to "
                   "{hosts_addresses}: it never reaches Binance, whatever DNS says. The probe "
                   "used the entry too, as getaddrinfo does (unless `--resolve` overrode it): "
                   "if it passed, something local answered there, not Binance.",
        stage=DNS, when=hosts_blackhole, evidence=dns_evidence, values=dns_values,
        actions=(Action("Remove the {host} line from /etc/hosts: `sudoedit /etc/hosts`"),
                 Action("Check what ordinary clients get: `getent hosts {host}`")),
    ),
    Rule(
        "dns.private_address", Scope.STAGE, CRITICAL, Blame.NETWORK,
        title="DNS answers {private} for {host}: not a Binance address",
        meaning="DNS returned a loopback, private or otherwise non-public address for a "
                "Binance host: a filtering resolver (sinkhole), a hijack, or a local proxy.",
        hypothesis="Binance serves {host} from public addresses only; {resolver} answered "
                   "{private}, so the connection goes somewhere else: a DNS sinkhole, a "
                   "captive portal or a hijacking resolver.",
        stage=DNS, when=private_answer, evidence=dns_evidence, values=dns_values,
        severity_when_healthy=WARNING,
        actions=(OTHER_RESOLVER, DIG, ATTACH),
    ),
)

OBSERVATIONS = (
    Rule(
        "dns.partial_answer", Scope.STAGE, WARNING, Blame.NETWORK,
        title="One DNS query for {host} failed while the other answered",
        meaning="A or AAAA failed (timeout, SERVFAIL) while the other answered: ordinary "
                "clients wait for both, so every connect is delayed.",
        hypothesis="getaddrinfo asks A and AAAA together and waits for both: the failing "
                   "query delays every new connection by up to the resolver timeout.",
        stage=DNS, when=partial_answer, evidence=dns_evidence, values=dns_values,
        actions=(OTHER_RESOLVER, Action("Test both: `dig A {host}` and `dig AAAA {host}`")),
    ),
    Rule(
        "dns.resolvers_disagree", Scope.STAGE, WARNING, Blame.NETWORK,
        title="Resolvers disagree about {host}",
        meaning="With `--compare-resolvers`, a resolver denied the name (NXDOMAIN, no "
                "address), answered a non-public address, or addresses no other resolver "
                "returns: a filtering or hijacking resolver somewhere (CDN rotation can "
                "explain a mere difference). A resolver that never answered is "
                "`dns.compare_resolver_unreachable`, not this.",
        hypothesis="The resolvers compared do not give the same picture of {host}; the one "
                   "that stands apart is filtering, hijacking or broken (a plain difference "
                   "in addresses may also be CDN rotation).",
        stage=DNS, when=resolvers_disagree, evidence=dns_evidence, values=dns_values,
        actions=(DIG, OTHER_RESOLVER),
    ),
    Rule(
        "dns.compare_resolver_unreachable", Scope.STAGE, WARNING, Blame.NETWORK,
        title="{unreachable} never answered: no comparison with it",
        meaning="With `--compare-resolvers`, a resolver sent no answer at all within the "
                "wait allowed once the stage's own answer was in: it is down, or this "
                "network blocks DNS to outside resolvers (networks that filter DNS often "
                "do). The stage itself is not affected.",
        hypothesis="{unreachable} did not answer, so nothing is known about what it would say "
                   "of {host}. A network that drops DNS to public resolvers forces its own, "
                   "which may be the one filtering.",
        stage=DNS, when=compare_resolver_unreachable, evidence=dns_evidence,
        values=dns_values,
        actions=(Action("Test it directly: `dig +tries=1 +time=2 {host} @<resolver address>`"),
                 Action("Compare over DNS-over-HTTPS, which such networks rarely block: "
                        "`curl -s 'https://cloudflare-dns.com/dns-query?name={host}&type=A' "
                        "-H 'accept: application/dns-json'`")),
    ),
    Rule(
        "dns.hosts_file_override", Scope.STAGE, WARNING, Blame.LOCAL,
        title="/etc/hosts pins {host} to {hosts_addresses}",
        meaning="/etc/hosts maps a Binance host to fixed addresses: your program uses them, "
                "not DNS, and they go stale when Binance moves.",
        hypothesis="Ordinary clients, and this probe unless `--resolve` overrode it, use the "
                   "/etc/hosts entry ({hosts_addresses}) and never ask DNS; when Binance "
                   "renumbers, they break.",
        stage=DNS, when=hosts_override, evidence=dns_evidence, values=dns_values,
        actions=(Action("Remove the pin unless you need it: edit /etc/hosts"),
                 Action("Probe the pinned address: "
                        "`{again:--resolve {host}:{port}:PINNED_ADDRESS}`")),
    ),
)
