"""The probe under watch: the loop watchdog, a hard deadline per stage, a last-resort backstop.

Theory of operation: the runner supervises its stages from inside the event loop, which is
enough until the loop itself stops running (a blocking call) - then no timeout can fire. The
guard covers that from other threads. It listens to the tracer: when a stage starts, the
watchdog learns which stage to blame for a blockage and a `HardDeadline` is armed for the
stage's timeout plus `grace`; when the stage ends in time, the deadline stands down. If it
fires, the guard builds the report from what the run knows (`ProbeProgress`), with the stuck
stage marked as a timeout whose timer could not fire, the loop thread's stack, and the
watchdog's figures, and hands it to `on_expiry`, which publishes it and ends the process.

Behind that, a `Backstop` (faulthandler, a C thread) ends the process at the whole run's
budget plus a margin even if a C call holds the GIL and no Python thread can run.

`RunGuard` is that machinery; `ProbeGuard` arms it stage by stage for one probe, and
`ConcurrentProbesGuard` once for probes sharing a loop (the endpoint matrix), where a stuck
loop cannot be blamed on one probe's stage.
"""

from __future__ import annotations

import dataclasses
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Self

from ..config.guard import DEFAULT_SETTINGS, GuardSettings
from ..model import (
    ErrorKind,
    LoopStats,
    ProbeReport,
    StageError,
    StageName,
    StageResult,
    StageStatus,
)
from ..timing import format_ms, format_seconds, utc_now
from ..watchdog.hard_deadline import Backstop, DeadlineExpiry, ExpiryCause, HardDeadline
from ..watchdog.loop import LoopWatchdog
from .base import Tracer
from .budget import (
    BACKSTOP_MARGIN,
    REPORT_ALLOWANCE,
    experiments_budget,
    run_budget,
    stage_budget,
)
from .runner import ProbeProgress, build_report


class RunGuard(ABC):
    """The loop watchdog, the hard deadline and the backstop around one run of an event loop.

    Use as `with guard:` around the loop's run; from inside the loop, `arm` a hard deadline for
    what may be stuck and `stand_down` when it ended in time. What an expiry reports is the
    subclass's (`_expired`, called on the deadline's thread).
    """

    def __init__(self, budget: float, settings: GuardSettings = DEFAULT_SETTINGS) -> None:
        self.settings = settings
        self.watchdog = LoopWatchdog(settings.threshold, settings.interval, logger=None)
        self.backstop = Backstop(budget + BACKSTOP_MARGIN)  # `budget` counts the grace
        self._deadline: HardDeadline | None = None
        self._lock = threading.Lock()

    def __enter__(self) -> Self:
        self.backstop.arm()
        self.watchdog.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stand_down()
        self.watchdog.stop()
        self.backstop.disarm()

    def stats(self) -> LoopStats:
        return self.watchdog.stats()

    def loop_lag_ms(self) -> float | None:
        """How long the loop has been stuck right now, or None: for the live progress."""
        current = self.watchdog.current_blockage()
        return current.duration_ms if current is not None else None

    def arm(self, timeout: float, label: StageName | None = None) -> None:
        """From the loop thread: a hard deadline `timeout` (plus the grace) from now."""
        if self.watchdog.loop is None:
            self.watchdog.attach()  # from inside the loop: the heartbeat starts at once
        deadline = HardDeadline(timeout, self._expired, grace=self.settings.grace, label=label,
                                watchdog=self.watchdog)
        with self._lock:
            self._deadline = deadline
        deadline.start()

    def stand_down(self) -> None:
        """What the deadline bounds ended in time."""
        with self._lock:
            deadline, self._deadline = self._deadline, None
        if deadline is not None:
            deadline.cancel()

    @abstractmethod
    def _expired(self, expiry: DeadlineExpiry) -> None:
        """Deadline thread: the loop could not end the run; report from here."""


class ProbeGuard(RunGuard):
    """Watches one probe run; use as `with ProbeGuard(...):` around the event loop's run.

    A hard deadline per stage, armed and stood down as the tracer reports the stages."""

    def __init__(
        self,
        progress: ProbeProgress,
        tracer: Tracer,
        on_expiry: Callable[[ProbeReport], None],
        settings: GuardSettings = DEFAULT_SETTINGS,
    ) -> None:
        super().__init__(run_budget(progress.config, settings.grace), settings)
        self.progress = progress
        self.tracer = tracer
        self.on_expiry = on_expiry
        tracer.listeners.insert(0, self.stage_changed)  # first: armed before others run
        progress.experiment_listeners.append(self.experiments_changed)

    def experiments_changed(self, running: bool) -> None:
        """Runner listener, on the loop thread: a hard deadline over the experiments."""
        if not running:
            self.stand_down()
            return
        if self.watchdog.loop is None:
            self.watchdog.attach()
        self.arm(experiments_budget(self.progress.config))

    def stage_changed(self, stage: StageName, event: str, duration_ms: float | None) -> None:
        """Tracer listener, called on the loop thread as stages start and end."""
        if event != "start":
            self.stand_down()
            self.watchdog.stage = None
            return
        if self.watchdog.loop is None:
            self.watchdog.attach()  # before naming the stage: the heartbeat starts at once
        self.watchdog.stage = stage
        # After the runner's own supervision has had its full say (timeout, margin, the
        # cancelled stage's grace): the deadline only acts when the loop could not.
        self.arm(stage_budget(self.progress.config.timeouts.for_stage(stage)), label=stage)

    def _expired(self, expiry: DeadlineExpiry) -> None:
        """Deadline thread: the loop could not end the stage; report from here and exit."""
        self.on_expiry(self.partial_report(expiry))

    def partial_report(self, expiry: DeadlineExpiry) -> ProbeReport:
        return partial_report(self.progress, self.tracer, self.stats(), expiry)


