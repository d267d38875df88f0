"""Rules for the `proxy` and `tcp` stages: who refused, who stayed silent, which family."""

from __future__ import annotations

from collections.abc import Mapping

from ...addresses import hostport
from ...model import Blame, ErrorKind, Severity, StageName, StageStatus
from ...probe.experiments.catalogue import OTHER_PORT
from ...timing import format_ms
from ..describe import code
from ..facts import Facts
from ..rule import Action, Proof, Rule, Scope, Subject
from .common import (
    TRY_443,
    TRY_DATA_STREAM,
    USE_PROXY,
    detail,
    extra,
    message_line,
    on_spot_port,
    with_path,
)

CRITICAL, WARNING = Severity.CRITICAL, Severity.WARNING
TCP, PROXY = StageName.TCP, StageName.PROXY


def attempt_lines(facts: Facts, subject: Subject) -> list[str]:
    lines = []
    for attempt in detail(subject, "attempts") or ():
        time = attempt.get("time_ms")
        time_text = f" after {format_ms(time)}" if isinstance(time, int | float) else ""
        lines.append(f"{attempt.get('family', '')} {code(_hostport(attempt))}: "
                     f"{attempt.get('result')}{time_text}".lstrip())
    return lines


def _hostport(attempt: Mapping[str, object]) -> str:
    return hostport(str(attempt.get("address")), attempt.get("port"))


def tcp_values(facts: Facts, subject: Subject) -> Mapping[str, str]:
    address = extra(subject, "address")
    if address is None:
        attempts = detail(subject, "attempts") or []
        address = attempts[0].get("address") if attempts else facts.target.host
    return {"address": str(address)}


def no_attempt(facts: Facts, subject: Subject) -> bool:
    """no address was tried (the `-4` / `-6` filter left none)"""
    return subject is not None and not detail(subject, "attempts") and \
        bool(detail(subject, "addresses"))


def family_fallback(facts: Facts, subject: Subject) -> bool:
    """one address family failed and the other connected"""
    if subject is None or subject.status is not StageStatus.OK:
        return False
    attempts = detail(subject, "attempts") or []
    ok = {a.get("family") for a in attempts if a.get("result") == "ok"}
    failed = {a.get("family") for a in attempts if a.get("result") != "ok"}
    return bool(ok) and bool(failed - ok)


def fallback_values(facts: Facts, subject: Subject) -> Mapping[str, str]:
    attempts = detail(subject, "attempts") or []
    ok = sorted({str(a.get("family")) for a in attempts if a.get("result") == "ok"})
    failed = sorted({str(a.get("family")) for a in attempts if a.get("result") != "ok"} -
                    set(ok))
    address = next((str(a.get("address")) for a in attempts
                    if str(a.get("family")) in failed), "")
    flag = "-6" if failed == ["IPv6"] else "-4"
    return {"failed_family": ", ".join(failed), "ok_family": ", ".join(ok),
            "check_family": f"`ip {flag} route get {address}` / `ping {flag} {address}`"}


def _failed_beside_working(subject: Subject) -> list[Mapping[str, object]]:
    """Attempts that failed, or were still pending, while an address of their family connected."""
    if subject is None or subject.status is not StageStatus.OK:
        return []
    attempts = detail(subject, "attempts") or []
    ok = {a.get("family") for a in attempts if a.get("result") == "ok"}
    return [a for a in attempts if a.get("result") != "ok" and a.get("family") in ok]


def address_failed(facts: Facts, subject: Subject) -> bool:
    """an address did not connect while another of its family did"""
    return bool(_failed_beside_working(subject))


def address_values(facts: Facts, subject: Subject) -> Mapping[str, str]:
    failed = _failed_beside_working(subject)
    connect = detail(subject, "connect_ms")
    return {
        "failed_addresses": ", ".join(f"{_hostport(a)} ({a.get('result')})" for a in failed),
        "failed_address": str(failed[0].get("address")) if failed else "",
        "connected_to": str(detail(subject, "connected_to")),
        "connect": format_ms(connect) if isinstance(connect, int | float) else "no time",
    }


def proxy_lines(facts: Facts, subject: Subject) -> list[str]:
    lines = message_line(facts, subject)
    for key in ("proxy", "status", "reason"):
        value = extra(subject, key) or detail(subject, key)
        if value:
            lines.append(f"{key}: {code(value)}")
    return lines


def proxy_user(subject: Subject) -> str | None:
    """The user name in the proxy URL the probe used (its password is masked), if any."""
    from urllib.parse import urlsplit

    url = str(extra(subject, "proxy") or detail(subject, "proxy") or "")
    try:
        return urlsplit(url).username
    except ValueError:
        return None


def credentials_given(facts: Facts, subject: Subject) -> bool:
    """the proxy URL has credentials"""
    return proxy_user(subject) is not None


def no_credentials(facts: Facts, subject: Subject) -> bool:
    """the proxy URL has no credentials"""
    return proxy_user(subject) is None


