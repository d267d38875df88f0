"""The `tls` stage: handshake with SNI and ALPN http/1.1, trusting certifi or `--ca-bundle`.

Every verification failure gets its own error kind. On one, the presented certificate is
fetched again without verification, as evidence: who issued it says whether a proxy or an
antivirus is intercepting TLS.
"""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
from datetime import UTC, datetime
from pathlib import Path

import certifi
from cryptography import x509

from ..addresses import is_ip_literal
from ..config.probe import ProbeConfig
from ..model import JSON, ErrorKind
from ..timing import Deadline, format_seconds
from .base import ProbeState, StageOutcome, Tracer, failed, passed
from .connection import Connection

# OpenSSL X509_V_ERR_* codes (include/openssl/x509_vfy.h) that have their own error kind;
# every other verification failure means "not signed by a CA we trust".
_VERIFY_KINDS = {
    9: ErrorKind.CERT_NOT_YET_VALID,
    10: ErrorKind.CERT_EXPIRED,
    62: ErrorKind.HOSTNAME_MISMATCH,
    64: ErrorKind.HOSTNAME_MISMATCH,  # IP address mismatch
}


_CONTEXTS: dict[tuple[str, int, int], ssl.SSLContext] = {}
"""Trust stores already loaded, by file and version: loading certifi's ~150 certificates
costs 20-40 ms of CPU, which `watch` and `serve` would otherwise pay on every probe (and on
the event loop the held stream shares). Contexts are never changed after they are made."""


def make_context(ca_bundle: Path | None) -> ssl.SSLContext:
    path = str(ca_bundle) if ca_bundle else certifi.where()
    try:
        info = os.stat(path)
    except OSError:
        key = None  # create_default_context below reports what is wrong
    else:
        key = (path, info.st_mtime_ns, info.st_size)
        if key in _CONTEXTS:
            return _CONTEXTS[key]
    context = ssl.create_default_context(cafile=path)
    context.set_alpn_protocols(["http/1.1"])
    if key is not None:
        _CONTEXTS[key] = context
    return context


async def handshake_tls(
    config: ProbeConfig, state: ProbeState, tracer: Tracer, deadline: Deadline
) -> StageOutcome:
    connection = state.connection
    assert connection is not None
    host = config.target.host
    trust = str(config.ca_bundle) if config.ca_bundle else f"certifi {certifi.__version__}"
    # An IP address is never sent as SNI (RFC 6066; Python's ssl leaves it out).
    sni = None if is_ip_literal(host) else host
    common: dict[str, JSON] = {"sni": sni, "alpn_offered": ["http/1.1"], "trust": trust}
    tracer.event(f"TLS ClientHello sent (SNI {sni})" if sni else
                 "TLS ClientHello sent (no SNI: the host is an IP address)")
    # Only the TLS peer's bytes count: a proxy's CONNECT reply came before (and is not
    # "the handshake stalled after 39 bytes").
    baseline = connection.bytes_in
    try:
        context = state.tls_context or make_context(config.ca_bundle)
        tls = await connection.handshake(context, host, deadline)
    except TimeoutError:
        got = connection.bytes_in - baseline
        if got == 0:
            message = f"ClientHello sent; no ServerHello in {format_seconds(deadline.budget)}"
        else:
            message = f"handshake stalled: {got} bytes received, then silence"
        tracer.event("TLS timeout fired")
        return failed(ErrorKind.TIMEOUT, message, {"bytes_received": got},
                      **common, bytes_received=got)
    except ssl.SSLCertVerificationError as exc:
        kind = _VERIFY_KINDS.get(exc.verify_code, ErrorKind.CERT_UNTRUSTED)
        tracer.event(f"TLS certificate rejected: {exc.verify_message}")
        presented = await fetch_presented_certificate(connection.peer, host, deadline)
        extra: dict[str, JSON] = {
            "verify_code": exc.verify_code,
            "verify_message": exc.verify_message,
        }
        if presented is not None:
            extra["presented"] = presented
        message = f"certificate verification failed: {exc.verify_message}"
        if presented is not None:
            message += f" (issued by {presented['issuer']})"
        return failed(kind, message, extra, **common, presented_certificate=presented)
    except (ConnectionResetError, BrokenPipeError):
        tracer.event("TLS connection reset by peer")
        got = connection.bytes_in - baseline
        return failed(ErrorKind.RESET, _after_hello("connection reset by peer", got),
                      {"bytes_received": got}, **common)
    except (ConnectionAbortedError, ssl.SSLEOFError, ssl.SSLZeroReturnError):
        tracer.event("TLS connection closed by peer")
        got = connection.bytes_in - baseline
        return failed(ErrorKind.EOF, _after_hello("connection closed by peer", got),
                      {"bytes_received": got}, **common)
    except ssl.SSLError as exc:
        reason = exc.reason or str(exc)
        tracer.event(f"TLS handshake failed: {reason}")
        return failed(ErrorKind.HANDSHAKE_FAILURE, f"TLS handshake failed: {reason}",
                      {"reason": reason, "library": exc.library}, **common)
    details: dict[str, JSON] = {
        **common,
        "version": tls.version(),
        "cipher": (tls.cipher() or ("",))[0],
        "alpn": tls.selected_alpn_protocol(),
    }
    der = tls.getpeercert(binary_form=True)
    if der:
        details["certificate"] = describe_certificate(der)
    tracer.event(f"TLS established: {details['version']} {details['cipher']}")
    return passed(**details)


def _after_hello(what: str, got: int) -> str:
    """`got`: the TLS peer's bytes, not the proxy's."""
    if got == 0:
        return f"{what} right after the ClientHello (no ServerHello)"
    return f"{what} during the handshake after {got} bytes"


def describe_certificate(der: bytes, now: datetime | None = None) -> dict[str, JSON]:
    """The fields a person checks first: who, issued by whom, for which names, until when."""
    cert = x509.load_der_x509_certificate(der)
    now = now or datetime.now(UTC)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        sans = [str(v) for v in san.get_values_for_type(x509.DNSName)]
        sans += [str(v) for v in san.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        sans = []
    not_after = cert.not_valid_after_utc
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "sans": sans,
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": not_after.isoformat(),
        "days_left": round((not_after - now).total_seconds() / 86400, 1),
        "serial": format(cert.serial_number, "x"),
    }


async def fetch_presented_certificate(
    peer: tuple[str, int], server_hostname: str, deadline: Deadline
) -> dict[str, JSON] | None:
    """Connect again and accept any certificate, only to read what the server presents."""
    if deadline.remaining() <= 0:
        return None
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    family = socket.AF_INET6 if ":" in peer[0] else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setblocking(False)
    connection = Connection(sock, peer)
    try:
        async with asyncio.timeout(deadline.remaining()):
            await asyncio.get_running_loop().sock_connect(sock, peer)
        tls = await connection.handshake(context, server_hostname, deadline)
        der = tls.getpeercert(binary_form=True)
        return describe_certificate(der) if der else None
    except (OSError, TimeoutError, ssl.SSLError, ValueError):
        return None
    finally:
        connection.close()
