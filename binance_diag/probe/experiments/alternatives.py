"""The other ways into Binance from here: the other port of the same host (443 / 9443), and
the market-data host. Run only for Binance hosts, and only where the run's own
configuration says where they are (see view.py): never a DNS question the run did not ask.
"""

from __future__ import annotations

from ...addresses import hostport
from ...model import StageName
from ...timing import Deadline
from .base import Planned, Verdict, attempt_details, not_run, said
from .catalogue import INCONCLUSIVE, MARKET_DATA_HOST, OTHER_PORT
from .shell import Attempt, Hello, Route, tls_attempt
from .view import MARKET_DATA, NoRoute, RunView, other_port

_BLOCKING = (StageName.TCP, StageName.TLS, StageName.PROXY)
_NOT_REACHED = frozenset({"tunnel_failed", "unsupported"})
"""Outcomes of an attempt that stopped before the host it was for: the proxy refused the
tunnel (its policy, not the host's answer)."""


def plan(view: RunView) -> list[Planned]:
    failed = view.failed
    if failed is None or failed.name not in _BLOCKING or not view.binance \
            or not view.config.target.secure:
        return []
    target = view.config.target
    planned = []
    port = other_port(view)
    if port is not None:
        planned.append(_planned(view, OTHER_PORT, target.host, port))
    if target.host == "stream.binance.com":
        planned.append(_planned(view, MARKET_DATA_HOST, *MARKET_DATA))
    return planned


def _planned(view: RunView, name: str, host: str, port: int) -> Planned:
    action = f"a TCP connection and TLS handshake to {hostport(host, port)}"
    route = view.route_to(host, port)
    if isinstance(route, NoRoute):
        return not_run(name, action, str(route))

    async def run(deadline: Deadline) -> Verdict:
        return await attempt_alternative(view, route, deadline)

    return Planned(name, f"{action} ({route.describe()})", run)


async def attempt_alternative(view: RunView, route: Route, deadline: Deadline) -> Verdict:
    budget = Deadline(min(deadline.remaining(), view.attempt_budget()))
    attempt = await tls_attempt(route, Hello(route.host), budget, view.tls_context)
    where = hostport(route.host, route.port)
    return decide(where, attempt, through_proxy=route.proxy is not None)


def decide(where: str, attempt: Attempt, through_proxy: bool) -> Verdict:
    """Works, or fails too; but an attempt that never reached `where` (the proxy refused
    the tunnel, or could not be reached) says nothing about it."""
    details = attempt_details(where, attempt)
    if attempt.outcome == "handshake_ok":
        return Verdict("works", f"{where} works from here: {said(attempt)}", details)
    if attempt.outcome in _NOT_REACHED or (through_proxy and attempt.outcome == "connect_failed"):
        return Verdict(INCONCLUSIVE, f"{where} was not reached, so nothing is known about "
                       f"it: {said(attempt)} ({attempt.detail})", details)
    return Verdict("fails_too", f"{where} fails too: {said(attempt)}", details)
