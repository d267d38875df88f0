"""The `tcp` stage: our own socket to every resolved address at once; the first one wins.

Like Happy Eyeballs (RFC 8305), every address is tried in parallel and the stage ends once
one connected, after a short settle that lets addresses barely slower than the winner (the
several A records of one CDN) finish too. Addresses still connecting then are recorded as
`pending` and not awaited: a dead address shows up in the evidence without holding the stage
or stretching its time. Only when none connects does the stage wait for its whole budget.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import os
import socket
import time
from dataclasses import dataclass

from ..addresses import hostport
from ..config.probe import ProbeConfig
from ..model import JSON, ErrorKind
from ..timing import Deadline, format_seconds
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
PENDING = "pending"
"""The result of an attempt still connecting when the stage ended on another address."""
SETTLE_MIN = 0.005
SETTLE_MAX = 0.25
"""Once an address connected, the others get as long again as it took, at least SETTLE_MIN
and at most SETTLE_MAX seconds (RFC 8305's Connection Attempt Delay), never past the
deadline: an address still silent by then is far slower than the winner, or dead."""


@dataclass(frozen=True)
class Attempt:
    """One connect attempt: a socket, or why there is none."""

    address: str
    sock: socket.socket | None
    kind: ErrorKind | None
    message: str
    took_ms: float


async def connect_tcp(
    config: ProbeConfig, state: ProbeState, tracer: Tracer, deadline: Deadline
) -> StageOutcome:
    """Connect to every address at once and continue on the first that connected.

    Clients usually try addresses in order and wait on each, so one dead address (or a
    half-working IPv6) makes their connect hang while another would work at once: every
    attempt is recorded, with a verdict per family, to make that visible.
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
    outcomes, winner = await _race(addresses, port, deadline)
    attempts: list[dict[str, JSON]] = []
    for address in addresses:
        outcome = outcomes[address]
        attempt: dict[str, JSON] = {
            "family": f"IPv{ipaddress.ip_address(address).version}",
            "address": address,
            "port": port,
            "result": _result(outcome),
            "time_ms": outcome.took_ms,
        }
        if outcome.sock is None:
            attempt["message"] = outcome.message
            tracer.event(f"TCP to {hostport(address, port)}: {attempt['result']}")
        elif outcome is not winner:
            outcome.sock.close()
        attempts.append(attempt)
    if winner is not None and winner.sock is not None:
        sock = winner.sock
        state.connection = Connection(sock, (winner.address, port))
        local = sock.getsockname()
        tracer.event(f"TCP connected to {hostport(winner.address, port)}")
        return passed(
            connected_to=hostport(winner.address, port),
            connect_ms=winner.took_ms,
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


def _result(attempt: Attempt) -> str:
    if attempt.sock is not None:
        return "ok"
    return attempt.kind.value if attempt.kind is not None else PENDING


async def _race(addresses: list[str], port: int, deadline: Deadline
                ) -> tuple[dict[str, Attempt], Attempt | None]:
    """Every address's attempt, and the first that connected (None if none did).

    Ends at the first connection plus the settle, or at the deadline: attempts cut short
    are cancelled and recorded (`pending` beside a winner, `timeout` without one), so the
    stage always reports its own timeout, never the runner's supervisor.
    """
    started = time.perf_counter()
    tasks = {asyncio.ensure_future(_attempt(a, port)): a for a in addresses}
    outcomes: dict[str, Attempt] = {}
    winner: Attempt | None = None
    settle_until: float | None = None
    pending = set(tasks)
    try:
        while pending:
            limit = deadline.at if settle_until is None else min(settle_until, deadline.at)
            done, pending = await asyncio.wait(
                pending, timeout=max(0.0, limit - time.perf_counter()),
                return_when=asyncio.FIRST_COMPLETED)
            if not done:
                break
            for task in done:
                outcome = task.result()
                outcomes[outcome.address] = outcome
                if outcome.sock is not None and (winner is None
                                                 or outcome.took_ms < winner.took_ms):
                    winner = outcome
            if winner is not None and settle_until is None:
                settle = min(max(winner.took_ms / 1000, SETTLE_MIN), SETTLE_MAX)
                settle_until = time.perf_counter() + settle
    finally:
        for task in pending:
            task.cancel()
            task.add_done_callback(_close_late_socket)
    gave_up_ms = round((time.perf_counter() - started) * 1000, 3)
    for task in pending:
        address = tasks[task]
        if winner is not None:
            message = (f"no answer from {hostport(address, port)} within {gave_up_ms:g} ms, "
                       f"while {hostport(winner.address, port)} connected in "
                       f"{winner.took_ms:g} ms: not awaited further")
            outcomes[address] = Attempt(address, None, None, message, gave_up_ms)
        else:
            message = (f"no answer from {hostport(address, port)} within "
                       f"{format_seconds(deadline.budget)}")
            outcomes[address] = Attempt(address, None, ErrorKind.TIMEOUT, message, gave_up_ms)
    return outcomes, winner


def _close_late_socket(task: asyncio.Future[Attempt]) -> None:
    """An attempt cancelled just as it connected still hands back a socket: close it."""
    if task.cancelled() or task.exception() is not None:
        return
    sock = task.result().sock
    if sock is not None:
        sock.close()


async def _attempt(address: str, port: int) -> Attempt:
    start = time.perf_counter()
    sock, kind, message = await open_socket(address, port)
    return Attempt(address, sock, kind, message, round((time.perf_counter() - start) * 1000, 3))


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
    address: str, port: int, budget: float | None = None
) -> tuple[socket.socket | None, ErrorKind | None, str]:
    """One connect attempt, classified: (socket, None, "") or (None, kind, message).

    Without a `budget` it waits until cancelled (the caller keeps the clock).
    """
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
    except TimeoutError as exc:
        sock.close()
        if budget is None or exc.errno is not None:  # the kernel's ETIMEDOUT, not our clock
            return None, ErrorKind.TIMEOUT, f"{target}: {os.strerror(errno.ETIMEDOUT)}"
        return None, ErrorKind.TIMEOUT, f"no answer from {target} within {format_seconds(budget)}"
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


