"""Running the endpoint matrix for the CLI: every endpoint probed at once, then one verdict.

The probes run concurrently in one event loop, each with its own stage deadlines, so the
whole matrix ends within one probe's budget plus the grace, however many endpoints there
are. One loop watchdog watches the shared loop, and one hard deadline (the longest probe's
budget) stands in for a single probe's per-stage ones. Binance counts
connections per IP (300 attempts per 5 minutes): the matrix opens one per endpoint, and
refuses to open more than `MAX_ENDPOINTS` at once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ..config.errors import ConfigError
from ..config.guard import DEFAULT_SETTINGS, GuardSettings
from ..config.probe import ProbeConfig
from ..diagnose.matrix import EndpointMatrix, build_matrix
from ..exitcodes import ExitCode
from ..model import ProbeReport, Thresholds
from ..probe.base import StageListener
from ..probe.runner import run_probe
from ..render.formats import OutputFormat
from .deliver import Publication, deliver, publishing_within
from .interrupt import StopSignals, until_stopped
from .outfile import check_output

if TYPE_CHECKING:
    from ..probe.base import Tracer
    from ..probe.runner import ProbeProgress
    from ..render.base import Formatter

MAX_ENDPOINTS = 32
"""More at once would look like a connection flood to Binance (and to a firewall)."""


def check_matrix_size(count: int) -> None:
    """Refuse a matrix that would spend a visible share of Binance's connection budget."""
    if count > MAX_ENDPOINTS:
        raise ConfigError(
            f"{count} endpoints: at most {MAX_ENDPOINTS} are probed at once (Binance allows "
            "300 connection attempts per 5 minutes per IP)"
        )


def run_matrix_command(
    configs: Sequence[ProbeConfig], output_format: OutputFormat, output: Path | None,
    command: str, thresholds: Thresholds | None = None,
    guard: GuardSettings = DEFAULT_SETTINGS, *,
    listeners: Sequence[StageListener] = (),
) -> ExitCode:
    """Probe the endpoints under one loop watchdog and publish the matrix; its exit code.

    As for one probe, whichever finishes first publishes: the run, or the hard deadline
    (the longest probe's budget, from its own thread, when the shared loop is stuck).
    Ctrl-C / SIGTERM stop the probes still running, which are reported as interrupted; the
    matrix of what is known is published, then the exit is 130 / 143 (run/interrupt.py)."""
    check_matrix_size(len(configs))
    check_output(output)
    gc.freeze()  # imports out of the collector's sight: see run/__init__.py
    if sys.stderr.isatty():
        print(f"binance-diag: probing {len(configs)} endpoints concurrently...",
              file=sys.stderr, flush=True)

    def publish(reports: list[ProbeReport]) -> ExitCode:
        return deliver(MatrixDelivery(diagnosed(reports, thresholds)), output_format, output)

    publication = Publication(publish, "matrix")
    matrix = MatrixRun(configs, command, guard, publication.from_deadline, listeners)
    stop = StopSignals(
        escalate=lambda signum: publication.from_deadline(
            matrix.interrupted(stop.signal_name), exit_code=stop.exit_code,
            last_line=stop.last_line),
        on_signal=lambda signum: matrix.event(f"{stop.signal_name} received: the run stops "
                                              "here, the matrix is partial"))
    started = time.monotonic()
    with stop:
        reports = matrix.run_bounded(stop)
        # Rendering and writing stay inside the run's budget too (run/deliver.py).
        with publishing_within(matrix.guard.budget - (time.monotonic() - started), output):
            code = publication.from_run(reports)
    stop.reraise()
    return code


def run_bounded(
    configs: Sequence[ProbeConfig], command: str = "", guard: GuardSettings = DEFAULT_SETTINGS,
    on_expiry: Callable[[list[ProbeReport]], None] | None = None,
    listeners: Sequence[StageListener] = (),
) -> list[ProbeReport]:
    """Run the matrix so that nothing can make it outlive its budget (`MatrixRun`)."""
    return MatrixRun(configs, command, guard, on_expiry, listeners).run_bounded()


