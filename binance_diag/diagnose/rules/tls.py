"""Rules for the `tls` stage: silence, resets, and certificates that say who is really there."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...model import Blame, ErrorKind, Severity, StageName, StageStatus
from ...probe.experiments.catalogue import (
    HELLO_VARIANTS,
    MARKET_DATA_HOST,
    OTHER_PORT,
    SMALL_MSS,
    SNI_VARIANTS,
    TUNNEL_VS_DIRECT,
)
from ..describe import code, codes, took
from ..facts import Facts, get, is_certifi
from ..rule import Action, Proof, Rule, Scope, Subject
from .common import (
    ATTACH,
    TRY_443,
    TRY_DATA_STREAM,
    USE_PROXY,
    bytes_received,
    detail,
    extra,
    no_bytes,
    some_bytes,
    with_path,
)

CRITICAL, WARNING = Severity.CRITICAL, Severity.WARNING
TLS = StageName.TLS
EXPIRY_WARNING_DAYS = 14

S_CLIENT = Action("Reproduce by hand: `openssl s_client -connect {connect_to} "
                  "{s_client_sni} {s_client_options}-alpn http/1.1 </dev/null`")
SNI_CHECK = Action("Check for SNI filtering: compare with another name on the same address, "
                   "`openssl s_client -connect {connect_to} -servername example.com "
                   "</dev/null`; a ServerHello there but not for {host} means SNI filtering")
CLOCK = Action("Check the local clock: `date -u`, `timedatectl status` (NTP synchronized?)")


def presented(subject: Subject) -> Mapping[str, Any]:
    cert = extra(subject, "presented") or detail(subject, "presented_certificate")
    return cert if isinstance(cert, Mapping) else {}


def _common_name(cert: Mapping[str, Any]) -> str:
    subject = str(cert.get("subject", "unknown"))
    for part in subject.split(","):
        key, _, value = part.partition("=")
        if key.strip().upper() == "CN" and value:
            return value
    return subject


def no_sni(facts: Facts, subject: Subject) -> bool:
    """no SNI was sent (an IP address) and no server byte came back"""
    return subject is not None and "sni" in subject.details and not subject.details["sni"] \
        and not bytes_received(subject)


def certifi_trust(facts: Facts, subject: Subject) -> bool:
    """the trust store was certifi's (no `--ca-bundle`)"""
    trust = detail(subject, "trust")
    return not trust or is_certifi(str(trust))


def own_trust(facts: Facts, subject: Subject) -> bool:
    """`--ca-bundle` was given"""
    return not certifi_trust(facts, subject)


TRUST_MISSES = Action(
    "The `--ca-bundle` given ({trust}) does not hold the CA that issued this certificate "
    "({issuer}): add that CA to the bundle, or check that the endpoint is the server you meant",
    own_trust, note="with `--ca-bundle`")


def tls_values(facts: Facts, subject: Subject) -> Mapping[str, str]:
    cert = presented(subject) or detail(subject, "certificate") or {}
    got = bytes_received(subject)
    return {
        "issuer": str(cert.get("issuer", "an unknown issuer")),
        "subject": str(cert.get("subject", "unknown")),
        "sans": ", ".join(str(s) for s in cert.get("sans") or ()) or "none",
        # What the certificate is for: its DNS names, else its subject's CN or whole DN.
        "names": ", ".join(str(s) for s in cert.get("sans") or ()) or _common_name(cert),
        "not_before": str(cert.get("not_before", "unknown")),
        "not_after": str(cert.get("not_after", "unknown")),
        "days_left": str(cert.get("days_left", "unknown")),
        "bytes": str(got) if got is not None else "an unknown number of",
        "verify": str(extra(subject, "verify_message") or "verification failed"),
        "reason": str(extra(subject, "reason") or "unknown"),
        "trust": str(detail(subject, "trust") or "certifi"),
    }


def hello_lines(facts: Facts, subject: Subject) -> list[str]:
    if subject is None:
        return []
    sni = detail(subject, "sni") if subject is not None and "sni" in subject.details \
        else facts.target.host
    lines = [f"ClientHello sent with SNI {code(sni)}" if sni else
             "ClientHello sent without SNI: the host is an IP address"]
    got = bytes_received(subject)
    if got is not None:
        lines.append(f"{got} bytes received from the server in {took(subject)}")
    if subject.error is not None and (got is None or subject.error.kind is not ErrorKind.TIMEOUT):
        lines.append(subject.error.message)
    return lines