def auth_values(facts: Facts, subject: Subject) -> Mapping[str, str]:
    user = proxy_user(subject)
    if user is None:
        return {"auth": "wants credentials, and none were given",
                "auth_title": "The proxy requires authentication"}
    return {"auth": "rejected the credentials given in the proxy URL",
            "auth_title": "The proxy rejected the credentials given"}


CHECK_PROXY = Action("Check the proxy settings: `env | grep -i _proxy` and the `--proxy` URL")
WITHOUT_PROXY = Action("Probe without the proxy: `{again:--no-proxy}`")

FAILURES = (
    # proxy: only when a proxy is in use
    Rule(
        "proxy.refused", Scope.FAILURE, CRITICAL, Blame.LOCAL,
        title="The proxy refused the connection",
        meaning="Nothing listens at the configured proxy address: wrong host or port in "
                "`--proxy` / HTTPS_PROXY / ALL_PROXY, or the proxy is down.",
        hypothesis="The configured proxy is not running at that address: {message}",
        stage=PROXY, kinds=frozenset({ErrorKind.REFUSED, ErrorKind.UNREACHABLE,
                                      ErrorKind.RESET, ErrorKind.EOF}),
        evidence=proxy_lines,
        analysis="The proxy itself could not be reached, so nothing beyond it was tested.",
        actions=(CHECK_PROXY, WITHOUT_PROXY),
    ),
    Rule(
        "proxy.timeout", Scope.FAILURE, CRITICAL, Blame.NETWORK,
        title="The proxy did not answer within {timeout}",
        meaning="The proxy accepted nothing or answered nothing in time: it is unreachable "
                "or overloaded.",
        hypothesis="The proxy stayed silent for {timeout}: {message}",
        stage=PROXY, kinds=frozenset({ErrorKind.TIMEOUT}), evidence=proxy_lines,
        analysis="The proxy never answered, so nothing beyond it was tested.",
        actions=(CHECK_PROXY, WITHOUT_PROXY),
    ),
    Rule(
        "proxy.auth_required", Scope.FAILURE, CRITICAL, Blame.LOCAL,
        title="{auth_title}",
        meaning="The proxy answered 407 (HTTP) or refused the SOCKS5 credentials.",
        hypothesis="The proxy answered, and {auth}.",
        stage=PROXY, kinds=frozenset({ErrorKind.AUTH_REQUIRED}), evidence=proxy_lines,
        values=auth_values,
        analysis="The proxy answered, so it is reachable; it {auth}.",
        actions=(Action("Give credentials in the URL: "
                        "`{again:--proxy http://user:password@proxy.example:3128}`",
                        no_credentials, note="when the URL has none"),
                 Action("Check the user name and password with whoever runs the proxy (a "
                        "password with `@`, `:` or `/` must be percent-encoded in the URL)",
                        credentials_given, note="when the URL has credentials")),
    ),
    Rule(
        "proxy.rejected", Scope.FAILURE, CRITICAL, Blame.POLICY,
        title="The proxy refuses to tunnel to {hostport}",
        meaning="The proxy rejected the CONNECT / SOCKS request: its policy does not allow "
                "this host or port (many proxies allow CONNECT to port 443 only).",
        hypothesis="The proxy's policy forbids a tunnel to {hostport}; proxies commonly allow "
                   "port 443 only, and Binance's default stream port is 9443.",
        stage=PROXY, kinds=frozenset({ErrorKind.REJECTED}), evidence=proxy_lines,
        analysis="The proxy answered and refused: a policy decision, not a network fault.",
        actions=(TRY_443, TRY_DATA_STREAM,
                 Action("Ask the proxy's administrators to allow {hostport}")),
    ),
    # tcp
    Rule(
        "tcp.port_blocked", Scope.FAILURE, CRITICAL, Blame.NETWORK,
        title="Port {port} to {host} is blocked on this network",
        meaning="Connections to Binance's stream port 9443 are refused or dropped: a firewall "
                "that allows only common ports.",
        hypothesis="Binance accepts stream connections on port 9443 from anywhere it serves; a "
                   "{message} on that port is a firewall on this network that allows only "
                   "common ports such as 443.",
        stage=TCP, kinds=frozenset({ErrorKind.REFUSED, ErrorKind.TIMEOUT, ErrorKind.RESET}),
        when=on_spot_port, separated_by=(OTHER_PORT,), confirmed_by=(Proof(OTHER_PORT, "works"),),
        evidence=with_path(attempt_lines), values=tcp_values,
        analysis="The TCP connection to port {port} failed ({worked}): a port block is the "
                 "usual cause on Binance's stream port.",
        actions=(TRY_443, TRY_DATA_STREAM, USE_PROXY),
    ),
    Rule(
        "tcp.refused", Scope.FAILURE, CRITICAL, Blame.REMOTE,
        title="Connection refused by {address} port {port}",
        meaning="The address answered with a TCP reset: nothing listens on that port, or a "
                "firewall rejects actively.",
        hypothesis="{address} is reachable (it answered at once) but nothing accepts "
                   "connections on port {port}: a wrong port, a server that is down, or a "
                   "firewall that rejects.",
        stage=TCP, kinds=frozenset({ErrorKind.REFUSED}),
        evidence=with_path(attempt_lines), values=tcp_values,
        analysis="The connection was refused at once: the host is reachable (routing works) "
                 "and actively said no on port {port}.",
        actions=(Action("Check the endpoint URL and port: `{url}`"),
                 Action("On the server, check that something listens: `ss -ltnp | grep {port}`"),
                 TRY_443),
    ),
    Rule(
        "tcp.timeout", Scope.FAILURE, CRITICAL, Blame.NETWORK,
        title="TCP connect to {hostport} timed out: packets silently dropped",
        meaning="No answer to the SYN: a firewall drops the packets, or the route is broken.",
        hypothesis="Nothing answered the connection attempts for {timeout}: a firewall "
                   "silently drops them, or the route to {address} is broken.",
        stage=TCP, kinds=frozenset({ErrorKind.TIMEOUT}),
        evidence=with_path(attempt_lines), values=tcp_values,
        analysis="No SYN-ACK came back ({worked}): a silent drop, not a refusal.",
        actions=(Action("Trace the path: `mtr -T -P {port} {host}` or "
                        "`traceroute -T -p {port} {host}`"), TRY_443, TRY_DATA_STREAM, USE_PROXY),
    ),
    Rule(
        "tcp.family_unavailable", Scope.FAILURE, CRITICAL, Blame.LOCAL,
        title="{host} has no address of the family asked for",
        meaning="`-4` / `-6` excluded every address found (by DNS, `--resolve` or the hosts "
                "file): nothing was tried.",
        hypothesis="The probe was limited to one address family, and {host} has no address "
                   "of it here: {message}.",
        stage=TCP, kinds=frozenset({ErrorKind.UNREACHABLE}), when=no_attempt,
        evidence=with_path(message_line), values=tcp_values,
        analysis="No connection was attempted: the address family filter left nothing.",
        actions=(Action("Probe without `-4` / `-6`: `{again:!-4 !-6}`"),),
    ),
    Rule(
        "tcp.unreachable", Scope.FAILURE, CRITICAL, Blame.LOCAL,
        title="No route from this machine to {address}",
        meaning="The operating system has no route to the address (no IPv6 connectivity, a "
                "VPN or a down interface).",
        hypothesis="The connect failed locally before any packet left: this machine has no "
                   "route to {address} (often an IPv6 address without IPv6 connectivity).",
        stage=TCP, kinds=frozenset({ErrorKind.UNREACHABLE}),
        evidence=with_path(attempt_lines), values=tcp_values,
        analysis="The failure is local routing: the network beyond was never tried.",
        actions=(Action("Check routes: `ip route get {address}`"),
                 Action("Force IPv4: `{again:-4}`")),
    ),
    Rule(
        "tcp.reset", Scope.FAILURE, CRITICAL, Blame.NETWORK,
        title="TCP connection to {hostport} reset",
        meaning="The connection was reset while being established: a middlebox or an "
                "overloaded server.",
        hypothesis="Something reset the connection during its setup: {message}",
        stage=TCP, kinds=frozenset({ErrorKind.RESET}),
        evidence=with_path(attempt_lines), values=tcp_values,
        analysis="The path answered with a reset: reachable, but the connection is killed.",
        actions=(TRY_443, TRY_DATA_STREAM, USE_PROXY),
    ),
)

