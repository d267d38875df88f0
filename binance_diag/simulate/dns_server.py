"""A real DNS server on a loopback UDP port, answering from a table or failing on purpose.

The probe's `dns` stage talks to it with `--resolver 127.0.0.1:PORT`, so every DNS failure
a user meets (NXDOMAIN from a filtering resolver, SERVFAIL, REFUSED, a resolver that never
answers) can be reproduced without touching the real DNS. Built on dnspython's message API.
"""

from __future__ import annotations

import asyncio
import ipaddress
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import cast

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from ..addresses import hostport
from .peer import LOOPBACK_V4, Peer

DEFAULT_TTL = 60
MAX_CNAME_CHAIN = 8


class DnsMode(StrEnum):
    ANSWER = "answer"
    NXDOMAIN = "nxdomain"
    SERVFAIL = "servfail"
    REFUSED = "refused"
    SILENT = "silent"
    """Never reply: the resolver times out (a firewall dropping port 53, a dead resolver)."""


_MODE_RCODES = {
    DnsMode.NXDOMAIN: dns.rcode.NXDOMAIN,
    DnsMode.SERVFAIL: dns.rcode.SERVFAIL,
    DnsMode.REFUSED: dns.rcode.REFUSED,
}


@dataclass(frozen=True)
class DnsQuestion:
    """One question the server received, for tests to assert on (e.g. A and AAAA both asked)."""

    name: str
    rdtype: str
    client: tuple[str, int]


def _name(text: str) -> dns.name.Name:
    return dns.name.from_text(text.rstrip(".") + ".")


class DnsServer(Peer):
    """Answers A and AAAA from `records` (name -> addresses), with an optional CNAME chain.

    In `answer` mode, a name absent from both tables is NXDOMAIN and a known name without an
    address of the asked family is an empty NOERROR answer (the probe's `no_answer`). `mode`
    may be changed while the server runs.
    """

    def __init__(
        self,
        records: Mapping[str, Sequence[str]],
        *,
        mode: DnsMode = DnsMode.ANSWER,
        ttl: int = DEFAULT_TTL,
        cnames: Mapping[str, str] | None = None,
        host: str = LOOPBACK_V4,
        port: int = 0,
        allow_external: bool = False,
    ) -> None:
        super().__init__(host, port, allow_external=allow_external)
        self.mode = mode
        self.ttl = ttl
        self._records = {
            _name(name): tuple(ipaddress.ip_address(a) for a in addresses)
            for name, addresses in records.items()
        }
        self._cnames = {_name(alias): _name(target) for alias, target in (cnames or {}).items()}
        self._transport: asyncio.DatagramTransport | None = None
        self._lock = threading.Lock()
        self._questions: list[DnsQuestion] = []

    @property
    def nameserver(self) -> str:
        """The `--resolver` value that reaches this server."""
        return hostport(self.host, self.port)

    @property
    def questions(self) -> tuple[DnsQuestion, ...]:
        with self._lock:
            return tuple(self._questions)

    @property
    def query_count(self) -> int:
        """Queries received, answered or not (so `silent` mode can be seen being asked)."""
        with self._lock:
            return len(self._questions)

    async def _start(self) -> None:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _DnsProtocol(self), local_addr=(self.host, self.port)
        )
        self._transport = transport
        self.port = transport.get_extra_info("sockname")[1]

    async def _stop(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None
            await asyncio.sleep(0)  # let the transport's close callbacks run

    def respond(self, wire: bytes, client: tuple[str, int]) -> bytes | None:
        """The reply to one query datagram, or None to stay silent."""
        try:
            query = dns.message.from_wire(wire)
        except Exception:  # dnspython raises many types for garbage; a server ignores it
            return None
        for question in query.question:
            with self._lock:
                self._questions.append(
                    DnsQuestion(
                        question.name.to_text(omit_final_dot=True).lower(),
                        dns.rdatatype.to_text(question.rdtype),
                        client,
                    )
                )
        mode = self.mode
        if mode is DnsMode.SILENT:
            return None
        response = dns.message.make_response(query)
        response.flags |= dns.flags.RA
        if mode in _MODE_RCODES:
            response.set_rcode(_MODE_RCODES[mode])
        elif query.question:
            self._answer(response, query.question[0].name, query.question[0].rdtype)
        wire_out: bytes = response.to_wire()
        return wire_out

    def _answer(
        self, response: dns.message.Message, qname: dns.name.Name, rdtype: dns.rdatatype.RdataType
    ) -> None:
        name = qname
        for _ in range(MAX_CNAME_CHAIN):
            target = self._cnames.get(name)
            if target is None or rdtype == dns.rdatatype.CNAME:
                break
            response.answer.append(
                dns.rrset.from_text(name, self.ttl, "IN", "CNAME", target.to_text())
            )
            name = target
        if name not in self._records:
            if name not in self._cnames:
                response.set_rcode(dns.rcode.NXDOMAIN)
            return
        version = {dns.rdatatype.A: 4, dns.rdatatype.AAAA: 6}.get(rdtype)
        addresses = [str(a) for a in self._records[name] if a.version == version]
        if addresses:
            rrset = dns.rrset.from_text_list(
                name, self.ttl, "IN", dns.rdatatype.to_text(rdtype), addresses
            )
            response.answer.append(rrset)


class _DnsProtocol(asyncio.DatagramProtocol):
    def __init__(self, server: DnsServer) -> None:
        self._server = server
        self._transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # cast, not isinstance: CPython 3.11's selector datagram transport does not
        # inherit from asyncio.DatagramTransport.
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        client = (str(addr[0]), int(addr[1]))
        reply = self._server.respond(data, client)
        if reply is not None and self._transport is not None:
            self._transport.sendto(reply, addr)