def cert_lines(facts: Facts, subject: Subject) -> list[str]:
    lines = []
    if subject is not None and subject.error is not None:
        lines.append(f"verification: {code(extra(subject, 'verify_message') or '?')} "
                     f"(OpenSSL code {extra(subject, 'verify_code')})")
    cert = presented(subject)
    if cert:
        lines.append(f"presented certificate: subject {code(cert.get('subject'))}, "
                     f"issuer {code(cert.get('issuer'))}")
        lines.append(f"valid {code(cert.get('not_before'))} to {code(cert.get('not_after'))}; "
                     f"names {codes(cert.get('sans') or ['none'])}")
    else:
        lines.append("the presented certificate could not be fetched again for inspection")
    lines.append(f"this machine's clock said {code(facts.report.generated_at.isoformat())}")
    if detail(subject, "trust"):
        lines.append(f"trust store: {detail(subject, 'trust')}")
    return lines


def interception(facts: Facts, subject: Subject) -> bool:
    """a Binance host presented a certificate from another issuer"""
    return facts.binance and bool(presented(subject))


def not_tls(facts: Facts, subject: Subject) -> bool:
    """the answer was not TLS (e.g. `WRONG_VERSION_NUMBER`)"""
    reason = str(extra(subject, "reason") or "").upper()
    return any(s in reason for s in ("WRONG_VERSION_NUMBER", "HTTP_REQUEST", "RECORD_LAYER",
                                     "UNKNOWN_PROTOCOL", "PACKET_LENGTH_TOO_LONG"))


def expiring(facts: Facts, subject: Subject) -> bool:
    """the certificate expires within 14 days"""
    if subject is None or subject.status is not StageStatus.OK:
        return False
    days = get(subject.details, "certificate", "days_left")
    return isinstance(days, int | float) and days < EXPIRY_WARNING_DAYS


def expiring_values(facts: Facts, subject: Subject) -> Mapping[str, str]:
    cert = detail(subject, "certificate") or {}
    return {"days_left": str(cert.get("days_left")), "not_after": str(cert.get("not_after")),
            "subject": str(cert.get("subject")), "issuer": str(cert.get("issuer"))}


def expiring_lines(facts: Facts, subject: Subject) -> list[str]:
    v = expiring_values(facts, subject)
    return [f"certificate {code(v['subject'])} expires {code(v['not_after'])} "
            f"({v['days_left']} days left)"]


ON_HELLO = frozenset({ErrorKind.TIMEOUT, ErrorKind.RESET, ErrorKind.EOF})
NAME_BLOCKED = Proof(SNI_VARIANTS, "name_blocked")
ALL_NAMES_BLOCKED = Proof(SNI_VARIANTS, "all_blocked")
SMALL_PACKETS_PASS = Proof(SMALL_MSS, "answered")
SEPARATING = (SMALL_MSS, SNI_VARIANTS, TUNNEL_VS_DIRECT, OTHER_PORT, MARKET_DATA_HOST)
"""The experiments that tell a silent or refused ClientHello's causes apart."""


def hello_values(facts: Facts, subject: Subject) -> Mapping[str, str]:
    outcome = facts.outcome(HELLO_VARIANTS)
    what = {"rejects_alpn": "ALPN extension (http/1.1)",
            "rejects_tls13": "TLS 1.3 offer"}.get(str(outcome), "hello")
    return {**tls_values(facts, subject), "rejected": what}


CLAMP_MSS = Action("Clamp the MSS on the VPN / tunnel / router to the path MTU (Linux: "
                   "`iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS "
                   "--clamp-mss-to-pmtu`), or lower this machine's interface MTU (e.g. "
                   "`ip link set dev <vpn-interface> mtu 1380`)")

