"""The DNS server, asked by dnspython exactly as the probe's dns stage asks."""

from __future__ import annotations

import socket

import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.resolver
import pytest

from binance_diag.simulate.dns_server import DnsMode, DnsServer
from tests.utils import MS

HOST = "stream.binance.com"


def ask(server: DnsServer, name: str, rdtype: str = "A") -> dns.message.Message:
    query = dns.message.make_query(name, rdtype)
    return dns.query.udp(query, server.host, timeout=1000 * MS, port=server.port)


def resolver(server: DnsServer) -> dns.resolver.Resolver:
    result = dns.resolver.Resolver(configure=False)
    result.nameservers = [server.host]
    result.port = server.port
    result.lifetime = 1000 * MS
    return result


def test_a_and_aaaa_with_ttl() -> None:
    with DnsServer({HOST: ["127.0.0.1", "::1"]}, ttl=42) as server:
        a = resolver(server).resolve(HOST, "A")
        aaaa = resolver(server).resolve(HOST, "AAAA")
    assert [r.address for r in a] == ["127.0.0.1"]
    assert [r.address for r in aaaa] == ["::1"]
    assert a.rrset is not None and a.rrset.ttl == 42
    assert [(q.name, q.rdtype) for q in server.questions] == [(HOST, "A"), (HOST, "AAAA")]
    assert server.nameserver == f"127.0.0.1:{server.port}"
    assert server.errors == []


def test_names_are_case_insensitive_and_dot_agnostic() -> None:
    with DnsServer({HOST + ".": ["127.0.0.1"]}) as server:
        reply = ask(server, "STREAM.Binance.com")
    assert reply.rcode() == dns.rcode.NOERROR
    assert reply.answer[0][0].address == "127.0.0.1"


def test_cname_chain() -> None:
    cdn = "stream.binance.com.cdn.example"
    cnames = {HOST: cdn, cdn: "edge.example"}
    with DnsServer({"edge.example": ["127.0.0.1"]}, cnames=cnames) as server:
        answer = resolver(server).resolve(HOST, "A")
    assert answer.canonical_name.to_text() == "edge.example."
    chain = [rrset.name.to_text() for rrset in answer.response.answer]
    assert chain == [f"{HOST}.", "stream.binance.com.cdn.example.", "edge.example."]


def test_unknown_name_is_nxdomain_and_missing_family_is_an_empty_answer() -> None:
    with DnsServer({HOST: ["127.0.0.1"]}) as server:
        assert ask(server, "nope.binance.com").rcode() == dns.rcode.NXDOMAIN
        empty = ask(server, HOST, "AAAA")
        with pytest.raises(dns.resolver.NoAnswer):
            resolver(server).resolve(HOST, "AAAA")
    assert empty.rcode() == dns.rcode.NOERROR and empty.answer == []


@pytest.mark.parametrize(
    ("mode", "rcode"),
    [
        (DnsMode.NXDOMAIN, dns.rcode.NXDOMAIN),
        (DnsMode.SERVFAIL, dns.rcode.SERVFAIL),
        (DnsMode.REFUSED, dns.rcode.REFUSED),
    ],
)
def test_failure_modes_answer_with_their_rcode(mode: DnsMode, rcode: dns.rcode.Rcode) -> None:
    with DnsServer({HOST: ["127.0.0.1"]}, mode=mode) as server:
        assert ask(server, HOST).rcode() == rcode


def test_what_the_resolver_makes_of_servfail_and_refused() -> None:
    """dnspython folds both into NoNameservers; the rcode is in its errors (probe's concern)."""
    with DnsServer({HOST: ["127.0.0.1"]}, mode=DnsMode.SERVFAIL) as server:
        with pytest.raises(dns.resolver.NoNameservers, match="SERVFAIL"):
            resolver(server).resolve(HOST, "A")
        server.mode = DnsMode.NXDOMAIN
        with pytest.raises(dns.resolver.NXDOMAIN):
            resolver(server).resolve(HOST, "A")


@pytest.mark.timeout(10)
def test_silent_mode_never_answers_but_counts() -> None:
    with DnsServer({HOST: ["127.0.0.1"]}, mode=DnsMode.SILENT) as server:
        with pytest.raises(dns.exception.Timeout):
            dns.query.udp(dns.message.make_query(HOST, "A"), server.host, 200 * MS, server.port)
        assert server.query_count == 1
        server.mode = DnsMode.ANSWER
        assert ask(server, HOST).answer


def test_garbage_is_ignored() -> None:
    with DnsServer({HOST: ["127.0.0.1"]}) as server:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(b"\x00garbage", (server.host, server.port))
        assert ask(server, HOST).answer
    assert server.errors == []
