"""Rules for the `ws_upgrade` stage: what an HTTP answer other than 101 says about who refused."""

from __future__ import annotations

from collections.abc import Mapping

from ...model import Blame, ErrorKind, Severity, StageName
from ...probe.experiments.catalogue import REFUSAL
from ..describe import code
from ..facts import Facts
from ..rule import Action, Condition, Proof, Rule, Scope, Subject
from .common import (
    ATTACH,
    TRY_DATA_STREAM,
    USE_PROXY,
    body_line,
    bytes_received,
    extra,
    header_lines,
    some_bytes,
    status_in,
    with_path,
)

CRITICAL = Severity.CRITICAL
UPGRADE = StageName.WS_UPGRADE
HTTP_STATUS = frozenset({ErrorKind.HTTP_STATUS})
EVIDENCE_HEADERS = ("server", "via", "x-cache", "x-amz-cf-pop", "x-amz-cf-id", "retry-after",
                    "location", "content-type", "x-mbx-used-weight")

CURL = Action("Reproduce by hand: `curl -si --http1.1 {curl_options}-H 'Connection: Upgrade' "
              "-H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' "
              "-H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' {http_url}`")


def response_lines(facts: Facts, subject: Subject) -> list[str]:
    if subject is None or subject.error is None:
        return []
    status = extra(subject, "status")
    lines = []
    if status is not None:
        reason = extra(subject, "reason") or ""
        lines.append(f"GET {code(facts.target.path)} answered {code(f'HTTP {status} {reason}')}")
    else:
        lines.append(subject.error.message)
    lines += header_lines(subject, *EVIDENCE_HEADERS)
    lines += body_line(subject)
    got = bytes_received(subject)
    if got is not None and status is None:
        lines.append(f"{got} bytes of response received")
    return lines


def upgrade_values(facts: Facts, subject: Subject) -> Mapping[str, str]:
    retry = extra(subject, "retry_after")
    if retry is None and subject is not None:
        retry = (subject.details.get("headers") or {}).get("retry-after")
    headers = subject.details.get("headers") or {} if subject is not None else {}
    return {
        "status": str(extra(subject, "status") or "?"),
        "reason": str(extra(subject, "reason") or ""),
        "retry_after": f"{retry} s" if retry is not None else "the time the server asks",
        "location": str(headers.get("location", "another page")),
        "server": str(headers.get("server", "unknown")),
    }


def wrong_accept(facts: Facts, subject: Subject) -> bool:
    """the 101's Sec-WebSocket-Accept does not answer the request's key"""
    return bool(extra(subject, "problem") == "accept")


def named_problem(facts: Facts, subject: Subject) -> bool:
    """websockets named what is wrong with the answer (HTTP version, header count or
    length, a header, an extension or subprotocol)"""
    return bool(extra(subject, "problem") not in (None, "accept", "malformed"))


def problem_values(facts: Facts, subject: Subject) -> Mapping[str, str]:
    return {**upgrade_values(facts, subject),
            "problem_text": str(extra(subject, "problem_text") or "an invalid answer")}


def problem_lines(facts: Facts, subject: Subject) -> list[str]:
    lines = response_lines(facts, subject)
    problem, exc = extra(subject, "problem"), extra(subject, "exception")
    if problem is not None:
        lines.append(f"websockets refused it: {code(str(exc))} ({code(str(problem))})")
    return lines


def html_page(facts: Facts, subject: Subject) -> bool:
    """a 2xx page arrived"""
    status = extra(subject, "status")
    return isinstance(status, int) and 200 <= status < 300


def body_says(category: str, *codes: int) -> Condition:
    """The status is one of `codes`, or the body of the answer says `category` (the
    `http.refusal` experiment): the body decides when it says more than the status."""
    def condition(facts: Facts, subject: Subject) -> bool:
        return extra(subject, "status") in codes or facts.outcome(REFUSAL) == category

    statuses = " or ".join(str(c) for c in codes)
    condition.__name__ = (f"HTTP status {statuses}, or " if codes else "") + \
        f"the body says {category.replace('_', ' ')}"
    return condition