EXPERIMENT_FAILURES = (
    Rule(
        "tls.proxy_tunnel_dead", Scope.FAILURE, CRITICAL, Blame.NETWORK,
        title="The proxy accepts the CONNECT to {hostport} but its tunnel carries nothing",
        meaning="The proxy answered the CONNECT, then nothing came back through the tunnel, "
                "while the same target answers a direct connection: the proxy path is at "
                "fault, not Binance.",
        hypothesis="The proxy's tunnel is dead: it said yes to the CONNECT, but no byte of "
                   "the TLS handshake came back through it, while {host} answers directly. "
                   "The proxy cannot reach the target (an upstream firewall, a parent proxy, "
                   "an ACL applied after the CONNECT) or does not relay.",
        stage=TLS, kinds=ON_HELLO, values=tls_values, evidence=with_path(hello_lines),
        separated_by=(TUNNEL_VS_DIRECT,),
        confirmed_by=(Proof(TUNNEL_VS_DIRECT, "direct_answers"),), needs_confirmation=True,
        analysis="The proxy answered the CONNECT (its reply is the proxy's, not TLS bytes), "
                 "then the tunnel stayed silent; a direct connection to {host} was answered.",
        actions=(Action("Check the proxy's logs and its upstream access to {hostport}"),
                 Action("Connect directly where policy allows: `{again:--no-proxy}`"),
                 ATTACH),
    ),
    Rule(
        "tls.path_mtu_blackhole", Scope.FAILURE, CRITICAL, Blame.NETWORK,
        title="A path-MTU black hole drops the large TLS packets from {hostport}",
        meaning="The handshake completes when every packet is small (TCP MSS 536) and gets "
                "nothing with full-size packets: a link with a smaller MTU drops large "
                "packets and the ICMP that would say so.",
        hypothesis="Full-size packets from {host} are lost on the way (a VPN, tunnel or PPPoE "
                   "link with a smaller MTU, and the ICMP 'fragmentation needed' filtered); "
                   "the same handshake with small packets completes, so neither the name nor "
                   "the server is the problem.",
        stage=TLS, kinds=frozenset({ErrorKind.TIMEOUT}), values=tls_values,
        evidence=with_path(hello_lines), separated_by=(SMALL_MSS, SNI_VARIANTS),
        confirmed_by=(SMALL_PACKETS_PASS,), needs_confirmation=True,
        analysis="With full-size packets the handshake got {bytes} bytes; with a small MSS "
                 "it completed: packet size, not the name or the server, decides.",
        actions=(CLAMP_MSS,
                 Action("Find the path MTU: `ping -M do -s 1472 {host}` and lower the size "
                        "until it passes (add 28 for the MTU)"),
                 ATTACH),
    ),
    Rule(
        "tls.sni_filtered", Scope.FAILURE, CRITICAL, Blame.POLICY,
        title="TLS with the name {host} is blocked on this network (SNI filtering)",
        meaning="The same address answers a ClientHello with another name, or none, but not "
                "one naming the Binance host: a filter reads the SNI and blocks by name.",
        hypothesis="A firewall or DPI box on the path reads the server name in the "
                   "ClientHello and drops or resets the handshake when it is {host}; the "
                   "same address answers other names, so the server and the route are fine.",
        stage=TLS, kinds=ON_HELLO, values=tls_values, evidence=with_path(hello_lines),
        separated_by=(SNI_VARIANTS,), confirmed_by=(NAME_BLOCKED,), needs_confirmation=True,
        ruled_out_by=(SMALL_PACKETS_PASS,),
        analysis="Same address and port, another name: answered. The name {host} is what "
                 "is blocked.",
        actions=(TRY_DATA_STREAM, USE_PROXY,
                 Action("Ask the network's administrators whether {host} is blocked by "
                        "policy"), ATTACH),
    ),
    Rule(
        "tls.hello_rejected", Scope.FAILURE, CRITICAL, Blame.NETWORK,
        title="{hostport} rejects the ClientHello's {rejected}, not its name",
        meaning="The run's ClientHello is refused, but a variant without ALPN or limited to "
                "TLS 1.2 is accepted: the peer (or a middlebox) rejects that part of the "
                "hello.",
        hypothesis="The same name on the same address is accepted once the {rejected} is "
                   "left out: an old middlebox or TLS terminator refuses it.",
        stage=TLS, kinds=frozenset({ErrorKind.RESET, ErrorKind.EOF,
                                    ErrorKind.HANDSHAKE_FAILURE}),
        values=hello_values, evidence=with_path(hello_lines),
        separated_by=(HELLO_VARIANTS, SNI_VARIANTS),
        confirmed_by=(Proof(HELLO_VARIANTS, "rejects_alpn", "rejects_tls13"),),
        needs_confirmation=True,
        analysis="Only the ClientHello's {rejected} differs between the refused and the "
                 "accepted hello.",
        actions=(Action("Find the middlebox (TLS inspection, an old load balancer) and update "
                        "or bypass it"), USE_PROXY, ATTACH),
    ),
    Rule(
        "tls.blocked_whatever_name", Scope.FAILURE, CRITICAL, Blame.NETWORK,
        title="TLS to {hostport} fails whatever the name: not SNI filtering",
        meaning="The ClientHello goes unanswered (or is cut) with the Binance name, another "
                "name and none alike: the block is on the address or port, or the service "
                "behind it does not answer TLS.",
        hypothesis="Every ClientHello to this address fails the same way, whatever its name, "
                   "and small packets do not help: a firewall blocks TLS to the address or "
                   "port, or the server there is down or hung.",
        stage=TLS, kinds=ON_HELLO, values=tls_values, evidence=with_path(hello_lines),
        separated_by=(SNI_VARIANTS, SMALL_MSS, OTHER_PORT),
        confirmed_by=(ALL_NAMES_BLOCKED,), needs_confirmation=True,
        ruled_out_by=(SMALL_PACKETS_PASS,),
        analysis="TCP connected, then every ClientHello failed alike: the name is not what "
                 "is blocked.",
        actions=(TRY_443, TRY_DATA_STREAM, USE_PROXY, S_CLIENT),
    ),
    Rule(
        "tls.not_reproduced", Scope.FAILURE, CRITICAL, Blame.NETWORK,
        title="The TLS failure with {hostport} did not repeat: it is intermittent",
        meaning="The experiments' own handshake with the same name and address worked: the "
                "failure comes and goes (loss, an overloaded middlebox, a flapping route).",
        hypothesis="The handshake failed once and worked on the next try: an intermittent "
                   "fault on the path or at the server, not a steady block.",
        stage=TLS, kinds=ON_HELLO, values=tls_values, evidence=with_path(hello_lines),
        separated_by=(SNI_VARIANTS,),
        confirmed_by=(Proof(SNI_VARIANTS, "not_reproduced"),
                      Proof(TUNNEL_VS_DIRECT, "not_reproduced")),
        needs_confirmation=True,
        analysis="The same handshake worked on a second try.",
        actions=(Action("Probe repeatedly to measure how often it fails: "
                        "`{again}` in a loop, or `binance-diag watch`"), ATTACH),
    ),
)

