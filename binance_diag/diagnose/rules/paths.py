"""Rules about the other ways in that the experiments found working (port 443 / 9443, the
market-data host): the workaround, proved, beside the failure's cause."""

from __future__ import annotations

from collections.abc import Mapping

from ...model import Blame, Severity
from ...probe.experiments.catalogue import MARKET_DATA_HOST, OTHER_PORT
from ..facts import Facts
from ..rule import Action, Proof, Rule, Scope, Subject


def other_port_values(facts: Facts, subject: Subject) -> Mapping[str, str]:
    other = "443" if facts.target.port == 9443 else "9443"
    return {"other_port": other,
            "other_endpoint": "spot-443" if other == "443" else "spot"}


OBSERVATIONS = (
    Rule(
        "path.other_port_works", Scope.REPORT, Severity.INFO, Blame.NETWORK,
        title="Port {other_port} of {host} works from here",
        meaning="The experiments reached the same host on Binance's other stream port: a "
                "workaround while the port probed is blocked.",
        hypothesis="A TLS handshake with {host} on port {other_port} completed where port "
                   "{port} failed: the block is specific to the port.",
        values=other_port_values, separated_by=(OTHER_PORT,),
        confirmed_by=(Proof(OTHER_PORT, "works"),), needs_confirmation=True,
        actions=(Action("Use port {other_port}: `{again:--endpoint spot-443}`"),),
    ),
    Rule(
        "path.market_data_works", Scope.REPORT, Severity.INFO, Blame.NETWORK,
        title="The market-data host data-stream.binance.vision works from here",
        meaning="The experiments reached Binance's market-data-only host: a workaround for "
                "public market streams.",
        hypothesis="A TLS handshake with data-stream.binance.vision:443 completed where "
                   "{hostport} failed.",
        separated_by=(MARKET_DATA_HOST,),
        confirmed_by=(Proof(MARKET_DATA_HOST, "works"),), needs_confirmation=True,
        actions=(Action("Use the market-data host for public streams: "
                        "`{again:--endpoint data-stream}`"),),
    ),
)
