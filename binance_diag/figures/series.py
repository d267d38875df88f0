"""Probes in a row, summarised: per-stage success %, p50/p95/max, failures by error kind.

The picture mtr and blackbox_exporter give for their protocols, for ours. Shared by
`probe --count N` (`CountSummary`, which every format renders) and `watch` (its periodic
fresh probes). Pure: it reads finished reports. On the ground floor, so that render/,
watch/ and run/ all may import it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from ..exitcodes import ExitCode
from ..model import JSON, OverallStatus, ProbeReport, StageName, StageStatus
from .distribution import Distribution


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


COUNT_SCHEMA_ID = "binance-diag/count/1"
"""`probe --count N --format json`'s document (schema/count-1.schema.json)."""


def count_exit_code(runs: list[tuple[ExitCode, bool]], max_failures: int | None) -> ExitCode:
    """The exit code of N runs, each (its exit code, whether it failed): the worst run's;
    with `max_failures`, up to that many failed runs are tolerated (the worst of the others
    counts) and one more is CRITICAL. No run at all is UNKNOWN."""
    if not runs:
        return ExitCode.UNKNOWN
    if max_failures is None:
        return max(code for code, _ in runs)
    if sum(failed for _, failed in runs) > max_failures:
        return ExitCode.CRITICAL
    return max((code for code, failed in runs if not failed), default=ExitCode.OK)


VERDICTS = {ExitCode.OK: "OK", ExitCode.WARNING: "WARNING", ExitCode.CRITICAL: "CRITICAL",
            ExitCode.UNKNOWN: "UNKNOWN"}


@dataclass(frozen=True)
class CountSummary:
    """`probe --count N`: the series of runs, how it was asked, and its verdict."""

    series: ProbeSeries
    requested: int
    interval_s: float
    max_failures: int | None
    exit_code: ExitCode
    target_url: str
    command: str
    started_at: datetime
    duration_s: float
    interrupted: bool = False

    @property
    def verdict(self) -> str:
        return VERDICTS[self.exit_code]

    @property
    def headline(self) -> str:
        """`3 of 5 probes ok (60.0 %), 2 failed (tolerated: 2)`: one line for every format."""
        series = self.series
        ok = series.runs - series.failed_runs
        tolerated = "" if self.max_failures is None else f" (tolerated: {self.max_failures})"
        stopped = f" of {self.requested} asked, interrupted" if self.interrupted else ""
        return (f"{ok} of {series.runs} probes ok ({_cell(series.success_pct)} %), "
                f"{series.failed_runs} failed{tolerated}{stopped}")

    def failed_runs(self) -> list[tuple[int, RunOutcome]]:
        """(run number from 1, outcome) of the failed runs still kept one by one."""
        first = self.series.runs - len(self.series.recent) + 1
        return [(first + i, run) for i, run in enumerate(self.series.recent)
                if run.failed_stage is not None]

    def to_dict(self) -> dict[str, JSON]:
        return {"schema": COUNT_SCHEMA_ID, "command": self.command,
                "target": {"url": self.target_url},
                "started_at": self.started_at.isoformat(timespec="milliseconds"),
                "duration_s": round(self.duration_s, 3),
                "requested": self.requested, "interval_s": self.interval_s,
                "max_failures": self.max_failures, "interrupted": self.interrupted,
                "verdict": self.verdict, "exit_code": int(self.exit_code),
                "failed_runs": self.series.failed_runs, **self.series.to_dict()}

    def text_lines(self) -> list[str]:
        """The plain summary: verdict, headline, the stage table, the failed runs."""
        lines = [f"binance-diag probe --count {self.requested}: {self.verdict}",
                 f"target {self.target_url}, every {self.interval_s:g} s",
                 self.headline, "", *self.series.table_lines()]
        failed = self.failed_runs()
        if failed:
            lines += ["", "failed runs:"]
            lines += [f"  #{n} {run.at.isoformat(timespec='seconds')} {run.failed_stage}: "
                      f"{run.error_kind or run.status.value} - {run.message or ''}"
                      for n, run in failed]
        return lines
