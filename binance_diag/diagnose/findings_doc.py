"""docs/findings.md, generated from the rule table.

Run `python -m binance_diag.diagnose.findings_doc > docs/findings.md` after changing a rule;
tests/diagnose/test_findings_doc.py fails while the committed file is stale.
"""

from __future__ import annotations

from ..probe.experiments.catalogue import SPECS
from .rule import Placeholders, Rule, Scope, fill
from .rules import RULES

COMMAND = "python -m binance_diag.diagnose.findings_doc > docs/findings.md"

INTRO = f"""\
# Findings

<!-- Generated from binance_diag/diagnose/rules/ by `{COMMAND}`. Do not edit by hand:
tests/diagnose/test_findings_doc.py fails when this file is stale. -->

Every finding binance-diag can draw, in the order the rule table ranks them. Findings are
sorted by severity (critical, warning, info), then by this order: causes that explain
everything after them come first. The top finding of a report is its **Root Cause
Hypothesis**.

- **Failure** rules explain the failed stage: they match its error kind and, for the more
  specific ones, a condition on the measurements; the first that fits wins.
- **Observation** rules look at each stage or at the whole run, and may fire alongside.
- **Blame** says whose side the problem is on: `local` (this machine or program),
  `network` (the path in between), `remote` (the server), `policy` (a deliberate refusal).
- Words in `<angle brackets>` are filled from the measurements in a real report.
  `binance-diag probe <symbols> <options> --flag X` is the command that was run, with its
  options (`--resolve`, `--ca-bundle`, `--proxy`...), and `--flag X` set instead of any
  value it had: advice never silently drops what the run depended on.

"""


def _condition(rule: Rule) -> str:
    parts = []
    if rule.scope is Scope.FAILURE:
        where = f"`{rule.stage.value}`" if rule.stage else "any stage"
        kinds = ", ".join(f"`{k.value}`" for k in sorted(rule.kinds))
        if len(rule.kinds) > 8:
            kinds = "any error kind"
        parts.append(f"{where} failed with {kinds}")
    elif rule.scope is Scope.STAGE:
        parts.append(f"observation on `{rule.stage.value}`" if rule.stage
                     else "observation on any stage")
    else:
        parts.append("observation on the whole run")
    name = rule.when.__name__
    if name != "always":
        parts.append(f"when {rule.when.__doc__ or name.replace('_', ' ')}")
    return "; ".join(parts)


def _severity(rule: Rule) -> str:
    text = rule.severity.value
    if rule.severity_when_healthy is not None:
        text += f" ({rule.severity_when_healthy.value} when every stage passed)"
    return text


def names_alternatives(rule: Rule) -> bool:
    """The finding offers more than one cause ("a firewall drops ..., or the route is
    broken"): the reader must learn what tells them apart."""
    return " or " in f"{rule.meaning} {rule.hypothesis}"


def _experiment_lines(rule: Rule) -> list[str]:
    """Which experiment separates the finding's alternatives (docs/experiments.md), what
    confirms or rules it out; or, for one that names alternatives, that none does yet."""
    lines = []
    if rule.separated_by:
        lines.append("- Separated by experiment: " + "; ".join(
            f"[`{name}`](experiments.md#{name.replace('.', '')}) ({SPECS[name].question})"
            for name in rule.separated_by))
    elif names_alternatives(rule):
        lines.append("- Separated by experiment: none - no experiment on the same target "
                     "tells these causes apart yet; the actions below do it by hand")
    if rule.confirmed_by:
        needs = " (the finding is drawn only then)" if rule.needs_confirmation else ""
        lines.append("- Confirmed by: " + "; ".join(p.describe() for p in rule.confirmed_by)
                     + needs)
    if rule.ruled_out_by:
        lines.append("- Ruled out by: " + "; ".join(p.describe() for p in rule.ruled_out_by))
    return lines


def render_catalog() -> str:
    doc = Placeholders()
    lines = [INTRO, "| id | severity | blame | matches |", "|---|---|---|---|"]
    for rule in RULES:
        lines.append(f"| [`{rule.id}`](#{rule.id.replace('.', '')}) | {_severity(rule)} | "
                     f"{rule.blame.value} | {_condition(rule)} |")
    lines.append("")
    for rule in RULES:
        lines += [
            f"## `{rule.id}`",
            "",
            f"**{_severity(rule)}** · blame **{rule.blame.value}** · {_condition(rule)}",
            "",
            rule.meaning,
            "",
            f"- Title: {fill(rule.title, doc)}",
            f"- Hypothesis: {fill(rule.hypothesis, doc)}",
        ]
        lines += _experiment_lines(rule)
        if rule.actions:
            lines.append("- Actions:")
            for action in rule.actions:
                note = f" *({action.note})*" if action.note else ""
                lines.append(f"  - {fill(action.text, doc)}{note}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(render_catalog(), end="")
