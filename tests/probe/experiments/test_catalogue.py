"""probe/experiments/catalogue.py: every experiment a family plans is catalogued, and the
outcomes listed are the ones its decision can return."""

from __future__ import annotations

import ast
import inspect

from binance_diag.probe.experiments import (
    alternatives,
    clock,
    hello,
    mss,
    refusal,
    repeat,
    tunnel,
)
from binance_diag.probe.experiments.catalogue import INCONCLUSIVE, NOT_RUN, SPECS

FAMILIES = (alternatives, clock, hello, mss, refusal, repeat, tunnel)


def returned_outcomes(module: object) -> set[str]:
    """Every string literal given as a Verdict's first argument in `module`."""
    tree = ast.parse(inspect.getsource(module))  # type: ignore[arg-type]
    return {call.args[0].value for call in ast.walk(tree)
            if isinstance(call, ast.Call) and getattr(call.func, "id", "") == "Verdict"
            and call.args and isinstance(call.args[0], ast.Constant)}


def test_specs_are_keyed_by_their_name_and_complete() -> None:
    for name, spec in SPECS.items():
        assert spec.name == name
        assert spec.question.endswith("?") and spec.cost and spec.outcomes
        assert NOT_RUN not in spec.outcomes and INCONCLUSIVE not in spec.outcomes
        assert len(set(spec.outcomes)) == len(spec.outcomes)


def test_every_outcome_a_family_returns_is_catalogued() -> None:
    catalogued = {o for spec in SPECS.values() for o in spec.outcomes}
    for family in FAMILIES:
        for outcome in returned_outcomes(family) - {INCONCLUSIVE}:
            assert outcome in catalogued, (family.__name__, outcome)


def test_the_refusal_categories_are_its_outcomes() -> None:
    from binance_diag.probe.experiments.catalogue import REFUSAL
    from binance_diag.probe.experiments.refusal import _SIGNS

    assert {name for name, _ in _SIGNS} | {"status_only"} == set(SPECS[REFUSAL].outcomes)
