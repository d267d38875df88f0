"""The rule table, in rank order.

Theory of operation (h11's `_state.py` style): the table is data, read top to bottom.

- A *failure* rule explains the failed stage; it matches on the stage, the error kind and an
  optional predicate over the measurements. Several may fit one failure (a Binance host on
  port 9443 refused *and* "refused" in general): the first one in the table wins, so specific
  rules come before the general ones, and `runtime.unclassified` closes the table so that
  every failure is explained by something.
- An *observation* rule looks at each stage (or the whole run) whatever happened, and may fire
  alongside the failure: a blocked event loop, a DNS answer pointing at a private address, a
  slow stage, a crossed `--warn` threshold.

Findings are ranked by severity, then by basis - within a severity, a finding an experiment
confirmed comes before every inferred one, whatever their positions (a proof beats a
likelihood) - then by their rule's position here: a cause that explains
everything after it (the loop could not run timers; DNS sent us to 127.0.0.1) is placed
before the failures it explains; side observations come after. The top finding is the Root
Cause Hypothesis.
"""

from __future__ import annotations

from ..rule import Rule
from . import clock, dns, message, paths, runtime, tls, transport, upgrade

RULES: tuple[Rule, ...] = (
    *runtime.PRECEDING,
    *dns.PRECEDING,
    *dns.FAILURES,
    *transport.FAILURES,
    *tls.FAILURES,
    *upgrade.FAILURES,
    *message.FAILURES,
    *runtime.FAILURES,
    *runtime.FOLLOWING,
    *dns.OBSERVATIONS,
    *transport.OBSERVATIONS,
    *paths.OBSERVATIONS,
    *tls.OBSERVATIONS,
    *message.OBSERVATIONS,
    *clock.OBSERVATIONS,
    *runtime.HEALTHY,
)

RULES_BY_ID = {rule.id: rule for rule in RULES}
if len(RULES_BY_ID) != len(RULES):  # pragma: no cover - caught by the tests at import
    raise ValueError("duplicate rule id in the diagnosis table")

__all__ = ["RULES", "RULES_BY_ID"]
