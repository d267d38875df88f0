"""probe/experiments/alternatives.py: another way in works, fails too, or was not reached.

An attempt the proxy refused never reached the host it was for: inconclusive, never
`fails_too` (that would blame Binance's other host for the proxy's policy).
"""

from __future__ import annotations

import asyncio

import pytest

from binance_diag.config.proxies import parse_proxy_url
from binance_diag.probe.experiments.alternatives import attempt_alternative, decide
from binance_diag.probe.experiments.catalogue import INCONCLUSIVE
from binance_diag.probe.experiments.shell import Attempt, Route
from binance_diag.probe.experiments.view import MARKET_DATA, RunView
from binance_diag.simulate.proxy_server import HttpConnectProxy
from binance_diag.timing import Deadline
from tests.probe.helpers import make_config
from tests.utils import MS

WHERE = "data-stream.binance.vision:443"


@pytest.mark.parametrize(("attempt", "through_proxy", "outcome"), [
    (Attempt("handshake_ok", "TLSv1.3"), False, "works"),
    (Attempt("handshake_ok", "TLSv1.3"), True, "works"),
    (Attempt("silent"), False, "fails_too"),
    (Attempt("reset"), True, "fails_too"),
    (Attempt("connect_failed", "refused"), False, "fails_too"),
    (Attempt("connect_failed", "cannot resolve the proxy"), True, INCONCLUSIVE),
    (Attempt("tunnel_failed", "HTTP 403 Forbidden"), True, INCONCLUSIVE),
])
def test_decide(attempt: Attempt, through_proxy: bool, outcome: str) -> None:
    verdict = decide(WHERE, attempt, through_proxy)
    assert verdict.outcome == outcome
    assert WHERE in verdict.result


@pytest.mark.timeout(10)
def test_a_tunnel_the_proxy_refuses_is_inconclusive() -> None:
    # No hosts table: the loopback proxy refuses a tunnel to anything off loopback (403),
    # and resolves nothing itself.
    with HttpConnectProxy() as proxy:
        view = RunView(make_config("wss://stream.binance.com:9443", proxy=proxy.url), ())
        route = Route(*MARKET_DATA, None, parse_proxy_url(proxy.url))
        verdict = asyncio.run(attempt_alternative(view, route, Deadline(3000 * MS)))
        assert proxy.requests  # the CONNECT was asked, and refused
    assert verdict.outcome == INCONCLUSIVE, verdict
    assert "not reached" in verdict.result and "403" in verdict.result
