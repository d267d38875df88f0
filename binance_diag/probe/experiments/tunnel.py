"""A proxy that answered the CONNECT but carries nothing: is it the tunnel, or the target?

A fresh tunnel through the same proxy (the control) and a direct connection to the
target's own address, one TLS handshake each, side by side. Direct works and the tunnel
does not: the proxy path is to blame. Both silent: the target (or the path beyond both).
"""

from __future__ import annotations

import asyncio

from ...model import ErrorKind, StageName
from ...timing import Deadline
from .base import Planned, Verdict, attempt_details, not_run, said
from .catalogue import TUNNEL_VS_DIRECT
from .shell import Attempt, Hello, tls_attempt
from .view import NoRoute, RunView

ACTION = "a fresh tunnel through the same proxy and a direct connection, one TLS handshake each"


def plan(view: RunView) -> list[Planned]:
    failed = view.failed
    proxy = view.stage(StageName.PROXY)
    if view.proxy is None or failed is None or proxy is None or not proxy.passed \
            or failed.name is not StageName.TLS or failed.error is None \
            or failed.error.kind not in (ErrorKind.TIMEOUT, ErrorKind.EOF, ErrorKind.RESET):
        return []
    tunnel = view.target_route
    direct = view.route_to(view.config.target.host, view.config.target.port, direct=True)
    if isinstance(tunnel, NoRoute):
        return [not_run(TUNNEL_VS_DIRECT, ACTION, str(tunnel))]
    if isinstance(direct, NoRoute):
        return [not_run(TUNNEL_VS_DIRECT, ACTION, str(direct))]

    async def run(deadline: Deadline) -> Verdict:
        budget = Deadline(min(deadline.remaining(), view.attempt_budget()))
        hello = Hello(view.config.target.host)
        through, straight = await asyncio.gather(
            tls_attempt(tunnel, hello, budget, view.tls_context),
            tls_attempt(direct, hello, budget, view.tls_context))
        return decide(through, straight)

    return [Planned(TUNNEL_VS_DIRECT, f"{ACTION} ({tunnel.describe()}; direct to "
                    f"{direct.describe()})", run)]


def decide(through: Attempt, straight: Attempt) -> Verdict:
    details = {"attempts": [attempt_details("through the proxy", through),
                            attempt_details("direct", straight)]}
    words = f"through the proxy: {said(through)}; direct: {said(straight)}"
    if through.answered and through.outcome != "stalled":
        return Verdict("not_reproduced", f"the tunnel works this time: {words}", details)
    if straight.answered and straight.outcome != "stalled":
        return Verdict("direct_answers", f"the target answers directly, not through the "
                       f"proxy's tunnel: {words}", details)
    if not straight.answered and straight.outcome not in ("connect_failed",):
        return Verdict("both_silent", f"the target fails directly too: {words}", details)
    return Verdict("inconclusive", words, details)
