"""`probe --count N --interval S`: N full probes in a row, one summary in every format.

Each run is a whole probe under its own guard (loop watchdog, hard deadline per stage, the
run budget), so the whole command is bounded by `count_budget`: N run budgets and N-1
intervals. The runs fold into a `ProbeSeries` as they finish; the summary (series.py) is
delivered like a report (run/deliver.py: --output, step summary, exit code). Ctrl-C ends it
between or during runs with the summary of the runs that finished.
"""

from __future__ import annotations

import dataclasses
import gc
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ..config.guard import DEFAULT_SETTINGS, GuardSettings
from ..config.probe import ProbeConfig
from ..exitcodes import ExitCode, exit_code_for
from ..figures.series import CountSummary, ProbeSeries, count_exit_code
from ..model import OverallStatus, ProbeReport, Thresholds
from ..probe.base import Tracer
from ..probe.budget import run_budget
from ..probe.guard import ProbeGuard
from ..probe.runner import STAGES, ProbeProgress, run_probe
from ..render.formats import OutputFormat
from ..timing import utc_now
from ..watchdog.supervise import run_abandoning
from .deliver import Publication, deliver
from .outfile import check_output

if TYPE_CHECKING:
    from ..render.base import Formatter


def count_budget(config: ProbeConfig, count: int, interval: float,
                 guard: GuardSettings = DEFAULT_SETTINGS) -> float:
    """The longest `probe --count` takes: N run budgets and N-1 intervals."""
    return count * run_budget(config, guard.grace) + (count - 1) * interval


@dataclass(frozen=True)
class CountDelivery:
    """The summary of N runs, as `deliver` hands it out."""

    summary: CountSummary
    what: str = "summary"

    @property
    def exit_code(self) -> ExitCode:
        return self.summary.exit_code

    def render(self, formatter: Formatter) -> str:
        return formatter.format_count(self.summary)

    def show(self, formatter: Formatter, stream: TextIO) -> None:
        stream.write(self.render(formatter))
        stream.flush()

    def annotation(self) -> str | None:
        from ..render.github import escape_data, escape_property

        if self.summary.exit_code is ExitCode.OK:
            return None
        level = "warning" if self.summary.exit_code is ExitCode.WARNING else "error"
        title = escape_property(f"binance-diag probe --count {self.summary.requested}")
        message = escape_data(f"{self.summary.headline} — {self.summary.target_url}")
        return f"::{level} title={title}::{message}"


@dataclass
class CountRun:
    """The runs so far: what the summary is built from, whoever publishes it."""

    config: ProbeConfig
    count: int
    interval: float
    max_failures: int | None
    command: str
    thresholds: Thresholds | None = None
    series: ProbeSeries = dataclasses.field(default_factory=ProbeSeries)
    codes: list[tuple[ExitCode, bool]] = dataclasses.field(default_factory=list)
    started: float = dataclasses.field(default_factory=time.monotonic)
    started_at: datetime = dataclasses.field(default_factory=utc_now)

    def add(self, report: ProbeReport) -> ProbeReport:
        """Diagnose one finished run and fold it in."""
        from ..diagnose import diagnose_report

        if self.thresholds:
            report = dataclasses.replace(report, thresholds=self.thresholds)
        report = diagnose_report(report)
        self.series.add(report)
        self.codes.append((exit_code_for(report), report.status is OverallStatus.FAILED))
        return report

    def summary(self, interrupted: bool = False) -> CountSummary:
        return CountSummary(
            series=self.series, requested=self.count, interval_s=self.interval,
            max_failures=self.max_failures,
            exit_code=count_exit_code(self.codes, self.max_failures),
            target_url=self.config.target.url, command=self.command,
            started_at=self.started_at, duration_s=time.monotonic() - self.started,
            interrupted=interrupted)


def run_count_command(
    config: ProbeConfig, output_format: OutputFormat, output: Path | None, command: str,
    count: int, interval: float, max_failures: int | None = None,
    thresholds: Thresholds | None = None, guard: GuardSettings = DEFAULT_SETTINGS,
    stderr: TextIO | None = None,
) -> ExitCode:
    """N probes `interval` seconds apart (from one's end to the next's start), one summary
    delivered; the exit code of `count_exit_code`. A line per run goes to stderr."""
    check_output(output)
    stderr = stderr or sys.stderr
    gc.freeze()  # imports out of the collector's sight: see run/__init__.py
    runs = CountRun(config, count, interval, max_failures, command, thresholds)

    def publish(summary: CountSummary) -> ExitCode:
        return deliver(CountDelivery(summary), output_format, output)

    publication = Publication(publish, "summary")
    try:
        for number in range(1, count + 1):
            if number > 1:
                time.sleep(interval)
            report = runs.add(_one_run(config, command, guard, lambda partial: (
                publication.from_deadline(_with(runs, partial)))))
            _say(stderr, number, count, report)
    except KeyboardInterrupt:
        publication.from_run(runs.summary(interrupted=True))
        raise
    return publication.from_run(runs.summary())


def _one_run(config: ProbeConfig, command: str, guard: GuardSettings,
             on_expiry: Callable[[ProbeReport], None]) -> ProbeReport:
    """One full probe under its own guard (loop watchdog, hard deadlines, run budget)."""
    tracer = Tracer()
    progress = ProbeProgress(config, command)
    watch = ProbeGuard(progress, tracer, on_expiry, guard)
    with watch:
        return run_abandoning(run_probe(config, tracer, command, STAGES, progress,
                                        loop=watch.stats))


def _with(runs: CountRun, partial: ProbeReport) -> CountSummary:
    """The hard deadline's summary: the runs so far and the one it stopped."""
    runs.add(partial)
    return runs.summary()


def _say(stream: TextIO, number: int, count: int, report: ProbeReport) -> None:
    failed = report.failed_stage
    why = "" if failed is None else f" at {failed.name.value}: " + (
        failed.error.kind.value if failed.error else failed.status.value)
    print(f"binance-diag: probe {number}/{count}: {report.status.value}{why}", file=stream,
          flush=True)
