"""Probes in a row, summarised: per-stage success %, p50/p95/max, failures by error kind.

The picture mtr and blackbox_exporter give for their protocols, for ours. Shared by
`probe --count N` and `watch` (its periodic fresh probes). Pure: it reads finished reports.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from ..model import JSON, OverallStatus, ProbeReport, StageName, StageStatus
from .stats import Distribution


@dataclass
class StageSeries:
    """One stage across the runs that reached it (a skipped stage does not count)."""

    name: StageName
    ran: int = 0
    passed: int = 0
    durations_ms: Distribution = field(default_factory=Distribution)
    """Durations of the runs that passed: a timeout's duration is its budget, not a speed."""
    failures: Counter[str] = field(default_factory=Counter)
    """Error kind -> how many runs failed with it."""

    @property
    def success_pct(self) -> float | None:
        return round(100.0 * self.passed / self.ran, 1) if self.ran else None

    def to_dict(self) -> dict[str, JSON]:
        figures = self.durations_ms.summary()
        return {"stage": self.name.value, "runs": self.ran, "passed": self.passed,
                "success_pct": self.success_pct, "p50_ms": figures["p50"],
                "p95_ms": figures["p95"], "max_ms": figures["max"],
                "failures": dict(self.failures.most_common())}


@dataclass(frozen=True)
class RunOutcome:
    """One run, in a line: when, status, and where and why it failed."""

    at: datetime
    status: OverallStatus
    failed_stage: str | None = None
    error_kind: str | None = None
    message: str | None = None

    def to_dict(self) -> dict[str, JSON]:
        return {"at": self.at.isoformat(timespec="milliseconds"), "status": self.status.value,
                "failed_stage": self.failed_stage, "error_kind": self.error_kind,
                "message": self.message}


RECENT_RUNS = 100
"""Runs kept one by one (the rest only in the statistics): memory stays flat for a watch."""


@dataclass
class ProbeSeries:
    """Every run's report folded in as it comes; nothing grows with the number of runs but
    the per-stage counters (bounded by the error kinds) and the last `RECENT_RUNS` runs."""

    stages: dict[StageName, StageSeries] = field(default_factory=dict)
    runs: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    recent: list[RunOutcome] = field(default_factory=list)
    worst: ProbeReport | None = None
    """The first run with the worst status: the one worth a full report."""
    last: ProbeReport | None = None

    def add(self, report: ProbeReport) -> RunOutcome:
        self.runs += 1
        self.statuses[report.status.value] += 1
        self.last = report
        if self.worst is None or _rank(report.status) > _rank(self.worst.status):
            self.worst = report
        for stage in report.stages:
            if stage.status is StageStatus.SKIPPED:
                continue
            series = self.stages.setdefault(stage.name, StageSeries(stage.name))
            series.ran += 1
            if stage.passed:
                series.passed += 1
                if stage.duration_ms is not None:
                    series.durations_ms.add(stage.duration_ms)
            else:
                series.failures[stage.error.kind.value if stage.error else
                                stage.status.value] += 1
        failed = report.failed_stage
        outcome = RunOutcome(
            report.generated_at, report.status,
            failed.name.value if failed else None,
            failed.error.kind.value if failed and failed.error else None,
            failed.error.message if failed and failed.error else None)
        self.recent.append(outcome)
        del self.recent[:-RECENT_RUNS]
        return outcome

    @property
    def failed_runs(self) -> int:
        return self.statuses.get(OverallStatus.FAILED.value, 0)

    @property
    def success_pct(self) -> float | None:
        ok = self.runs - self.failed_runs
        return round(100.0 * ok / self.runs, 1) if self.runs else None

    def ordered(self) -> list[StageSeries]:
        return [self.stages[name] for name in StageName if name in self.stages]

    def to_dict(self) -> dict[str, JSON]:
        return {"runs": self.runs, "success_pct": self.success_pct,
                "statuses": dict(self.statuses),
                "stages": [s.to_dict() for s in self.ordered()],
                "recent": [r.to_dict() for r in self.recent]}

    def table_lines(self) -> list[str]:
        """A fixed-width table, one line per stage (the plain view and the live view)."""
        lines = [f"{'stage':<14}{'ok %':>7}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}"
                 "  failures"]
        for series in self.ordered():
            figures = series.durations_ms.summary()
            failures = ", ".join(f"{kind} x{n}" for kind, n in series.failures.most_common())
            lines.append(f"{series.name.value:<14}{_cell(series.success_pct):>7}"
                         f"{_cell(figures['p50']):>10}{_cell(figures['p95']):>10}"
                         f"{_cell(figures['max']):>10}  {failures or '-'}")
        return lines


def _cell(value: float | int | None) -> str:
    return "-" if value is None else f"{value:g}"


def _rank(status: OverallStatus) -> int:
    return {OverallStatus.OK: 0, OverallStatus.DEGRADED: 1, OverallStatus.FAILED: 2}[status]
