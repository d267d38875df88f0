"""The runner's verdicts, as pure functions of what a stage returned and how long it took."""

from binance_diag.model import ErrorKind, StageError, StageStatus
from binance_diag.probe.base import StageOutcome, passed
from binance_diag.probe.runner import past_deadline


def test_a_pass_after_the_deadline_is_a_timeout_that_keeps_its_details() -> None:
    late = past_deadline(passed(protocol="TLSv1.3"), duration_ms=2.5, budget_s=0.001)
    assert late.status is StageStatus.TIMEOUT
    assert late.error is not None and late.error.kind is ErrorKind.TIMEOUT
    assert late.error.message == ("timed out after 1.0 ms: it completed only 1.5 ms past "
                                  "its deadline")
    assert late.error.extra == {"completed_late_ms": 1.5}
    assert late.details == {"protocol": "TLSv1.3"}


def test_a_pass_on_time_and_a_failure_are_left_alone() -> None:
    on_time = passed(protocol="TLSv1.3")
    assert past_deadline(on_time, duration_ms=1.0, budget_s=0.001) is on_time
    refused = StageOutcome(StageStatus.FAILED, StageError(ErrorKind.REFUSED, "refused"))
    assert past_deadline(refused, duration_ms=9.0, budget_s=0.001) is refused