OBSERVATIONS = (
    Rule(
        "tcp.family_fallback", Scope.STAGE, WARNING, Blame.NETWORK,
        title="{failed_family} to {host} fails while {ok_family} works",
        meaning="Every address of one family failed, or was still silent when the other "
                "family had connected (`pending`): clients that try it first (Happy "
                "Eyeballs aside) wait for it on every connect.",
        hypothesis="Connections over {failed_family} fail on this network; clients that try "
                   "{failed_family} first lose time on every connect, or fail if they do not "
                   "fall back.",
        stage=TCP, when=family_fallback, evidence=attempt_lines, values=fallback_values,
        actions=(Action("Check {failed_family} connectivity: {check_family}"),
                 Action("Pin the working family in your program (e.g. `family=socket.AF_INET` "
                        "in `websockets.connect`)")),
    ),
    Rule(
        "tcp.address_failed", Scope.STAGE, WARNING, Blame.NETWORK,
        title="{failed_addresses} did not connect while {connected_to} did",
        meaning="One resolved address failed, or was still silent when another of its family "
                "had connected (`pending`: far slower, or dead): clients that try addresses "
                "in order wait on it whenever they pick it first.",
        hypothesis="{host} resolves to several addresses and {failed_addresses} did not "
                   "connect, while {connected_to} connected in {connect}. A client that tries "
                   "addresses one after the other (asyncio's default, so `websockets.connect`) "
                   "waits on a dead one up to its connect timeout before the next: slow or "
                   "failing connects, depending on the order DNS returns.",
        stage=TCP, when=address_failed, evidence=attempt_lines, values=address_values,
        actions=(Action("Probe that address alone: "
                        "`{again:--resolve {host}:{port}:{failed_address}}`"),
                 Action("Race the addresses in your program: `websockets.connect(url, "
                        "happy_eyeballs_delay=0.25)` (passed on to `loop.create_connection`)")),
    ),
)
