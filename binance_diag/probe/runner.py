"""Runs the stages in order, each under its own deadline, and builds the report.

Theory of operation: every stage enforces its own absolute deadline on each await, and
returns a classified outcome. The runner does not trust that: it supervises each stage with
`supervise.run_supervised` (`asyncio.wait(timeout=...)`, which, unlike `wait_for` and
`asyncio.timeout`, returns even when the task swallows its cancellation), cancels it when it
overruns, and abandons it after a grace. What the loop itself cannot enforce - a blocked
loop - is the hard deadline's job (probe/guard.py), on its own thread; it builds its report
from the same `ProbeProgress` with `build_report`.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from .. import __version__
from ..config.probe import ProbeConfig
from ..model import (
    JSON,
    ErrorKind,
    Experiment,
    LoopStats,
    ProbeReport,
    StageError,
    StageName,
    StageResult,
    StageStatus,
)
from ..timing import Deadline, format_ms, format_seconds, utc_now
from ..watchdog.supervise import Outcome, Verdict, run_supervised
from .base import ProbeState, StageOutcome, Tracer
from .budget import CANCEL_GRACE, SUPERVISION_MARGIN
from .dns import asks_dns, load_resolver, resolve_addresses
from .environment import collect_environment
from .hold import hold_stream
from .message import receive_first_message
from .proxy import open_tunnel
from .tcp import connect_tcp
from .tls import handshake_tls, make_context
from .upgrade import upgrade_websocket

StageFunction = Callable[[ProbeConfig, ProbeState, Tracer, Deadline], Awaitable[StageOutcome]]
StagePlan = Sequence[tuple[StageName, StageFunction]]

STAGES: tuple[tuple[StageName, StageFunction], ...] = (
    (StageName.DNS, resolve_addresses),
    (StageName.PROXY, open_tunnel),
    (StageName.TCP, connect_tcp),
    (StageName.TLS, handshake_tls),
    (StageName.WS_UPGRADE, upgrade_websocket),
    (StageName.FIRST_MESSAGE, receive_first_message),
)


@dataclass
class ProbeProgress:
    """How far a run got: what the hard deadline reports from if the loop never returns."""

    config: ProbeConfig
    command: str = ""
    generated_at: datetime = field(default_factory=utc_now)
    plan: tuple[StageName, ...] = ()
    """The stages this run will report; known before it starts, so that a run stopped before
    its first stage still reports every stage as not reached."""
    results: list[StageResult] = field(default_factory=list)
    current: StageName | None = None
    current_started_at: datetime | None = None
    finished: bool = False
    """The run returned its report: a hard deadline must not rewrite it."""
    state: ProbeState = field(default_factory=ProbeState, repr=False)
    """The connection being built: sockets, not results."""
    experiments: list[Experiment] = field(default_factory=list)
    experiment_listeners: list[Callable[[bool], None]] = field(default_factory=list,
                                                               repr=False)
    """Told True as the experiments start and False as they end (the guard's deadline)."""

    def __post_init__(self) -> None:
        if not self.plan:
            self.plan = tuple(name for name, _ in plan_for(self.config, STAGES))


def plan_for(config: ProbeConfig, stages: StagePlan) -> list[tuple[StageName, StageFunction]]:
    """The stages a run of `config` reports: the proxy stage only when a proxy is in use."""
    return [(name, function) for name, function in stages
            if name is not StageName.PROXY or _proxy_in_use(config)]


async def run_probe(
    config: ProbeConfig, tracer: Tracer | None = None, command: str = "",
    stages: StagePlan = STAGES, progress: ProbeProgress | None = None,
    loop: LoopStats | Callable[[], LoopStats] = LoopStats,
) -> ProbeReport:
    """Run the stages of `stages` (the real ones unless a test brings its own) in order.

    `progress` is filled as stages finish; `loop` gives the report's event-loop figures
    (the watchdog's `stats`), read when the report is built.
    """
    tracer = tracer or Tracer()
    progress = progress or ProbeProgress(config, command)
    timeouts = config.timeouts
    plan = plan_for(config, stages)
    progress.plan = tuple(name for name, _ in plan)
    tracer.event(
        "probe started (timeouts: "
        + ", ".join(f"{n.value} {timeouts.for_stage(n):g} s" for n, _ in plan)
        + f") target {config.target.url}"
    )
    results, state = progress.results, progress.state
    loaded = False
    if asks_dns(config):
        load_resolver()  # before any stage's clock, and only when DNS will be asked
        loaded = True
    if config.experiments:
        # Imported on the loop after a failure, they would block it (~100 ms) and be
        # reported as the user's loop blockage: loaded now, before any clock starts.
        from .experiments import runner as _runner  # noqa: F401
        loaded = True
    if loaded and gc.get_freeze_count():  # the caller froze its imports: these too
        gc.freeze()
    if config.target.secure:
        try:
            state.tls_context = make_context(config.ca_bundle)  # before any stage's clock
        except (OSError, ValueError):
            pass  # the tls stage makes it again, and reports what is wrong
    blocked = False
    try:
        for name, function in plan:
            timeout = timeouts.for_stage(name)
            # A stage that never applies says so even after a failure (stable perfdata).
            reason = not_applicable(name, config) or ("an earlier stage failed" if blocked
                                                      else None)
            if reason:
                results.append(StageResult(name, StageStatus.SKIPPED, timeout,
                                           details={"reason": reason}))
                tracer.stage_changed(name, "skipped", None)
                continue
            progress.current, progress.current_started_at = name, utc_now()
            result = await _run_stage(name, function, config, state, tracer, timeout,
                                      progress)
            progress.current = None
            results.append(result)
            blocked = not result.passed
        if config.hold and not blocked and state.exchange is not None:
            await _hold(config, state, tracer, results, config.hold)
        if config.experiments:
            progress.experiments[:] = await _experiments(config, state, tracer, progress,
                                                         config.experiments)
    finally:
        await _close_quietly(state)
    tracer.event("report generated")
    report = build_report(progress, tracer, loop if isinstance(loop, LoopStats) else loop())
    progress.finished = True
    return report


def build_report(progress: ProbeProgress, tracer: Tracer, loop: LoopStats,
                 extra_results: Sequence[StageResult] = ()) -> ProbeReport:
    """The report of a run as far as it got; stages not reported are marked not reached."""
    results = [*progress.results, *extra_results]
    done = {r.name for r in results}
    timeouts = progress.config.timeouts
    config = progress.config
    results += [StageResult(name, StageStatus.SKIPPED, timeouts.for_stage(name),
                            details={"reason": not_applicable(name, config)
                                     or "an earlier stage failed"})
                for name in progress.plan if name not in done]
    stages = mark_blocked_time(tuple(results), loop)
    return ProbeReport(
        tool_version=__version__,
        generated_at=progress.generated_at,
        target=progress.config.target,
        stages=stages,
        timeline=tuple(tracer.events),
        loop=loop,
        environment=collect_environment(_resolver_of(results), progress.config.proxy),
        command=progress.command,
        experiments=tuple(progress.experiments),
    )


def interrupted_report(progress: ProbeProgress, tracer: Tracer, loop: LoopStats,
                       signal_name: str) -> ProbeReport:
    """The report of a run a signal stopped: the stage running then did not end, so it is
    `skipped` (the schema's "no outcome": no duration, no error) with `interrupted` and how
    long it had run in its details; the stages after it not reached; what ended is kept."""
    reported = {r.name for r in progress.results}
    why = f"interrupted by {signal_name}"
    extra: list[StageResult] = []
    current, started = progress.current, progress.current_started_at
    if current is not None and current not in reported and started is not None:
        elapsed_ms = round((utc_now() - started).total_seconds() * 1000, 3)
        extra.append(StageResult(
            current, StageStatus.SKIPPED, progress.config.timeouts.for_stage(current),
            details={"reason": f"{why} after {format_ms(elapsed_ms)}, before it ended",
                     "interrupted": signal_name, "interrupted_after_ms": elapsed_ms}))
        reported.add(current)
    extra += [StageResult(name, StageStatus.SKIPPED, progress.config.timeouts.for_stage(name),
                          details={"reason": not_applicable(name, progress.config)
                                   or f"not reached: the run was {why}"})
              for name in progress.plan if name not in reported]
    return build_report(progress, tracer, loop, extra)


def mark_blocked_time(stages: tuple[StageResult, ...], loop: LoopStats
                      ) -> tuple[StageResult, ...]:
    """Each stage's `loop_blocked_ms`: how long the loop's blockages overlapped it."""
    if not loop.blockages:
        return stages
    marked = []
    for stage in stages:
        if stage.started_at is None or stage.duration_ms is None:
            marked.append(stage)
            continue
        start = stage.started_at.timestamp()
        end = start + stage.duration_ms / 1000
        overlap = 0.0
        for blockage in loop.blockages:
            b_start = blockage.started_at.timestamp()
            b_end = b_start + blockage.duration_ms / 1000
            overlap += max(0.0, min(end, b_end) - max(start, b_start))
        marked.append(replace(stage, loop_blocked_ms=round(min(overlap * 1000,
                                                               stage.duration_ms), 3)))
    return tuple(marked)


def _proxy_in_use(config: ProbeConfig) -> bool:
    return config.proxy is not None and config.proxy.proxy is not None


def not_applicable(name: StageName, config: ProbeConfig) -> str | None:
    """Why a stage does not run for this target, if it does not."""
    proxy = config.proxy.proxy if config.proxy else None
    if name is StageName.TLS and not config.target.secure:
        return "not applicable: ws:// endpoint"
    if name is StageName.DNS and proxy is not None and proxy.remote_dns:
        return f"not applicable: the {proxy.scheme} proxy resolves {config.target.host}"
    if name is StageName.TCP and proxy is not None:
        return "not applicable: the proxy made the TCP connection"
    return None


async def _run_stage(
    name: StageName,
    function: StageFunction,
    config: ProbeConfig,
    state: ProbeState,
    tracer: Tracer,
    timeout: float,
    progress: ProbeProgress | None = None,
) -> StageResult:
    # Listeners first (the guard starts its deadline thread, the display redraws): their
    # cost is this process's, not the stage's, and stays out of the measured time.
    tracer.stage = name
    tracer.stage_changed(name, "start", None)
    started_at: datetime = utc_now()
    deadline = Deadline(timeout)
    if progress is not None:
        progress.current_started_at = started_at  # as the stage's own clock
    outcome = await supervise(function(config, state, tracer, deadline), deadline)
    duration_ms = round(deadline.elapsed_ms(), 3)
    outcome = past_deadline(outcome, essential_ms(name, outcome, duration_ms), timeout)
    result = StageResult(
        name=name,
        status=outcome.status,
        timeout_s=timeout,
        started_at=started_at,
        duration_ms=duration_ms,
        error=outcome.error,
        details=outcome.details,
    )
    tracer.stage_changed(name, outcome.status.value, duration_ms)
    return result


async def supervise(stage: Awaitable[StageOutcome], deadline: Deadline) -> StageOutcome:
    """Wait for a stage, but never past its deadline plus a grace, whatever the stage does."""
    outcome = await run_supervised(stage, deadline.remaining() + SUPERVISION_MARGIN,
                                   grace=CANCEL_GRACE)
    return stage_outcome(outcome, deadline.budget)


def essential_ms(name: StageName, outcome: StageOutcome, duration_ms: float) -> float:
    """When the stage had its answer. DNS and TCP may go on waiting for evidence up to the
    deadline (comparison resolvers, slower addresses) after the answer that counts; without
    a query (`--resolve`, the hosts file) the address was there at once."""
    details = outcome.details
    if name is StageName.DNS:
        if details.get("source") != "dns":
            return 0.0
        lookup = details.get("lookup_ms")
        return float(lookup) if isinstance(lookup, int | float) else duration_ms
    connect = details.get("connect_ms")
    if name is StageName.TCP and isinstance(connect, int | float):
        return float(connect)
    return duration_ms


def past_deadline(outcome: StageOutcome, duration_ms: float, budget_s: float) -> StageOutcome:
    """A stage that passed, but only after its deadline, timed out: the deadline is absolute,
    as a client with that timeout would have given up. Its details are kept."""
    if outcome.status is not StageStatus.OK or duration_ms <= budget_s * 1000:
        return outcome
    late_ms = round(duration_ms - budget_s * 1000, 3)
    return StageOutcome(
        StageStatus.TIMEOUT,
        StageError(ErrorKind.TIMEOUT,
                   f"timed out after {format_seconds(budget_s)}: it completed only "
                   f"{format_ms(late_ms)} past its deadline",
                   {"completed_late_ms": late_ms}),
        outcome.details,
    )


def stage_outcome(outcome: Outcome[StageOutcome], budget_s: float) -> StageOutcome:
    """What the supervisor saw, as the stage's verdict."""
    budget = format_seconds(budget_s)
    if outcome.verdict is Verdict.COMPLETED and outcome.result is not None:
        return outcome.result
    if outcome.verdict in (Verdict.COMPLETED, Verdict.FAILED):
        exc = outcome.exception
        if exc is None or isinstance(exc, asyncio.CancelledError):
            return StageOutcome(StageStatus.FAILED,
                                StageError(ErrorKind.INTERNAL, "stage cancelled"))
        # A bug or an unclassified OS error: keep the run going and say what it was.
        return StageOutcome(
            StageStatus.FAILED,
            StageError(ErrorKind.INTERNAL, f"{type(exc).__name__}: {exc}",
                       {"exception": type(exc).__name__}),
        )
    if outcome.verdict is Verdict.TIMED_OUT:
        return StageOutcome(
            StageStatus.TIMEOUT,
            StageError(ErrorKind.TIMEOUT, f"timed out after {budget} (stage cancelled)"),
        )
    where = outcome.where or "an unknown place"
    return StageOutcome(
        StageStatus.TIMEOUT,
        StageError(
            ErrorKind.TIMEOUT,
            f"timed out after {budget}; cancellation ignored; abandoned at {where}",
            {"cancellation_ignored": True, "abandoned_at": where,
             "stack": list(outcome.stack)},
        ),
    )


async def _hold(config: ProbeConfig, state: ProbeState, tracer: Tracer,
                results: list[StageResult], duration: float) -> None:
    """Measure the open stream for `duration` s; the figures join the first_message details.

    Supervised like a stage (within `stage_budget(duration)`): a hold that overruns is
    cancelled and, past a grace, abandoned. If the run itself is cancelled (Ctrl-C), the
    hold is stopped before the connection it reads is closed, and the first_message result
    says the hold was cut short.
    """
    tracer.event(f"holding the stream open for {duration:g} s")
    for watcher in tracer.hold_watchers:
        watcher.hold_started(duration)

    def tell_watchers(kind: str, at: float, detail: object) -> None:
        for watcher in tracer.hold_watchers:
            watcher.hold_event(kind, at, detail)

    last, started = results[-1], Deadline(duration)
    try:
        outcome = await run_supervised(hold_stream(config, state, duration,
                                                   tell_watchers if tracer.hold_watchers
                                                   else None),
                                       duration + SUPERVISION_MARGIN, grace=CANCEL_GRACE)
    except asyncio.CancelledError:
        hold: JSON = {"error": f"interrupted after {format_ms(started.elapsed_ms())} of "
                               f"{format_seconds(duration)}"}
        results[-1] = replace(last, details={**last.details, "hold": hold})
        tracer.event("hold interrupted")
        raise
    if outcome.verdict is Verdict.COMPLETED and outcome.result is not None:
        hold = outcome.result
    elif outcome.verdict is Verdict.FAILED and outcome.exception is not None:
        hold = {"error": f"{type(outcome.exception).__name__}: {outcome.exception}"}
    else:
        hold = {"error": "the hold did not finish in time"}
    tracer.event("hold finished")
    results[-1] = replace(last, details={**last.details, "hold": hold})


async def _experiments(config: ProbeConfig, state: ProbeState, tracer: Tracer,
                       progress: ProbeProgress, budget: float) -> list[Experiment]:
    """The follow-up experiments (probe/experiments/) the finished stages call for, within
    `budget` seconds; supervised like a stage, so that none outlives it."""
    from .experiments.runner import plan_experiments, run_experiments
    from .experiments.view import RunView

    connection, exchange = state.connection, state.exchange
    view = RunView(config, tuple(progress.results), tuple(state.addresses),
                   connection.peer if connection is not None else None,
                   bytes(exchange.received) if exchange is not None
                   and state.upgraded_at is None else b"",
                   state.tls_context)
    if not plan_experiments(view):
        return []
    tracer.stage = None
    tracer.event(f"experiments started (budget {format_seconds(budget)})")
    for listener in progress.experiment_listeners:
        listener(True)
    task = asyncio.ensure_future(run_experiments(view, budget, tracer.event))
    try:
        outcome = await run_supervised(task, budget + SUPERVISION_MARGIN, grace=CANCEL_GRACE)
    finally:
        for listener in progress.experiment_listeners:
            listener(False)
    tracer.event("experiments finished")
    if outcome.verdict is Verdict.COMPLETED and outcome.result is not None:
        return outcome.result
    return []


async def _close_quietly(state: ProbeState) -> None:
    """Say goodbye with a close frame if the stream is open; never wait long for it."""
    exchange, connection = state.exchange, state.connection
    if exchange is not None and connection is not None and state.upgraded_at is not None:
        try:
            exchange.protocol.send_close(1000)
            await connection.send(exchange.bytes_to_send(), Deadline(0.1))
        except Exception:  # noqa: BLE001 - best effort; the socket is closed below anyway
            pass
    state.close()


def _resolver_of(results: list[StageResult]) -> str | None:
    for result in results:
        if result.name is StageName.DNS:
            resolver: JSON = result.details.get("resolver")
            return str(resolver) if resolver else None
    return None
