"""What a diagnosis rule is: data (id, match, severity, blame, words, actions) plus predicates.

Pure. A rule's words are templates filled from the measurements (`{host}`, `{timeout}`,
`{status}`...): `str.format_map` with string values only, no format specs, so the same
template prints with real numbers in a report and with `<placeholders>` in docs/findings.md.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from ..model import Blame, ErrorKind, Experiment, Severity, StageName, StageResult

if TYPE_CHECKING:
    from .facts import Facts

Subject = StageResult | None
"""What a rule speaks about: a stage result, or None for the report as a whole."""

Condition = Callable[["Facts", Subject], bool]
Evidence = Callable[["Facts", Subject], Sequence[str]]
Values = Callable[["Facts", Subject], Mapping[str, str]]


class Scope(StrEnum):
    FAILURE = "failure"
    """Explains the failed stage: `stage` and `kinds` must match; the first such rule wins."""
    STAGE = "stage"
    """An observation about each stage (of `stage`, or any) that the condition accepts."""
    REPORT = "report"
    """An observation about the whole run, drawn at most once."""


def always(facts: Facts, subject: Subject) -> bool:
    return True


def no_evidence(facts: Facts, subject: Subject) -> Sequence[str]:
    return ()


def no_values(facts: Facts, subject: Subject) -> Mapping[str, str]:
    return {}


@dataclass(frozen=True)
class Action:
    """Something to do; offered only when `when` holds (e.g. not already on port 443)."""

    text: str
    when: Condition = always
    note: str = ""
    """For docs/findings.md: in which case the action is offered."""


@dataclass(frozen=True)
class Proof:
    """An experiment's outcome that settles a finding: `Proof("tls.small_mss", "answered")`
    holds when that experiment ran and ended with one of `outcomes`."""

    experiment: str
    outcomes: frozenset[str]

    def __init__(self, experiment: str, *outcomes: str) -> None:
        object.__setattr__(self, "experiment", experiment)
        object.__setattr__(self, "outcomes", frozenset(outcomes))

    def holds(self, facts: Facts) -> bool:
        found: Experiment | None = facts.experiment(self.experiment)
        return found is not None and found.outcome in self.outcomes

    def describe(self) -> str:
        return f"`{self.experiment}` {' or '.join(f'`{o}`' for o in sorted(self.outcomes))}"


@dataclass(frozen=True)
class Rule:
    id: str
    scope: Scope
    severity: Severity
    blame: Blame
    title: str
    meaning: str
    """One static sentence for docs/findings.md: what the finding means."""
    hypothesis: str
    actions: tuple[Action, ...] = ()
    stage: StageName | None = None
    kinds: frozenset[ErrorKind] = frozenset()
    when: Condition = always
    evidence: Evidence = no_evidence
    values: Values = no_values
    analysis: str = ""
    """For failure rules: what the failure's signature rules in and out (Problem Analysis)."""
    severity_when_healthy: Severity | None = None
    """A milder severity when every stage passed (the finding then is a warning sign)."""
    separated_by: tuple[str, ...] = ()
    """The experiments (probe/experiments/catalogue.py) that tell this finding from the
    alternatives it names; the probe runs them when the failure calls for it."""
    confirmed_by: tuple[Proof, ...] = ()
    """Outcomes that prove this finding: it then says "confirmed by experiment"."""
    ruled_out_by: tuple[Proof, ...] = ()
    """Outcomes that disprove it: the rule does not fire."""
    needs_confirmation: bool = False
    """Fires only when a `confirmed_by` proof holds (a cause only an experiment can show)."""
    templates: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        texts = (self.title, self.hypothesis, self.analysis, *(a.text for a in self.actions))
        object.__setattr__(self, "templates", texts)
        if self.scope is Scope.FAILURE and not self.kinds:
            raise ValueError(f"{self.id}: a failure rule names the error kinds it explains")
        if self.needs_confirmation and not self.confirmed_by:
            raise ValueError(f"{self.id}: a rule that needs confirmation names its proof")
        for text in texts:
            _check_template(self.id, text)

    def matches(self, facts: Facts, subject: Subject) -> bool:
        if self.scope is Scope.FAILURE:
            if subject is None or subject.error is None or subject.error.kind not in self.kinds:
                return False
        if self.stage is not None and (subject is None or subject.name is not self.stage):
            return False
        if any(proof.holds(facts) for proof in self.ruled_out_by):
            return False
        if self.needs_confirmation and not self.confirmations(facts):
            return False
        return self.when(facts, subject)

    def confirmations(self, facts: Facts) -> tuple[str, ...]:
        """The experiments whose outcome proves this finding in this run."""
        return tuple(dict.fromkeys(p.experiment for p in self.confirmed_by if p.holds(facts)))

    def ruled_out(self, facts: Facts) -> tuple[str, ...]:
        """The experiments whose outcome disproves this finding in this run."""
        return tuple(dict.fromkeys(p.experiment for p in self.ruled_out_by if p.holds(facts)))

    def could_explain(self, subject: Subject) -> bool:
        """The rule is about this failure (its stage and error kind), experiments aside."""
        if self.scope is not Scope.FAILURE or subject is None or subject.error is None:
            return False
        return subject.error.kind in self.kinds and (self.stage is None
                                                     or subject.name is self.stage)


class Filled(dict[str, str]):
    """Template values; a value the measurements did not provide prints as `unknown`."""

    def __missing__(self, key: str) -> str:
        return "unknown"


class Placeholders(dict[str, str]):
    """For docs: every value prints as `<name>`; the run's command, edited or not, as
    `binance-diag probe <symbols> <options> --flag X`."""

    def __missing__(self, key: str) -> str:
        return _Slot("binance-diag probe <symbols> <options>" if key == "again" else f"<{key}>")


class _Slot(str):
    def __format__(self, spec: str) -> str:
        words = spec.split()
        dropped = [word[1:] for word in words if word.startswith("!")]
        added = " ".join(word for word in words if not word.startswith("!"))
        text = str.__str__(self) + (f" {added}" if added else "")
        return text + (f" (without {' / '.join(dropped)})" if dropped else "")


def fill(template: str, values: Mapping[str, str]) -> str:
    return template.format_map(values)


EDITABLE = frozenset({"again"})
"""Fields that take a spec: `{again:--endpoint spot-443}` is the run's command, edited."""


def _check_template(rule_id: str, text: str) -> None:
    """Every field a plain name; a spec only on an editable field, its own fields plain."""
    for _, name, spec, conversion in string.Formatter().parse(text):
        if name is None:
            continue
        if conversion or not name.isidentifier() or (spec and name not in EDITABLE):
            raise ValueError(f"{rule_id}: template field {{{name}}} must be a plain name")
        if spec:
            _check_template(rule_id, spec)