FAILURES = (
    *EXPERIMENT_FAILURES,
    Rule(
        "tls.silent_without_sni", Scope.FAILURE, CRITICAL, Blame.NETWORK,
        title="{hostport} accepts TCP but never answers TLS",
        meaning="The host is an IP address, so no name (SNI) was sent: the silence or reset "
                "is not name-based filtering, but a block on the address or a port that does "
                "not speak TLS.",
        hypothesis="No name was in the ClientHello (the host is an IP address), so SNI "
                   "filtering is ruled out: a firewall drops TLS to this address, or the "
                   "service on port {port} does not speak TLS.",
        stage=TLS, kinds=frozenset({ErrorKind.TIMEOUT, ErrorKind.RESET}), when=no_sni,
        separated_by=(SMALL_MSS, OTHER_PORT),
        evidence=with_path(hello_lines), values=tls_values,
        analysis="TCP connected, then the ClientHello got nothing back; it carried no name, "
                 "so the block is not by name.",
        actions=(S_CLIENT, Action("Check the endpoint URL and port: `{url}`"), USE_PROXY),
    ),
    Rule(
        "tls.handshake_stalled", Scope.FAILURE, CRITICAL, Blame.NETWORK,
        title="The TLS handshake with {hostport} stalled after {bytes} bytes",
        meaning="The server started the handshake, then nothing more arrived: large packets "
                "(the certificate chain) are lost, typically an MTU / path-MTU black hole.",
        hypothesis="The first part of the server's answer arrived, then silence: the larger "
                   "packets carrying the certificate chain are dropped on the path (an MTU "
                   "black hole on a VPN, tunnel or PPPoE link).",
        stage=TLS, kinds=frozenset({ErrorKind.TIMEOUT}), when=some_bytes,
        separated_by=(SMALL_MSS,),
        evidence=with_path(hello_lines), values=tls_values,
        analysis="The TLS handshake began ({bytes} bytes came back), so the host and port are "
                 "right and TLS is not blocked outright; it stalled mid-way.",
        actions=(Action("Test the path MTU: `ping -M do -s 1472 {host}` (lower the size until "
                        "it passes)"),
                 Action("Lower the interface MTU or enable MSS clamping on the VPN/router"),
                 TRY_443),
    ),
    Rule(
        "tls.handshake_timeout", Scope.FAILURE, CRITICAL, Blame.NETWORK,
        title="The TLS handshake to {hostport} is being silently dropped on this network",
        meaning="TCP connected, the ClientHello was sent, and no byte ever came back: the "
                "signature of SNI-based filtering or a middlebox that swallows TLS to this host.",
        hypothesis="The ClientHello names {host} in clear text (SNI); a firewall or DPI box "
                   "that blocks by name lets TCP through and drops the handshake, so the "
                   "client waits until its timeout.",
        stage=TLS, kinds=frozenset({ErrorKind.TIMEOUT}),
        separated_by=SEPARATING,
        ruled_out_by=(ALL_NAMES_BLOCKED, SMALL_PACKETS_PASS),
        evidence=with_path(hello_lines), values=tls_values,
        analysis="The TLS handshake never progressed: no certificate arrived, so it is not a "
                 "certificate problem, and no reset or alert came, so it is not a refusal. "
                 "Silence after a ClientHello that names {host} is the signature of SNI-based "
                 "filtering or a middlebox that swallows TLS to this host.",
        actions=(TRY_443, TRY_DATA_STREAM, SNI_CHECK, USE_PROXY, S_CLIENT),
    ),
    Rule(
        "tls.reset_after_hello", Scope.FAILURE, CRITICAL, Blame.NETWORK,
        title="The connection to {hostport} is reset as soon as the ClientHello names {host}",
        meaning="A TCP reset right after the ClientHello, before any server byte: DPI / SNI "
                "filtering that injects resets.",
        hypothesis="A reset arriving right after a ClientHello that names {host}, before any "
                   "server byte, is injected by a filter that reads the SNI.",
        stage=TLS, kinds=frozenset({ErrorKind.RESET}), when=no_bytes,
        separated_by=(SNI_VARIANTS, HELLO_VARIANTS),
        ruled_out_by=(ALL_NAMES_BLOCKED,),
        evidence=with_path(hello_lines), values=tls_values,
        analysis="TCP connected, then the connection was reset on the ClientHello: not a "
                 "certificate problem (none arrived); an active filter.",
        actions=(TRY_443, TRY_DATA_STREAM, SNI_CHECK, USE_PROXY),
    ),
    Rule(
        "tls.reset", Scope.FAILURE, CRITICAL, Blame.NETWORK,
        title="The TLS handshake with {hostport} was reset midway",
        meaning="The connection was reset after the server began answering.",
        hypothesis="The handshake started and was then reset: a middlebox or the server "
                   "aborted it ({message}).",
        stage=TLS, kinds=frozenset({ErrorKind.RESET}),
        separated_by=(SNI_VARIANTS, HELLO_VARIANTS),
        evidence=with_path(hello_lines), values=tls_values,
        analysis="The server began the handshake ({bytes} bytes) before the reset.",
        actions=(S_CLIENT, TRY_443, USE_PROXY),
    ),
    Rule(
        "tls.closed_after_hello", Scope.FAILURE, CRITICAL, Blame.NETWORK,
        title="{hostport} closes the connection on the ClientHello",
        meaning="The peer closed the connection right after the ClientHello, without a byte: "
                "a filter, or a server that does not speak TLS on this port.",
        hypothesis="The connection is closed right after a ClientHello naming {host}: a "
                   "filter that reads the SNI, or a port that does not speak TLS.",
        stage=TLS, kinds=frozenset({ErrorKind.EOF}), when=no_bytes,
        separated_by=(SNI_VARIANTS, HELLO_VARIANTS),
        ruled_out_by=(ALL_NAMES_BLOCKED,),
        evidence=with_path(hello_lines), values=tls_values,
        analysis="TCP connected, then the peer hung up on the ClientHello: no certificate "
                 "was involved.",
        actions=(S_CLIENT, SNI_CHECK, TRY_443, TRY_DATA_STREAM),
    ),
    Rule(
        "tls.closed", Scope.FAILURE, CRITICAL, Blame.REMOTE,
        title="{hostport} closed the connection during the TLS handshake",
        meaning="The peer closed the connection midway through the handshake.",
        hypothesis="The server or a middlebox gave up on the handshake: {message}",
        stage=TLS, kinds=frozenset({ErrorKind.EOF}),
        separated_by=(SNI_VARIANTS, HELLO_VARIANTS),
        evidence=with_path(hello_lines), values=tls_values,
        analysis="The handshake began ({bytes} bytes received) and was then closed.",
        actions=(S_CLIENT, TRY_443),
    ),
    Rule(
        "tls.interception", Scope.FAILURE, CRITICAL, Blame.NETWORK,
        title="TLS to {host} is intercepted: the certificate was issued by {issuer}",
        meaning="The certificate presented for a Binance host is not trusted and names "
                "another issuer: a TLS-inspecting proxy, firewall or antivirus sits in between.",
        hypothesis="Binance's certificates chain to a public CA; this one was issued by "
                   "{issuer}, which the trust store does not know. Something on this machine "
                   "or network decrypts TLS: a corporate proxy, a firewall's SSL inspection, "
                   "or an antivirus's HTTPS scanning.",
        stage=TLS, kinds=frozenset({ErrorKind.CERT_UNTRUSTED}), when=interception,
        evidence=with_path(cert_lines), values=tls_values,
        analysis="TLS answered with a certificate, so the path is open; but it is not "
                 "Binance's: issued by {issuer}.",
        actions=(Action("If the interception is your organisation's policy, trust its CA: "
                        "`{again:--ca-bundle /path/to/corporate-ca.pem}` (in Python, set "
                        "`SSL_CERT_FILE`)", certifi_trust, note="without `--ca-bundle`"),
                 TRUST_MISSES,
                 Action("If it is not your organisation's policy, disable HTTPS scanning in "
                        "the antivirus, or leave this network: interception of an exchange "
                        "connection is a risk"),
                 ATTACH),
    ),
    Rule(
        "tls.cert_untrusted", Scope.FAILURE, CRITICAL, Blame.REMOTE,
        title="The certificate of {host} is not trusted ({verify})",
        meaning="The server's certificate does not chain to a trusted CA: self-signed, an "
                "incomplete chain, or a private CA.",
        hypothesis="The server presents a certificate issued by {issuer}, which the trust "
                   "store does not accept: {verify}.",
        stage=TLS, kinds=frozenset({ErrorKind.CERT_UNTRUSTED}),
        evidence=with_path(cert_lines), values=tls_values,
        analysis="TLS answered with a certificate, so the path is open; the chain is the "
                 "problem.",
        actions=(Action("If the server uses a private CA: `{again:--ca-bundle ca.pem}`",
                        certifi_trust, note="without `--ca-bundle`"),
                 TRUST_MISSES, S_CLIENT),
    ),
    Rule(
        "tls.cert_expired", Scope.FAILURE, CRITICAL, Blame.LOCAL,
        title="The certificate of {host} looks expired: check this machine's clock",
        meaning="The certificate is past its validity by this machine's clock: the clock is "
                "ahead, or something presents a stale certificate.",
        hypothesis="The certificate (valid until {not_after}) is expired according to this "
                   "machine's clock. Binance renews its certificates well ahead, so a clock "
                   "set in the future is the likely cause; otherwise a middlebox presents a "
                   "stale certificate.",
        stage=TLS, kinds=frozenset({ErrorKind.CERT_EXPIRED}),
        evidence=with_path(cert_lines), values=tls_values,
        analysis="The certificate arrived (the path is open) and was judged by the local clock.",
        actions=(CLOCK, Action("Resync the clock: `sudo chronyc makestep` or "
                               "`sudo timedatectl set-ntp true`"), S_CLIENT),
    ),
    Rule(
        "tls.cert_not_yet_valid", Scope.FAILURE, CRITICAL, Blame.LOCAL,
        title="The certificate of {host} is not valid yet: this machine's clock is behind",
        meaning="The certificate's validity starts after this machine's current time: the "
                "local clock is behind.",
        hypothesis="The certificate is valid from {not_before}, later than this machine's "
                   "clock: the clock is behind (a dead RTC battery, a VM restored from a "
                   "snapshot, no NTP).",
        stage=TLS, kinds=frozenset({ErrorKind.CERT_NOT_YET_VALID}),
        evidence=with_path(cert_lines), values=tls_values,
        analysis="The certificate arrived (the path is open) and was judged by the local clock.",
        actions=(CLOCK, Action("Resync the clock: `sudo chronyc makestep` or "
                               "`sudo timedatectl set-ntp true`")),
    ),
    Rule(
        "tls.hostname_mismatch", Scope.FAILURE, CRITICAL, Blame.NETWORK,
        title="{hostport} presented a certificate for another name ({names})",
        meaning="The certificate does not cover the host name: a captive portal, a "
                "redirecting proxy, or the wrong endpoint.",
        hypothesis="The certificate names {sans}, not {host}: the connection reached "
                   "something else (a captive portal or hotel Wi-Fi login, a proxy, or a DNS "
                   "answer pointing elsewhere).",
        stage=TLS, kinds=frozenset({ErrorKind.HOSTNAME_MISMATCH}),
        evidence=with_path(cert_lines), values=tls_values,
        analysis="A server answered TLS, but not as {host}.",
        actions=(Action("Open any http:// page in a browser to reveal a captive portal login"),
                 Action("Check the endpoint URL `{url}` and the DNS answer"), S_CLIENT),
    ),
    Rule(
        "tls.not_tls", Scope.FAILURE, CRITICAL, Blame.LOCAL,
        title="{hostport} does not speak TLS",
        meaning="The server answered the ClientHello with something that is not TLS (often "
                "plain HTTP): a wss:// URL on a ws:// port, or a proxy answering in clear.",
        hypothesis="The answer to the ClientHello was not a TLS record ({reason}): the port "
                   "speaks plain text. Use ws:// for it, or the right port.",
        stage=TLS, kinds=frozenset({ErrorKind.HANDSHAKE_FAILURE}), when=not_tls,
        evidence=with_path(hello_lines), values=tls_values,
        analysis="The server answered at once, in a protocol other than TLS.",
        actions=(Action("Check the scheme and port of `{url}`"), S_CLIENT),
    ),
    Rule(
        "tls.handshake_failure", Scope.FAILURE, CRITICAL, Blame.REMOTE,
        title="The TLS handshake with {hostport} failed: {reason}",
        meaning="The server (or a middlebox) rejected the handshake with an alert: no common "
                "protocol version or cipher, or a policy.",
        hypothesis="TLS was refused with an alert ({reason}): an old OpenSSL, a version or "
                   "cipher the server does not accept, or a middlebox that rejects it.",
        stage=TLS, kinds=frozenset({ErrorKind.HANDSHAKE_FAILURE}),
        separated_by=(HELLO_VARIANTS,),
        evidence=with_path(hello_lines), values=tls_values,
        analysis="The server answered, so the path is open; the handshake itself failed.",
        actions=(S_CLIENT, Action("Check the OpenSSL version in Environment below "
                                  "(TLS 1.2+ is required)")),
    ),
)

OBSERVATIONS = (
    Rule(
        "tls.cert_expiring_soon", Scope.STAGE, WARNING, Blame.REMOTE,
        title="The certificate of {host} expires in {days_left} days",
        meaning=f"The server's certificate expires within {EXPIRY_WARNING_DAYS} days.",
        hypothesis="The certificate {subject} expires on {not_after}; clients will fail "
                   "then unless it is renewed (or the local clock is ahead).",
        stage=TLS, when=expiring, evidence=expiring_lines, values=expiring_values,
        actions=(CLOCK, Action("For your own server, renew the certificate")),
    ),
)
