"""diagnose/rule.py: what a rule is (data plus predicates), its template checks, and how
its words are filled for a report and for docs/findings.md. Fed rules and stage results."""

from __future__ import annotations

import pytest

from binance_diag.diagnose.facts import Facts
from binance_diag.diagnose.rule import (
    Action,
    Filled,
    Placeholders,
    Rule,
    Scope,
    Subject,
    always,
    fill,
    no_evidence,
    no_values,
)
from binance_diag.model import (
    Blame,
    ErrorKind,
    Severity,
    StageError,
    StageName,
    StageResult,
    StageStatus,
)
from tests.reports import make_report

TLS, TCP = StageName.TLS, StageName.TCP
FACTS = Facts(make_report(fail=TLS, diagnosed=False))


def rule(scope: Scope = Scope.STAGE, **fields: object) -> Rule:
    base: dict[str, object] = {"id": "test.rule", "scope": scope, "severity": Severity.WARNING,
                               "blame": Blame.NETWORK, "title": "a title",
                               "meaning": "What it means.", "hypothesis": "a hypothesis"}
    return Rule(**{**base, **fields})  # type: ignore[arg-type]


def failed(name: StageName, kind: ErrorKind) -> StageResult:
    return StageResult(name, StageStatus.FAILED, 5.0, error=StageError(kind, "x"))


def test_the_defaults_accept_everything_and_say_nothing() -> None:
    assert always(FACTS, None)
    assert no_evidence(FACTS, None) == ()
    assert no_values(FACTS, None) == {}
    plain = rule()
    assert plain.matches(FACTS, None)
    assert plain.templates == ("a title", "a hypothesis", "")


def test_a_failure_rule_must_name_the_error_kinds_it_explains() -> None:
    with pytest.raises(ValueError, match="test.rule: a failure rule names the error kinds"):
        rule(Scope.FAILURE)


def test_a_failure_rule_matches_only_its_kinds_of_failure() -> None:
    reset = rule(Scope.FAILURE, kinds=frozenset({ErrorKind.RESET}))
    assert reset.matches(FACTS, failed(TLS, ErrorKind.RESET))
    assert reset.matches(FACTS, failed(TCP, ErrorKind.RESET))  # no stage: any stage
    assert not reset.matches(FACTS, failed(TLS, ErrorKind.TIMEOUT))
    assert not reset.matches(FACTS, StageResult(TLS, StageStatus.OK, 5.0))  # no error
    assert not reset.matches(FACTS, None)  # the report as a whole is no failure


def test_a_stage_rule_matches_its_stage_when_its_condition_holds() -> None:
    seen: list[tuple[Facts, Subject]] = []

    def slow(facts: Facts, subject: Subject) -> bool:
        seen.append((facts, subject))
        return subject is not None and (subject.duration_ms or 0) > 100

    tls_rule = rule(stage=TLS, when=slow)
    fast = StageResult(TLS, StageStatus.OK, 5.0, duration_ms=50.0)
    late = StageResult(TLS, StageStatus.OK, 5.0, duration_ms=500.0)
    assert tls_rule.matches(FACTS, late)
    assert not tls_rule.matches(FACTS, fast)
    assert not tls_rule.matches(FACTS, StageResult(TCP, StageStatus.OK, 5.0, duration_ms=500.0))
    assert not tls_rule.matches(FACTS, None)
    assert seen == [(FACTS, late), (FACTS, fast)]  # asked only once the stage matched


@pytest.mark.parametrize(
    "template",
    ["{status!r}", "{timeout:.2f}", "{0}", "{}", "{stage.name}", "{hosts[0]}",
     "{again:--timeout {t!s}}", "{again:{x:>3}}"],
)
def test_templates_take_plain_names_only(template: str) -> None:
    for field in ("title", "hypothesis", "analysis"):
        with pytest.raises(ValueError, match="must be a plain name"):
            rule(**{field: template})
    with pytest.raises(ValueError, match="test.rule: template field"):
        rule(actions=(Action(f"do {template}"),))


def test_only_the_command_takes_a_spec_of_plain_fields() -> None:
    again = rule(actions=(Action("Try `{again:--endpoint spot-443 {extra} !--format}`"),))
    assert again.templates[-1] == "Try `{again:--endpoint spot-443 {extra} !--format}`"
    assert rule(title="{{literal braces}} and {host}").title.startswith("{{")


def test_filled_values_print_unknown_for_what_was_not_measured() -> None:
    values = Filled({"host": "stream.binance.com"})
    assert fill("{host} after {timeout}", values) == "stream.binance.com after unknown"


def test_placeholders_print_names_and_an_edited_command() -> None:
    values = Placeholders()
    assert fill("{host} in {timeout}", values) == "<host> in <timeout>"
    assert fill("`{again}`", values) == "`binance-diag probe <symbols> <options>`"
    assert fill("`{again:--endpoint spot-443}`", values) == \
        "`binance-diag probe <symbols> <options> --endpoint spot-443`"
    assert fill("`{again:{flag} {longer} !--format !--output}`", values) == \
        ("`binance-diag probe <symbols> <options> <flag> <longer> (without --format / "
         "--output)`")


def test_an_action_is_offered_always_unless_told_when() -> None:
    plain = Action("Probe again")
    assert (plain.when, plain.note) == (always, "")
    only_tls = Action("Check the proxy", when=lambda facts, subject: subject is not None
                      and subject.name is TLS, note="when TLS failed")
    assert only_tls.when(FACTS, failed(TLS, ErrorKind.RESET))
    assert not only_tls.when(FACTS, failed(TCP, ErrorKind.RESET))
