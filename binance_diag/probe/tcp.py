"""The `tcp` stage: our own socket to each resolved address until one connects.

The stage's budget is shared among the addresses not yet tried, so one silent address cannot
eat the time of the next one, and the stage as a whole never outlives its deadline.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import os
import socket
import time

from ..config import ProbeConfig
from ..model import JSON, ErrorKind
from ..timing import Deadline
from .base import ProbeState, StageOutcome, Tracer, failed, passed
from .connection import Connection

_ERRNO_KINDS = {
    errno.ECONNREFUSED: ErrorKind.REFUSED,
    errno.ECONNRESET: ErrorKind.RESET,
    errno.ENETUNREACH: ErrorKind.UNREACHABLE,
    errno.EHOSTUNREACH: ErrorKind.UNREACHABLE,
    errno.EADDRNOTAVAIL: ErrorKind.UNREACHABLE,
    errno.EAFNOSUPPORT: ErrorKind.UNREACHABLE,
    errno.ETIMEDOUT: ErrorKind.TIMEOUT,
}
# When every address failed, report the most telling failure.
_PRECEDENCE = (ErrorKind.REFUSED, ErrorKind.RESET, ErrorKind.UNREACHABLE, ErrorKind.TIMEOUT,
               ErrorKind.INTERNAL)


async def connect_tcp(
    config: ProbeConfig, state: ProbeState, tracer: Tracer, deadline: Deadline
) -> StageOutcome:
    """Connect to every address at once, each with the whole stage budget.

    Clients usually try addresses in order and wait on each, so one dead address family
    (half-working IPv6, say) makes their connect hang while another would work at once. The
    probe measures every address and then continues on the first that answered.
    """
    port = config.target.port
    addresses = [a for a in state.addresses
                 if not config.families or ipaddress.ip_address(a).version in config.families]
    if not addresses:
        wanted = " or ".join(f"IPv{v}" for v in config.families)
        return failed(ErrorKind.UNREACHABLE, f"no {wanted} address among "
                      f"{', '.join(state.addresses)}", addresses=state.addresses)
    for address in addresses:
        tracer.event(f"TCP connect to {hostport(address, port)}")
    results = await asyncio.gather(*(_timed(a, port, deadline) for a in addresses))
    attempts: list[dict[str, JSON]] = []
    chosen: tuple[float, str, socket.socket] | None = None
    for address, (sock, kind, message, took) in zip(addresses, results, strict=True):
        attempt: dict[str, JSON] = {
            "family": f"IPv{ipaddress.ip_address(address).version}",
            "address": address,
            "port": port,
            "result": kind.value if kind else "ok",
            "time_ms": took,
        }
        if sock is None:
            attempt["message"] = message
            tracer.event(f"TCP to {hostport(address, port)} failed: {attempt['result']}")
        elif chosen is None or took < chosen[0]:
            if chosen is not None:
                chosen[2].close()
            chosen = (took, address, sock)
        else:
            sock.close()
        attempts.append(attempt)
    if chosen is not None:
        took, address, sock = chosen
        state.connection = Connection(sock, (address, port))
        local = sock.getsockname()
        tracer.event(f"TCP connected to {hostport(address, port)}")
        return passed(
            connected_to=hostport(address, port),
            connect_ms=took,
            local_address=hostport(local[0], local[1]),
            attempts=attempts,
            families=_family_verdicts(attempts),
        )
    kinds = [ErrorKind(str(a["result"])) for a in attempts]
    worst = min(kinds, key=_PRECEDENCE.index)
    first = next(a for a in attempts if a["result"] == worst.value)
    summary = f"{first['message']} ({len(attempts)} address(es) tried)"
    return failed(worst, summary, {"address": first["address"], "port": port},
                  attempts=attempts, families=_family_verdicts(attempts))


async def _timed(
    address: str, port: int, deadline: Deadline
) -> tuple[socket.socket | None, ErrorKind | None, str, float]:
    start = time.perf_counter()
    sock, kind, message = await open_socket(address, port, deadline.remaining())
    return sock, kind, message, round((time.perf_counter() - start) * 1000, 3)


def _family_verdicts(attempts: list[dict[str, JSON]]) -> dict[str, JSON]:
    """Per family: "ok" if any address of it connected, else the first failure kind."""
    verdicts: dict[str, JSON] = {}
    for attempt in attempts:
        family = str(attempt["family"])
        if verdicts.get(family) != "ok":
            verdicts[family] = "ok" if attempt["result"] == "ok" else verdicts.get(
                family, attempt["result"])
    return verdicts


async def open_socket(
    address: str, port: int, budget: float
) -> tuple[socket.socket | None, ErrorKind | None, str]:
    """One connect attempt, classified: (socket, None, "") or (None, kind, message)."""
    target = hostport(address, port)
    family = socket.AF_INET6 if ipaddress.ip_address(address).version == 6 else socket.AF_INET
    try:
        sock = socket.socket(family, socket.SOCK_STREAM)
    except OSError as exc:
        return None, ErrorKind.UNREACHABLE, f"cannot open an {family.name} socket: {exc.strerror}"
    sock.setblocking(False)
    try:
        async with asyncio.timeout(budget):
            await asyncio.get_running_loop().sock_connect(sock, (address, port))
    except TimeoutError:
        sock.close()
        return None, ErrorKind.TIMEOUT, f"no answer from {target} within {budget:.2f} s"
    except OSError as exc:
        sock.close()
        kind = _ERRNO_KINDS.get(exc.errno or 0, ErrorKind.INTERNAL)
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        return None, kind, f"{target}: {reason}"
    except BaseException:
        sock.close()
        raise
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock, None, ""


def hostport(address: str, port: int) -> str:
    """`1.2.3.4:443` or `[::1]:443`."""
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
