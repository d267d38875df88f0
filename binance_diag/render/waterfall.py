"""The stages on one time axis: what the terminal, Mermaid and SVG waterfalls draw.

Pure. httpstat's picture: each stage is a bar that starts when the stage started and lasts as
long as it took, on one axis from the first stage's start to the last one's end. Each stage's
budget (its timeout) is its deadline on that axis; a deadline past the axis' end is drawn as
"further right". A stage that never ran has no bar, only its row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..diagnose.describe import crossed_threshold, not_applicable
from ..diagnose.matrix import error_detail
from ..model import ProbeReport, StageName, StageResult, StageStatus
from ..timing import format_ms

Outcome = Literal["ok", "slow", "failed", "not reached", "not used"]
"""`slow`: passed, over a `--warn`/`--crit` threshold; `failed`: failed or timed out."""
MARKS: dict[Outcome, str] = {"ok": "✅", "slow": "⚠️", "failed": "❌", "not reached": "➖",
                             "not used": "➖"}


@dataclass(frozen=True)
class Step:
    stage: StageName
    outcome: Outcome
    result: str
    """`ok`, `ok, over --warn tls=50`, `timeout`, `refused`, `HTTP 451`, `not reached`..."""
    start_ms: float | None
    duration_ms: float | None
    budget_ms: float

    @property
    def ran(self) -> bool:
        return self.start_ms is not None and self.duration_ms is not None

    @property
    def end_ms(self) -> float:
        return (self.start_ms or 0.0) + (self.duration_ms or 0.0)

    @property
    def deadline_ms(self) -> float:
        return (self.start_ms or 0.0) + self.budget_ms

    @property
    def time(self) -> str:
        return format_ms(self.duration_ms) if self.duration_ms is not None else "–"

    @property
    def budget(self) -> str:
        return f"{self.budget_ms / 1000:g} s"


@dataclass(frozen=True)
class Waterfall:
    steps: tuple[Step, ...]
    span_ms: float
    """The axis runs from 0 (the first stage's start) to here (the last bar's end)."""

    @property
    def bars(self) -> tuple[Step, ...]:
        return tuple(step for step in self.steps if step.ran)

    def fraction(self, ms: float) -> float:
        """Where `ms` falls on the axis, 0..1 (more than 1 past its end)."""
        return ms / self.span_ms


def waterfall(report: ProbeReport) -> Waterfall:
    started = [s.started_at for s in report.stages if s.started_at is not None]
    origin = min(started) if started else None
    steps = []
    cursor = 0.0  # where a stage without a start time would have started: after the last
    for stage in report.stages:
        start: float | None = None
        if stage.duration_ms is not None:
            start = cursor
            if stage.started_at is not None and origin is not None:
                start = (stage.started_at - origin).total_seconds() * 1000
            cursor = start + stage.duration_ms
        steps.append(Step(stage.name, _outcome(report, stage), _result(report, stage),
                          start, stage.duration_ms, stage.timeout_s * 1000))
    span = max((s.end_ms for s in steps if s.ran), default=0.0)
    return Waterfall(tuple(steps), max(span, 1.0))


def _outcome(report: ProbeReport, stage: StageResult) -> Outcome:
    if not_applicable(stage, report.target.secure):
        return "not used"
    if stage.status is StageStatus.SKIPPED:
        return "not reached"
    if stage.status is not StageStatus.OK:
        return "failed"
    return "slow" if crossed_threshold(report.thresholds, stage) else "ok"


def _result(report: ProbeReport, stage: StageResult) -> str:
    outcome = _outcome(report, stage)
    if outcome in ("not used", "not reached"):
        return outcome
    if stage.error is not None:
        return error_detail(stage.error) or stage.error.kind.value
    crossed = crossed_threshold(report.thresholds, stage)
    if crossed is not None:
        level, limit = crossed
        return f"ok, over --{level} {stage.name.value}={limit:g}"
    return "ok"
