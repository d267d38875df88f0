"""A deliberately small, synchronous stage-by-stage client, to check the fault catalogue.

Not the probe: it exists so the simulators' expected outcomes are verified by real clients
(dnspython, the ssl module, websockets' Sans-I/O ClientProtocol) independently of it.
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import time
from collections.abc import Sequence
from urllib.parse import urlsplit

import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
from websockets.client import ClientProtocol
from websockets.exceptions import InvalidStatus
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.protocol import State
from websockets.uri import parse_uri

from binance_diag.model import ErrorKind, StageName
from binance_diag.probe.sansio.payload import MAX_PARSED
from binance_diag.simulate.scenario import Scenario

Outcome = tuple[StageName, ErrorKind] | None

_RCODES = {
    dns.rcode.NXDOMAIN: ErrorKind.NXDOMAIN,
    dns.rcode.SERVFAIL: ErrorKind.SERVFAIL,
    dns.rcode.REFUSED: ErrorKind.REFUSED,
}
# OpenSSL X509_V_ERR_* codes (x509_vfy.h).
_VERIFY_CODES = {
    9: ErrorKind.CERT_NOT_YET_VALID,
    10: ErrorKind.CERT_EXPIRED,
    62: ErrorKind.HOSTNAME_MISMATCH,
}


class _Failed(Exception):
    def __init__(self, stage: StageName, kind: ErrorKind) -> None:
        self.outcome = (stage, kind)


def observe(
    scenario: Scenario,
    symbols: Sequence[str] = ("BTCUSDT",),
    *,
    stage_timeout: float,
    message_timeout: float,
) -> Outcome:
    """What a correct probe would conclude, stage by stage, with these per-stage budgets."""
    try:
        address = _resolve(scenario, stage_timeout)
        with contextlib.ExitStack() as stack:
            if scenario.proxy_url is not None:
                sock = stack.enter_context(_tunnel(scenario, stage_timeout))
            else:
                sock = stack.enter_context(_connect(address, scenario.port, stage_timeout))
            if scenario.tls:
                sock = stack.enter_context(_handshake(sock, scenario, stage_timeout))
            protocol, frames = _upgrade(sock, scenario, symbols, stage_timeout)
            _first_message(sock, protocol, frames, symbols, message_timeout)
    except _Failed as failed:
        return failed.outcome
    return None


def _resolve(scenario: Scenario, timeout: float) -> str:
    if scenario.dns_port is None:
        return scenario.host
    query = dns.message.make_query(scenario.hostname, "A")
    try:
        reply = dns.query.udp(query, scenario.host, timeout=timeout, port=scenario.dns_port)
    except dns.exception.Timeout:
        raise _Failed(StageName.DNS, ErrorKind.TIMEOUT) from None
    if reply.rcode() in _RCODES:
        raise _Failed(StageName.DNS, _RCODES[reply.rcode()])
    for rrset in reply.answer:
        if rrset.rdtype == dns.rdatatype.A:
            return str(rrset[0].address)
    raise _Failed(StageName.DNS, ErrorKind.NO_ANSWER)


def _connect(address: str, port: int, timeout: float) -> socket.socket:
    try:
        return socket.create_connection((address, port), timeout=timeout)
    except ConnectionRefusedError:
        raise _Failed(StageName.TCP, ErrorKind.REFUSED) from None
    except TimeoutError:
        raise _Failed(StageName.TCP, ErrorKind.TIMEOUT) from None


def _tunnel(scenario: Scenario, timeout: float) -> socket.socket:
    """HTTP CONNECT through the scenario's proxy (RFC 9110 §9.3.6), as curl would."""
    proxy = urlsplit(scenario.proxy_url or "")
    sock = _connect(proxy.hostname or "", proxy.port or 8080, timeout)
    authority = f"{scenario.hostname}:{scenario.port}"
    sock.sendall(f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n".encode())
    reply = b""
    try:
        while b"\r\n\r\n" not in reply:
            chunk = sock.recv(4096)
            if not chunk:
                raise _Failed(StageName.PROXY, ErrorKind.EOF)
            reply += chunk
    except TimeoutError:
        raise _Failed(StageName.PROXY, ErrorKind.TIMEOUT) from None
    if not reply.startswith((b"HTTP/1.1 200", b"HTTP/1.0 200")):
        raise _Failed(StageName.PROXY, ErrorKind.REJECTED)
    return sock


def _handshake(sock: socket.socket, scenario: Scenario, timeout: float) -> ssl.SSLSocket:
    context = ssl.create_default_context(cafile=str(scenario.ca_bundle))
    context.set_alpn_protocols(["http/1.1"])
    sock.settimeout(timeout)
    try:
        return context.wrap_socket(sock, server_hostname=scenario.hostname)
    except ssl.SSLCertVerificationError as exc:
        kind = _VERIFY_CODES.get(exc.verify_code, ErrorKind.CERT_UNTRUSTED)
        raise _Failed(StageName.TLS, kind) from None
    except TimeoutError:
        raise _Failed(StageName.TLS, ErrorKind.TIMEOUT) from None
    except ConnectionResetError:
        raise _Failed(StageName.TLS, ErrorKind.RESET) from None
    except (ssl.SSLEOFError, ssl.SSLZeroReturnError):
        raise _Failed(StageName.TLS, ErrorKind.EOF) from None


def _path(scenario: Scenario, symbols: Sequence[str]) -> str:
    streams = [f"{s.lower()}@aggTrade" for s in symbols]
    if len(streams) == 1:
        return f"{scenario.path_prefix}/ws/{streams[0]}"
    return f"{scenario.path_prefix}/stream?streams={'/'.join(streams)}"


def _receive(sock: socket.socket, protocol: ClientProtocol, deadline: float) -> bool:
    """Feed one read to the protocol; False on timeout."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return False
    sock.settimeout(remaining)
    try:
        data = sock.recv(65536)
    except TimeoutError:
        return False
    if data:
        protocol.receive_data(data)
    else:
        protocol.receive_eof()
    for chunk in protocol.data_to_send():  # pongs and close replies
        if chunk:
            sock.sendall(chunk)
    return True


def _upgrade(
    sock: socket.socket, scenario: Scenario, symbols: Sequence[str], timeout: float
) -> tuple[ClientProtocol, list[Frame]]:
    protocol = ClientProtocol(parse_uri(scenario.url_base + _path(scenario, symbols)))
    protocol.send_request(protocol.connect())
    for chunk in protocol.data_to_send():
        sock.sendall(chunk)
    deadline = time.monotonic() + timeout
    while True:
        if not _receive(sock, protocol, deadline):
            raise _Failed(StageName.WS_UPGRADE, ErrorKind.TIMEOUT)
        events = protocol.events_received()
        if events:
            response, *frames = events
            assert isinstance(response, Response)
            break
        if protocol.handshake_exc is not None:
            break
    exc = protocol.handshake_exc
    if isinstance(exc, InvalidStatus):
        if exc.response.status_code < 300:
            raise _Failed(StageName.WS_UPGRADE, ErrorKind.NOT_WEBSOCKET)
        raise _Failed(StageName.WS_UPGRADE, ErrorKind.HTTP_STATUS)
    if exc is not None:
        raise _Failed(StageName.WS_UPGRADE, ErrorKind.INVALID_HANDSHAKE)
    return protocol, [f for f in frames if isinstance(f, Frame)]


def _first_message(
    sock: socket.socket,
    protocol: ClientProtocol,
    frames: list[Frame],
    symbols: Sequence[str],
    timeout: float,
) -> None:
    deadline = time.monotonic() + timeout
    fragments: list[bytes] = []
    while True:
        for frame in frames:
            if frame.opcode is Opcode.CLOSE:
                raise _Failed(StageName.FIRST_MESSAGE, ErrorKind.CLOSED)
            if frame.opcode in (Opcode.TEXT, Opcode.CONT):  # RFC 6455 §5.4: reassemble
                fragments.append(bytes(frame.data))
                if frame.fin and _is_expected_event(b"".join(fragments), symbols):
                    return
                fragments = [] if frame.fin else fragments
        if protocol.parser_exc is not None and not isinstance(protocol.parser_exc, EOFError):
            raise _Failed(StageName.FIRST_MESSAGE, ErrorKind.PROTOCOL_ERROR)
        if protocol.state is State.CLOSED:
            raise _Failed(StageName.FIRST_MESSAGE, ErrorKind.CLOSED)
        if not _receive(sock, protocol, deadline):
            raise _Failed(StageName.FIRST_MESSAGE, ErrorKind.TIMEOUT)
        frames = [f for f in protocol.events_received() if isinstance(f, Frame)]


def _is_expected_event(data: bytes | bytearray | memoryview, symbols: Sequence[str]) -> bool:
    """True for the awaited aggTrade; False for a reply or a notice (read on); else fail."""
    if len(data) > MAX_PARSED:  # as the probe: no market event or reply is this big
        raise _Failed(StageName.FIRST_MESSAGE, ErrorKind.INVALID_PAYLOAD)
    try:
        message = json.loads(bytes(data))
    except (ValueError, RecursionError):
        raise _Failed(StageName.FIRST_MESSAGE, ErrorKind.INVALID_PAYLOAD) from None
    if "id" in message and "result" in message:
        return False
    if message.get("e") == "serverShutdown":
        return False  # a notice: the close that follows is the failure
    event = message.get("data", message)
    if event.get("e") != "aggTrade" or event.get("s") not in symbols:
        raise _Failed(StageName.FIRST_MESSAGE, ErrorKind.WRONG_STREAM)
    return True