class MatrixRun:
    """The probes of one matrix and how far each got: what a signal or the hard deadline
    reports from.

    Each probe supervises its own stages, and `run_abandoning` returns even if a task
    ignores its cancellation. The guard's one watchdog watches the shared loop (every report
    gets its figures); if the loop is stuck past the budget plus the grace, its hard deadline
    hands `on_expiry` the reports as far as they got; the faulthandler backstop comes last.
    `listeners` hear every probe's stage changes (tests block the loop with one).
    """

    def __init__(
        self, configs: Sequence[ProbeConfig], command: str = "",
        guard: GuardSettings = DEFAULT_SETTINGS,
        on_expiry: Callable[[list[ProbeReport]], None] | None = None,
        listeners: Sequence[StageListener] = (),
    ) -> None:
        from ..probe.base import Tracer
        from ..probe.guard import ConcurrentProbesGuard
        from ..probe.runner import ProbeProgress

        self.command = command
        self.runs = [(ProbeProgress(c, command), Tracer(listeners=list(listeners)))
                     for c in configs]
        self.guard = ConcurrentProbesGuard(self.runs, on_expiry, guard)
        self.finished: dict[int, ProbeReport] = {}
        """The reports of the probes that returned, by position: a signal keeps them."""

    def run_bounded(self, stop: StopSignals | None = None) -> list[ProbeReport]:
        """Every report, within the budget (the longest probe's); after a signal (`stop`),
        the finished ones and the others `interrupted`."""
        from ..watchdog.supervise import run_abandoning

        with self.guard:
            if stop is None:
                return run_abandoning(self._all())
            return run_abandoning(until_stopped(self._all(), stop, self.interrupted))

    def interrupted(self, signal_name: str) -> list[ProbeReport]:
        """The matrix's reports once a signal stopped it: a finished probe's report stands,
        the others end at the stage they were in (`interrupted_report`)."""
        from ..probe.runner import interrupted_report

        stats = self.guard.stats()
        return [self.finished.get(index) or interrupted_report(progress, tracer, stats,
                                                               signal_name)
                for index, (progress, tracer) in enumerate(self.runs)]

    def event(self, text: str) -> None:
        """A line in the timeline of every probe still running."""
        for index, (_, tracer) in enumerate(self.runs):
            if index not in self.finished:
                tracer.event(text)

    async def _all(self) -> list[ProbeReport]:
        self.guard.start()
        try:
            return list(await asyncio.gather(*(
                self._one(index, progress, tracer)
                for index, (progress, tracer) in enumerate(self.runs))))
        finally:
            self.guard.stand_down()

    async def _one(self, index: int, progress: ProbeProgress, tracer: Tracer) -> ProbeReport:
        report = await run_probe(progress.config, tracer, self.command, progress=progress,
                                 loop=self.guard.stats)
        self.finished[index] = report
        return report


def diagnosed(reports: Sequence[ProbeReport], thresholds: Thresholds | None = None
              ) -> EndpointMatrix:
    """The matrix of the reports once each is diagnosed (with `--warn`/`--crit` applied)."""
    from ..diagnose import diagnose_report

    if thresholds is not None:
        reports = [dataclasses.replace(r, thresholds=thresholds) for r in reports]
    return build_matrix([diagnose_report(r) for r in reports])


@dataclass(frozen=True)
class MatrixDelivery:
    """The diagnosed matrix, as `deliver` hands it out."""

    matrix: EndpointMatrix
    what: str = "matrix"

    @property
    def exit_code(self) -> ExitCode:
        return self.matrix.verdict.exit_code

    def render(self, formatter: Formatter) -> str:
        return formatter.format_matrix(self.matrix)

    def show(self, formatter: Formatter, stream: TextIO) -> None:
        formatter.show_matrix(self.matrix, stream)

    def annotation(self) -> str | None:
        from ..render.github import matrix_annotation

        return matrix_annotation(self.matrix)