def refusal_values(facts: Facts, subject: Subject) -> Mapping[str, str]:
    found = facts.experiment(REFUSAL)
    details = found.details if found is not None else {}
    return {**upgrade_values(facts, subject),
            "says": str(details.get("says") or "nothing more"),
            "filter_category": str(details.get("filter_category") or "a blocked category"),
            "request_id": str(details.get("request_id") or "none given")}


def refused_by(*categories: str) -> tuple[Proof, ...]:
    return (Proof(REFUSAL, *categories),)


def status_of(*codes: int) -> Condition:
    def condition(facts: Facts, subject: Subject) -> bool:
        return extra(subject, "status") in codes

    condition.__name__ = f"HTTP status {' or '.join(str(c) for c in codes)}"
    return condition


RATE_LIMIT_ACTIONS = (
    Action("Wait {retry_after} before connecting again; every attempt before that extends "
           "the ban"),
    Action("Open fewer connections: Binance allows 300 connection attempts per 5 minutes "
           "per IP; put up to 1024 streams on one connection (`/stream?streams=a/b/...`)"),
    Action("Reconnect with exponential backoff and jitter in your program"),
)

FAILURES = (
    Rule(
        "upgrade.restricted_location", Scope.FAILURE, CRITICAL, Blame.POLICY,
        title="Binance refuses this location (HTTP 451)",
        meaning="HTTP 451: Binance's restricted-location policy; the service is not offered "
                "to the country of this IP address.",
        hypothesis="Binance answers 451 Unavailable For Legal Reasons to IP addresses in "
                   "restricted locations: the refusal is a policy applied to this machine's "
                   "public IP address, not a fault.",
        stage=UPGRADE, kinds=HTTP_STATUS, when=body_says("restricted_location", 451),
        evidence=with_path(response_lines), values=upgrade_values,
        separated_by=(REFUSAL,), confirmed_by=refused_by("restricted_location"),
        analysis="{worked} and Binance itself answered: the network path "
                 "is fine; the answer is a refusal based on location.",
        actions=(Action("Check Binance's terms for your country; Binance.US is a separate "
                        "service: `{again:--endpoint us}`"),
                 Action("If this is a cloud server, use a region Binance serves"), ATTACH),
    ),
    Rule(
        "upgrade.web_filter", Scope.FAILURE, CRITICAL, Blame.POLICY,
        title="A web filter on this network blocks {host} ({filter_category})",
        meaning="The answer's body says a web / content filter (a corporate proxy, a school "
                "or ISP filter) blocks the site by category or policy: not Binance's refusal.",
        hypothesis="The refusal (HTTP {status}) is a filter's block page, not Binance's: it "
                   "says {says}. The network's policy blocks the category ({filter_category}).",
        stage=UPGRADE, kinds=HTTP_STATUS, when=body_says("web_filter"),
        evidence=with_path(response_lines), values=refusal_values,
        separated_by=(REFUSAL,), confirmed_by=refused_by("web_filter"),
        needs_confirmation=True,
        analysis="Something on this network answered in Binance's place with a block page "
                 "that names its policy.",
        actions=(Action("Ask the network's administrators to allow {host} (quote the block "
                        "page: request id {request_id})"),
                 USE_PROXY, ATTACH),
    ),
    Rule(
        "upgrade.ip_banned", Scope.FAILURE, CRITICAL, Blame.POLICY,
        title="This IP address is banned by Binance (HTTP 418) for {retry_after}",
        meaning="HTTP 418: Binance's automatic IP ban after repeated rate-limit violations "
                "(429s that were ignored).",
        hypothesis="Binance bans an IP address with 418 after it kept connecting through "
                   "429 answers; the ban lasts {retry_after} and grows with each repeat.",
        stage=UPGRADE, kinds=HTTP_STATUS, when=body_says("ip_banned", 418),
        separated_by=(REFUSAL,), confirmed_by=refused_by("ip_banned"),
        evidence=with_path(response_lines), values=upgrade_values,
        analysis="Binance answered: the path is fine; this IP address is banned.",
        actions=RATE_LIMIT_ACTIONS,
    ),
    Rule(
        "upgrade.rate_limited", Scope.FAILURE, CRITICAL, Blame.POLICY,
        title="Too many connections: Binance rate-limits this IP address (HTTP 429)",
        meaning="HTTP 429: too many connection attempts from this IP address; Retry-After "
                "says how long to wait.",
        hypothesis="This IP address opened connections faster than Binance allows (often a "
                   "reconnect loop without backoff, or many processes behind one NAT); keep "
                   "going and the 429 turns into a 418 ban.",
        stage=UPGRADE, kinds=HTTP_STATUS, when=body_says("rate_limited", 429),
        separated_by=(REFUSAL,), confirmed_by=refused_by("rate_limited"),
        evidence=with_path(response_lines), values=upgrade_values,
        analysis="Binance answered: the path is fine; the connection rate is the problem.",
        actions=RATE_LIMIT_ACTIONS,
    ),
    Rule(
        "upgrade.maintenance", Scope.FAILURE, CRITICAL, Blame.REMOTE,
        title="{host} is under maintenance (HTTP {status})",
        meaning="The answer's body says the service is in maintenance: a planned, "
                "temporary refusal.",
        hypothesis="The server refused the upgrade because of maintenance: it says {says}.",
        stage=UPGRADE, kinds=HTTP_STATUS, when=body_says("maintenance"),
        evidence=with_path(response_lines), values=refusal_values,
        separated_by=(REFUSAL,), confirmed_by=refused_by("maintenance"),
        needs_confirmation=True,
        analysis="The server answered and said why: maintenance.",
        actions=(Action("Retry after the maintenance window; check Binance's announcements"),),
    ),
    Rule(
        "upgrade.forbidden", Scope.FAILURE, CRITICAL, Blame.POLICY,
        title="Access to {host} is forbidden (HTTP 403) by {server}",
        meaning="HTTP 403 at the edge: a WAF / CloudFront rule blocks this IP address or "
                "country, or the request looks automated.",
        hypothesis="The edge ({server}) refuses the request with 403: a WAF or CloudFront "
                   "geo-restriction applied to this IP address, its country, or its "
                   "reputation (cloud and VPN ranges are often blocked).",
        stage=UPGRADE, kinds=HTTP_STATUS, when=status_of(403),
        separated_by=(REFUSAL,), confirmed_by=refused_by("waf_block"),
        evidence=with_path(response_lines), values=upgrade_values,
        analysis="The network path works up to the HTTP layer; the refusal is a policy at "
                 "the edge.",
        actions=(TRY_DATA_STREAM,
                 Action("Try from another network or region to confirm an IP-based block"),
                 ATTACH),
    ),
    Rule(
        "upgrade.server_error", Scope.FAILURE, CRITICAL, Blame.REMOTE,
        title="{host} answered HTTP {status} {reason}: a server-side failure",
        meaning="HTTP 5xx: the server or its edge failed (maintenance, overload, a gateway "
                "that cannot reach the backend).",
        hypothesis="The upgrade reached the server side and failed there: maintenance or an "
                   "outage at Binance, or a proxy on the way that cannot reach it.",
        stage=UPGRADE, kinds=HTTP_STATUS, when=status_in(500, 599),
        separated_by=(REFUSAL,),
        evidence=with_path(response_lines), values=upgrade_values,
        analysis="The network path works up to HTTP; the server side failed.",
        actions=(Action("Retry with backoff; check Binance's announcements and status for "
                        "maintenance"), TRY_DATA_STREAM),
    ),
    Rule(
        "upgrade.redirect", Scope.FAILURE, CRITICAL, Blame.NETWORK,
        title="The upgrade was redirected to {location}",
        meaning="HTTP 3xx: WebSocket clients do not follow redirects; a captive portal or a "
                "proxy sends the client to a login or block page.",
        hypothesis="Binance's stream endpoints do not redirect; a 3xx to {location} comes from "
                   "a captive portal, a filtering proxy, or a wrong endpoint.",
        stage=UPGRADE, kinds=HTTP_STATUS, when=status_in(300, 399),
        evidence=with_path(response_lines), values=upgrade_values,
        analysis="Something answered HTTP, but sent the client elsewhere.",
        actions=(Action("Open {location} in a browser: a login page means a captive portal"),
                 Action("Check the endpoint URL `{url}`")),
    ),
    Rule(
        "upgrade.bad_request", Scope.FAILURE, CRITICAL, Blame.LOCAL,
        title="The stream URL was rejected (HTTP {status} {reason})",
        meaning="HTTP 400 / 404 / 405: the path or the request is wrong (a mistyped stream "
                "name, a futures path on the spot host, an old URL).",
        hypothesis="The server does not serve `{path}`: the endpoint and the stream path do "
                   "not go together.",
        stage=UPGRADE, kinds=HTTP_STATUS, when=status_of(400, 404, 405, 410, 414),
        evidence=with_path(response_lines), values=upgrade_values,
        analysis="The server answered and rejected the request itself.",
        actions=(Action("Check the URL `{url}`; list the presets with `binance-diag endpoints`"),),
    ),
    Rule(
        "upgrade.http_status", Scope.FAILURE, CRITICAL, Blame.REMOTE,
        title="The upgrade was refused with HTTP {status} {reason}",
        meaning="Another HTTP status than 101: the server or a proxy refused the upgrade.",
        hypothesis="Instead of switching to WebSocket, the server (or a proxy) answered "
                   "HTTP {status} {reason}.",
        stage=UPGRADE, kinds=HTTP_STATUS,
        evidence=with_path(response_lines), values=upgrade_values,
        analysis="Something answered HTTP, so the path is open up to that layer.",
        actions=(CURL, USE_PROXY),
    ),
    Rule(
        "upgrade.captive_portal", Scope.FAILURE, CRITICAL, Blame.NETWORK,
        title="A web page was served instead of the stream (HTTP {status})",
        meaning="A 2xx page instead of 101: a captive portal, a filtering proxy or a block "
                "page answered in Binance's place.",
        hypothesis="Binance never answers a WebSocket request with a page; a captive portal "
                   "(hotel, airport Wi-Fi), a filtering proxy or a block page did.",
        stage=UPGRADE, kinds=frozenset({ErrorKind.NOT_WEBSOCKET}), when=html_page,
        separated_by=(REFUSAL,), confirmed_by=refused_by("captive_portal"),
        evidence=with_path(response_lines), values=upgrade_values,
        analysis="Something answered HTTP in Binance's place.",
        actions=(Action("Open any http:// page in a browser to log in to the portal"),
                 USE_PROXY),
    ),
    Rule(
        "upgrade.not_websocket", Scope.FAILURE, CRITICAL, Blame.NETWORK,
        title="The 101 answer is not a WebSocket upgrade",
        meaning="A 101 without the right Upgrade / Connection headers: a proxy mangled the "
                "upgrade.",
        hypothesis="Something on the path rewrote the upgrade answer ({message}); proxies "
                   "that do not understand WebSocket strip its headers.",
        stage=UPGRADE, kinds=frozenset({ErrorKind.NOT_WEBSOCKET}),
        evidence=with_path(response_lines), values=upgrade_values,
        analysis="The server or a proxy answered HTTP, but not a valid WebSocket upgrade.",
        actions=(CURL, USE_PROXY),
    ),
    Rule(
        "upgrade.bad_accept", Scope.FAILURE, CRITICAL, Blame.NETWORK,
        title="The upgrade answer failed validation (Sec-WebSocket-Accept)",
        meaning="The 101 answer's Sec-WebSocket-Accept does not match the key sent: a cache "
                "or proxy replayed or rewrote it.",
        hypothesis="The 101 did not answer this request's key ({message}): a caching or "
                   "rewriting proxy answered instead of the server.",
        stage=UPGRADE, kinds=frozenset({ErrorKind.INVALID_HANDSHAKE}), when=wrong_accept,
        evidence=with_path(response_lines), values=upgrade_values,
        analysis="An HTTP 101 arrived, but not the one the request called for.",
        actions=(CURL, USE_PROXY),
    ),
    Rule(
        "upgrade.protocol_violation", Scope.FAILURE, CRITICAL, Blame.REMOTE,
        title="The upgrade answer breaks the handshake's rules: {problem_text}",
        meaning="The peer answered the upgrade, but in a way no WebSocket client accepts: "
                "another HTTP version than 1.1, more or longer headers than a client reads, "
                "an extension or subprotocol it did not offer, an invalid handshake header.",
        hypothesis="The peer answering on {hostport} is not a conforming WebSocket server "
                   "({message}): an old or non-WebSocket proxy in the way, a server that "
                   "imposes options, or a hostile peer. Nothing on this machine caused it.",
        stage=UPGRADE, kinds=frozenset({ErrorKind.INVALID_HANDSHAKE}), when=named_problem,
        evidence=with_path(problem_lines), values=problem_values,
        analysis="The connection carried the request and an answer came back: the path "
                 "works up to HTTP; the answer itself is at fault.",
        actions=(CURL, Action("Connect without the proxy or middlebox in between, if there "
                              "is one, to see who sends this answer"), USE_PROXY),
    ),
    Rule(
        "upgrade.not_http", Scope.FAILURE, CRITICAL, Blame.REMOTE,
        title="{hostport} did not answer in HTTP",
        meaning="The bytes that came back are not an HTTP response: another protocol on "
                "this port.",
        hypothesis="The peer answered, but not in HTTP ({message}): the port serves another "
                   "protocol.",
        stage=UPGRADE, kinds=frozenset({ErrorKind.INVALID_HANDSHAKE}),
        evidence=with_path(response_lines), values=upgrade_values,
        analysis="The peer answered, in another protocol.",
        actions=(Action("Check the endpoint URL `{url}`"), CURL),
    ),
    Rule(
        "upgrade.stalled_response", Scope.FAILURE, CRITICAL, Blame.NETWORK,
        title="The upgrade answer stopped halfway",
        meaning="Part of the HTTP answer arrived, then nothing within the timeout.",
        hypothesis="The answer began and stalled ({message}): a proxy buffering the "
                   "response, or a path that loses the larger packets.",
        stage=UPGRADE, kinds=frozenset({ErrorKind.TIMEOUT}), when=some_bytes,
        evidence=with_path(response_lines), values=upgrade_values,
        analysis="The server began to answer, then stalled.",
        actions=(CURL, USE_PROXY),
    ),
    Rule(
        "upgrade.no_response", Scope.FAILURE, CRITICAL, Blame.REMOTE,
        title="No answer to the WebSocket upgrade within {timeout}",
        meaning="The connection is up (TLS done) but the upgrade request got no answer: "
                "the server or a TLS-terminating proxy holds it.",
        hypothesis="The request for `{path}` went out over a working connection and nothing "
                   "answered in {timeout}: the server (or a proxy terminating TLS) holds it.",
        stage=UPGRADE, kinds=frozenset({ErrorKind.TIMEOUT}),
        evidence=with_path(response_lines), values=upgrade_values,
        analysis="TCP and TLS worked, so the path carries bytes; the HTTP layer is silent.",
        actions=(CURL, TRY_DATA_STREAM, USE_PROXY),
    ),
    Rule(
        "upgrade.closed", Scope.FAILURE, CRITICAL, Blame.REMOTE,
        title="The connection closed before the upgrade answer",
        meaning="The server or a proxy closed or reset the connection instead of answering "
                "the upgrade.",
        hypothesis="The peer dropped the connection on the upgrade request ({message}): it "
                   "refuses it without saying why, e.g. a limit on connections.",
        stage=UPGRADE, kinds=frozenset({ErrorKind.EOF, ErrorKind.RESET}),
        evidence=with_path(response_lines), values=upgrade_values,
        analysis="The connection worked until the request; the peer ended it.",
        actions=(CURL, USE_PROXY),
    ),
)