class ConcurrentProbesGuard(RunGuard):
    """Watches several probes running at once in one loop (the endpoint matrix).

    One watchdog for the shared loop (every report gets its figures) and one hard deadline
    for them all: the longest probe's stage budget, armed by `start` from inside the loop.
    Per-stage deadlines could not say whose stage a stuck loop is stuck in.
    """

    def __init__(
        self,
        runs: Sequence[tuple[ProbeProgress, Tracer]],
        on_expiry: Callable[[list[ProbeReport]], None] | None = None,
        settings: GuardSettings = DEFAULT_SETTINGS,
    ) -> None:
        self.budget = max(run_budget(progress.config, settings.grace) for progress, _ in runs)
        super().__init__(self.budget, settings)
        self.runs = list(runs)
        self.on_expiry = on_expiry

    def start(self) -> None:
        """From inside the loop, as the probes start: the deadline of what they may take."""
        self.arm(self.budget - self.settings.grace - REPORT_ALLOWANCE)

    def _expired(self, expiry: DeadlineExpiry) -> None:
        """Deadline thread: every report as far as it got; a finished probe's stands."""
        if self.on_expiry is None:
            return
        stats = self.stats()
        reports = []
        for progress, tracer in self.runs:
            if progress.finished:
                # This probe had finished: its verdict stands, the deadline was not its own.
                done = dataclasses.replace(stats, deadline_enforced_by_watchdog=False)
                reports.append(build_report(progress, tracer, done))
            else:
                reports.append(partial_report(progress, tracer, stats, expiry))
        self.on_expiry(reports)


def partial_report(progress: ProbeProgress, tracer: Tracer, loop: LoopStats,
                   expiry: DeadlineExpiry) -> ProbeReport:
    """The report of a run a hard deadline ended: the stage running is a timeout whose timer
    could not fire (with the why and the stack), the ones after it not reached."""
    reported = {r.name for r in progress.results}
    stage = progress.current or (expiry.label if isinstance(expiry.label, StageName) else None)
    if stage is None:  # stopped between stages, or before the first: the next one is stuck
        stage = next((name for name in progress.plan if name not in reported), None)
    stuck: list[StageResult] = []
    if stage is not None and stage not in reported:
        started = progress.current_started_at if progress.current is stage else None
        started = started or progress.generated_at
        elapsed_ms = (utc_now() - started).total_seconds() * 1000
        timeout = progress.config.timeouts.for_stage(stage)
        stuck.append(StageResult(stage, StageStatus.TIMEOUT, timeout, started,
                                 round(elapsed_ms, 3), expiry_error(expiry, timeout)))
    tracer.event(f"watchdog: hard deadline ({expiry.timeout_s:g} s + {expiry.grace_s:g} s "
                 f"grace) - {expiry.reason}")
    return build_report(progress, tracer, loop, stuck)


def expiry_error(expiry: DeadlineExpiry, timeout_s: float | None = None) -> StageError:
    """The stuck stage's error: a timeout (`timeout_s`, default the deadline's) whose timer
    could not fire, and why."""
    timeout = expiry.timeout_s if timeout_s is None else timeout_s
    budget = format_seconds(timeout)
    late_ms = (expiry.timeout_s + expiry.grace_s - timeout) * 1000
    where = expiry.where or "an unknown place"
    if expiry.cause is ExpiryCause.LOOP_BLOCKED:
        why = f"the event loop was blocked at {where}"
    elif expiry.cause is ExpiryCause.CANCELLATION_IGNORED:
        why = f"the stage ignored its cancellation at {where}"
    elif expiry.cause is ExpiryCause.LOOP_NOT_RUNNING:
        why = "the event loop was not running"
    else:
        why = "the cause is unknown"
    extra = {
        "deadline_enforced_by_watchdog": True,
        "cause": expiry.cause.value,
        "where": expiry.where,
        "stack": list(expiry.stack),
        "hint": expiry.hint,
        "blocked_for_ms": (round(expiry.blocked_for_s * 1000, 3)
                           if expiry.blocked_for_s is not None else None),
    }
    return StageError(ErrorKind.TIMEOUT,
                      f"timed out after {budget}; the timeout could not fire: {why}; "
                      f"the watchdog ended the run {format_ms(late_ms)} later",
                      extra)
