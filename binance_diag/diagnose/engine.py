"""The engine: run the rule table over a report, rank the findings, write the analysis.

Pure and deterministic: the same report gives the same findings in the same order.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from ..model import Experiment, Finding, ProbeReport, Severity, StageName, StageResult
from .analysis import analyse, loop_caused, loop_caused_line
from .facts import Facts
from .rule import Filled, Rule, Scope, fill
from .rules import RULES

SEVERITY_RANK = {Severity.CRITICAL: 0, Severity.WARNING: 1, Severity.INFO: 2}
STAGE_RANK = {name: index for index, name in enumerate(StageName)}


@dataclass(frozen=True)
class Match:
    """A rule that fired, on what, and the finding it produced."""

    rule: Rule
    position: int
    subject: StageResult | None
    finding: Finding

    @property
    def rank(self) -> tuple[int, int, int, int]:
        """Severity first; within a severity a finding an experiment proved before any
        inferred one (proof outranks the table's order of likelihood); then the table."""
        stage = STAGE_RANK[self.subject.name] if self.subject is not None else len(STAGE_RANK)
        inferred = 0 if self.finding.confirmed_by else 1
        return SEVERITY_RANK[self.finding.severity], inferred, self.position, stage


def match_rules(report: ProbeReport, rules: Sequence[Rule] = RULES) -> list[Match]:
    """Every rule that fires on `report`, best first (the first is the root cause)."""
    facts = Facts(report)
    found: list[Match] = []
    # A timeout the blocked loop caused says nothing about the network: no network rule.
    # (Only when a loop finding will say so instead: a report must always have a root cause.)
    # An experiment's proof still stands: it ran after the stage, on its own clock.
    loop_findings = report.loop.deadline_enforced_by_watchdog or bool(report.loop.blockages)
    loop_explains = facts.failed is not None and loop_caused(facts.failed) and loop_findings
    failure_explained = False
    for position, rule in enumerate(rules):
        if rule.scope is Scope.FAILURE:
            if failure_explained or facts.failed is None:
                continue
            if loop_explains and not rule.confirmations(facts):
                continue
            subjects: Sequence[StageResult | None] = (facts.failed,)
        elif rule.scope is Scope.STAGE:
            subjects = report.stages
        else:
            subjects = (None,)
        for subject in subjects:
            if rule.matches(facts, subject):
                found.append(Match(rule, position, subject, make_finding(rule, facts, subject)))
                failure_explained = failure_explained or rule.scope is Scope.FAILURE
    return sorted(found, key=lambda m: m.rank)


def make_finding(rule: Rule, facts: Facts, subject: StageResult | None) -> Finding:
    values = Filled(facts.values(subject))
    values.update(rule.values(facts, subject))
    severity = rule.severity
    if facts.healthy and rule.severity_when_healthy is not None:
        severity = rule.severity_when_healthy
    return Finding(
        id=rule.id,
        severity=severity,
        blame=rule.blame,
        title=fill(rule.title, values),
        hypothesis=fill(rule.hypothesis, values),
        evidence=tuple(rule.evidence(facts, subject)) + experiment_evidence(rule, facts),
        actions=tuple(fill(a.text, values) for a in rule.actions if a.when(facts, subject)),
        confirmed_by=rule.confirmations(facts),
    )


def experiment_evidence(rule: Rule, facts: Facts) -> tuple[str, ...]:
    """The experiments that proved a finding, as its last evidence lines."""
    lines = []
    for name in rule.confirmations(facts):
        found = facts.experiment(name)
        if found is not None:
            lines.append(f"confirmed by experiment `{name}`: {found.result}")
    return tuple(lines)


def judge_experiments(report: ProbeReport, matches: Sequence[Match],
                      rules: Sequence[Rule] = RULES) -> tuple[Experiment, ...]:
    """Each experiment with the findings it confirmed (among those drawn) and the ones it
    ruled out (among the rules that could explain the failure)."""
    if not report.experiments:
        return report.experiments
    facts = Facts(report)
    drawn = [m.rule for m in matches]
    failed = facts.failed
    judged = []
    for experiment in report.experiments:
        confirms = tuple(dict.fromkeys(r.id for r in drawn
                                       if experiment.name in r.confirmations(facts)))
        rules_out = tuple(dict.fromkeys(
            r.id for r in rules
            if (r.could_explain(failed) or r in drawn) and experiment.name in r.ruled_out(facts)))
        judged.append(dataclasses.replace(experiment, confirms=confirms, rules_out=rules_out))
    return tuple(judged)


def diagnose(report: ProbeReport) -> tuple[Finding, ...]:
    """The findings for a report, ranked: the first is the Root Cause Hypothesis."""
    return tuple(m.finding for m in match_rules(report))


def diagnose_report(report: ProbeReport) -> ProbeReport:
    """The same report with its findings and Problem Analysis filled in."""
    matches = match_rules(report)
    facts = Facts(report)
    failure = next((m for m in matches if m.rule.scope is Scope.FAILURE), None)
    analysis_line = ""
    proved = failure is not None and bool(failure.finding.confirmed_by)
    if facts.failed is not None and loop_caused(facts.failed) and not proved:
        analysis_line = loop_caused_line(facts.failed)
    elif failure is not None and failure.rule.analysis:
        values = Filled(facts.values(failure.subject))
        values.update(failure.rule.values(facts, failure.subject))
        analysis_line = fill(failure.rule.analysis, values)
    # Observations with an analysis sentence (what --duration saw) join the analysis.
    observed = []
    for match in matches:
        if match.rule.scope is not Scope.FAILURE and match.rule.analysis:
            values = Filled(facts.values(match.subject))
            values.update(match.rule.values(facts, match.subject))
            observed.append(fill(match.rule.analysis, values))
    return dataclasses.replace(
        report,
        findings=tuple(m.finding for m in matches),
        analysis=analyse(report, analysis_line, observed),
        experiments=judge_experiments(report, matches),
    )
