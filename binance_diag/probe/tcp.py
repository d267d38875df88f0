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
    port = config.target.port
    attempts: list[dict[str, JSON]] = []
    kinds: list[ErrorKind] = []
    for index, address in enumerate(state.addresses):
        left = len(state.addresses) - index
        budget = deadline.remaining() / left
        tracer.event(f"TCP connect to {hostport(address, port)}")
        start = time.perf_counter()
        sock, kind, message = await open_socket(address, port, budget)
        took = round((time.perf_counter() - start) * 1000, 3)
        attempt: dict[str, JSON] = {
            "family": f"IPv{ipaddress.ip_address(address).version}",
            "address": address,
            "port": port,
            "result": "ok" if sock else (kind.value if kind else "error"),
            "time_ms": took,
        }
        if sock is not None:
            attempts.append(attempt)
            state.connection = Connection(sock, (address, port))
            local = sock.getsockname()
            tracer.event(f"TCP connected to {hostport(address, port)}")
            return passed(
                connected_to=hostport(address, port),
                local_address=hostport(local[0], local[1]),
                attempts=attempts,
            )
        assert kind is not None
        attempt["message"] = message
        attempts.append(attempt)
        kinds.append(kind)
        tracer.event(f"TCP to {hostport(address, port)} failed: {kind.value}")
    if not kinds:
        return failed(ErrorKind.INTERNAL, "no address to connect to", attempts=attempts)
    worst = min(kinds, key=_PRECEDENCE.index)
    first = next(a for a in attempts if a["result"] == worst.value)
    summary = f"{first['message']} ({len(attempts)} address(es) tried)"
    return failed(worst, summary, {"address": first["address"], "port": port}, attempts=attempts)


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
