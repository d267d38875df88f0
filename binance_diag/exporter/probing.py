"""One scrape's probe: on its own thread and event loop, under the guard, answered in time.

The probe runs exactly as `binance-diag probe` runs it (`probe.runner.run_probe` under
`probe.guard.ProbeGuard`), with two differences a server needs: the guard's hard deadline
hands its report to the waiting scrape instead of ending the process, and no faulthandler
backstop is armed (it is one per process and would kill the server for one probe). The scrape
waits for the first of: the run's report, the hard deadline's report, or the end of its
budget - then it answers from what the run knows so far, and a probe thread still stuck is
left behind (counted as overdue) while its concurrency slot stays taken until it ends.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass

from ..config.guard import DEFAULT_SETTINGS, GuardSettings
from ..config.probe import ProbeConfig
from ..model import ErrorKind, LoopStats, ProbeReport, StageError, StageResult, StageStatus
from ..probe.base import Tracer
from ..probe.guard import ProbeGuard
from ..probe.runner import (
    STAGES,
    ProbeProgress,
    StagePlan,
    build_report,
    plan_for,
    run_probe,
)
from ..timing import utc_now
from ..watchdog.hard_deadline import Backstop
from ..watchdog.supervise import run_abandoning
from .budget import fit_timeouts


@dataclass(frozen=True)
class ProbeRun:
    """A scrape's probe, diagnosed."""

    report: ProbeReport
    duration_s: float
    timeout_factor: float
    """How the stage timeouts were scaled to fit the budget (1.0: as configured)."""
    cut_short: bool
    """The budget ran out first: the report is what the run knew then."""


class ProbeSlots:
    """At most `limit` probes at once; a slot is held until the probe's thread ends, even
    after its scrape was answered, so stuck probes cannot pile up without bound."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._semaphore = threading.BoundedSemaphore(limit)
        self._lock = threading.Lock()
        self.in_flight = 0
        self.overdue = 0
        """Probes whose scrape was answered while their thread still ran."""

    def acquire(self, timeout: float) -> bool:
        if not self._semaphore.acquire(timeout=max(timeout, 0.0)):
            return False
        with self._lock:
            self.in_flight += 1
        return True

    def release(self) -> None:
        with self._lock:
            self.in_flight -= 1
        self._semaphore.release()

    def mark_overdue(self, delta: int) -> None:
        with self._lock:
            self.overdue += delta


class _Unarmed(Backstop):
    """No faulthandler timer: in a server one stuck probe must not end the process."""

    def arm(self) -> _Unarmed:
        return self

    def disarm(self) -> None:
        pass


class _Answer:
    """The first report offered wins: the run's or the hard deadline's."""

    def __init__(self) -> None:
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self.report: ProbeReport | None = None
        self.error: BaseException | None = None

    def offer(self, report: ProbeReport) -> None:
        with self._lock:
            if not self._ready.is_set():
                self.report = report
                self._ready.set()

    def fail(self, error: BaseException) -> None:
        with self._lock:
            if not self._ready.is_set():
                self.error = error
                self._ready.set()

    def wait(self, timeout: float) -> ProbeReport | None:
        self._ready.wait(max(timeout, 0.0))
        if self.error is not None:
            raise self.error
        return self.report


def probe_within(
    config: ProbeConfig, budget: float, *, command: str = "",
    settings: GuardSettings = DEFAULT_SETTINGS, slots: ProbeSlots | None = None,
    stages: StagePlan = STAGES,
) -> ProbeRun:
    """Probe `config` in at most `budget` seconds; the slot (already acquired) is released
    when the probe's thread ends. `stages`: the real ones unless a test brings its own."""
    from ..diagnose import diagnose_report

    started = time.perf_counter()
    fitted = fit_timeouts(config.timeouts, budget,
                          (name for name, _ in plan_for(config, stages)), config.experiments)
    config = dataclasses.replace(config, timeouts=fitted.timeouts,
                                 experiments=fitted.experiments)
    tracer = Tracer()
    if fitted.factor < 1.0:
        also = "" if fitted.experiments is None else \
            f" (and the experiments' budget, now {fitted.experiments:g} s)"
        tracer.event(f"exporter: stage timeouts scaled by {fitted.factor:.3f}{also} to fit "
                     f"the scrape's budget of {budget:g} s")
    progress = ProbeProgress(config, command)
    answer = _Answer()
    guard = ProbeGuard(progress, tracer, answer.offer, settings)
    guard.backstop = _Unarmed(0.0)
    lifecycle = _Lifecycle(slots)

    def work() -> None:
        try:
            with guard:
                report = run_abandoning(run_probe(config, tracer, command, stages, progress,
                                                  loop=guard.stats))
            answer.offer(report)
        except BaseException as exc:  # noqa: BLE001 - handed to the scrape, which says so
            answer.fail(exc)
        finally:
            lifecycle.thread_ended()

    thread = threading.Thread(target=work, name=f"probe {config.target.url}", daemon=True)
    thread.start()
    report = answer.wait(started + budget - time.perf_counter())
    cut_short = report is None
    if report is None:
        report = cut_short_report(progress, tracer, guard.stats(), budget)
    lifecycle.scrape_answered()
    return ProbeRun(diagnose_report(report), time.perf_counter() - started, fitted.factor,
                    cut_short)


class _Lifecycle:
    """Who ended first, the probe's thread or its scrape: a thread still running when the
    scrape is answered is overdue until it ends, and its slot is released only then."""

    def __init__(self, slots: ProbeSlots | None) -> None:
        self.slots = slots
        self._lock = threading.Lock()
        self._ended = False
        self._overdue = False

    def scrape_answered(self) -> None:
        with self._lock:
            if not self._ended and self.slots is not None:
                self._overdue = True
                self.slots.mark_overdue(1)

    def thread_ended(self) -> None:
        with self._lock:
            self._ended = True
            if self._overdue and self.slots is not None:
                self.slots.mark_overdue(-1)
        if self.slots is not None:
            self.slots.release()


def cut_short_report(progress: ProbeProgress, tracer: Tracer, loop: LoopStats,
                     budget: float) -> ProbeReport:
    """The report when the budget ran out first: the stage running is a timeout (cut short
    by the scrape's budget), the ones after it not reached."""
    snapshot = dataclasses.replace(progress, results=list(progress.results))
    reported = {r.name for r in snapshot.results}
    stage = snapshot.current or next((n for n in snapshot.plan if n not in reported), None)
    extra: list[StageResult] = []
    if stage is not None and stage not in reported:
        started = snapshot.current_started_at if snapshot.current is stage else None
        started = started or snapshot.generated_at
        elapsed_ms = (utc_now() - started).total_seconds() * 1000
        extra.append(StageResult(
            stage, StageStatus.TIMEOUT, snapshot.config.timeouts.for_stage(stage), started,
            round(elapsed_ms, 3),
            StageError(ErrorKind.TIMEOUT, f"cut short: the scrape's budget of {budget:g} s "
                       "ran out before the stage ended", {"scrape_budget_s": budget})))
    tracer.event(f"exporter: the scrape's budget of {budget:g} s ran out; answered with what "
                 "the run knew")
    return build_report(snapshot, tracer, loop, extra)

