"""Path-MTU black hole: the same handshake when every packet is small (TCP_MAXSEG).

A link with a smaller MTU than its ends believe (a VPN, a tunnel, PPPoE) that drops the
ICMP "fragmentation needed" messages loses every full-size packet: the ClientHello (small)
gets through, the server's certificate flight (full-size) never arrives. Announcing a small
MSS in the SYN makes the server send small packets: if the handshake then completes, the
path drops large packets.
"""

from __future__ import annotations

from ...model import ErrorKind, StageName
from ...timing import Deadline
from .base import Planned, Verdict, attempt_details, not_run, said
from .catalogue import SMALL_MSS
from .shell import SMALL_MSS as MSS
from .shell import Attempt, Hello, tls_attempt
from .view import NoRoute, RunView

ACTION = f"the same TLS handshake (same address, name and trust) with TCP_MAXSEG {MSS}"


def plan(view: RunView) -> list[Planned]:
    failed = view.failed
    if failed is None or failed.name is not StageName.TLS or failed.error is None \
            or failed.error.kind is not ErrorKind.TIMEOUT:
        return []
    if view.proxy is not None:
        return [not_run(SMALL_MSS, ACTION, "not run: through a proxy the MSS would only "
                        "apply to the leg to the proxy")]
    route = view.target_route
    if isinstance(route, NoRoute):
        return [not_run(SMALL_MSS, ACTION, str(route))]
    sni = failed.details.get("sni")
    hello = Hello(str(sni) if sni else None, mss=MSS)

    async def run(deadline: Deadline) -> Verdict:
        attempt = await tls_attempt(route, hello, _within(view, deadline), view.tls_context)
        return decide(attempt)

    return [Planned(SMALL_MSS, f"{ACTION} to {route.describe()}", run)]


def _within(view: RunView, deadline: Deadline) -> Deadline:
    return Deadline(min(deadline.remaining(), view.attempt_budget()))


def decide(attempt: Attempt) -> Verdict:
    """Answered with small packets, where full-size ones got nothing: a path-MTU black hole."""
    details = attempt_details(f"MSS {MSS}", attempt)
    if attempt.outcome == "unsupported":
        return Verdict("unsupported", "TCP_MAXSEG cannot be set on this system", details)
    if attempt.answered and attempt.outcome != "stalled":
        mss = f" (MSS {attempt.mss} negotiated)" if attempt.mss else ""
        return Verdict("answered", f"with small packets{mss} the server answered: "
                       f"{said(attempt)}", details)
    outcome = attempt.outcome if attempt.outcome in ("silent", "stalled", "reset", "closed",
                                                     "connect_failed") else "silent"
    return Verdict(outcome, f"with small packets too: {said(attempt)}", details)
