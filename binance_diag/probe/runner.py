"""Runs the stages in order, each under its own deadline, and builds the report.

Theory of operation: every stage enforces its own absolute deadline on each await, and
returns a classified outcome. The runner does not trust that: it supervises each stage as a
task with `asyncio.wait(timeout=...)` (which, unlike `wait_for` and `asyncio.timeout`, returns
even when the task swallows its cancellation), cancels it when it overruns, and abandons it
after a grace. The hard deadline for the whole process lives in the watchdog thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime

from .. import __version__
from ..config import ProbeConfig
from ..environment import collect_environment
from ..model import (
    JSON,
    ErrorKind,
    LoopStats,
    ProbeReport,
    StageError,
    StageName,
    StageResult,
    StageStatus,
)
from ..timing import Deadline, utc_now
from .base import ProbeState, StageOutcome, Tracer
from .dns import resolve_addresses
from .hold import hold_stream
from .message import receive_first_message
from .proxy import open_tunnel
from .tcp import connect_tcp
from .tls import handshake_tls
from .upgrade import upgrade_websocket

StageFunction = Callable[[ProbeConfig, ProbeState, Tracer, Deadline], Awaitable[StageOutcome]]

STAGES: tuple[tuple[StageName, StageFunction], ...] = (
    (StageName.DNS, resolve_addresses),
    (StageName.PROXY, open_tunnel),
    (StageName.TCP, connect_tcp),
    (StageName.TLS, handshake_tls),
    (StageName.WS_UPGRADE, upgrade_websocket),
    (StageName.FIRST_MESSAGE, receive_first_message),
)
SUPERVISION_MARGIN = 0.05
"""How long past its deadline a stage may take to report its own timeout before it is cancelled."""
CANCEL_GRACE = 0.2
"""How long a cancelled stage may take to unwind before it is abandoned."""


async def run_probe(
    config: ProbeConfig, tracer: Tracer | None = None, command: str = ""
) -> ProbeReport:
    tracer = tracer or Tracer()
    state = ProbeState()
    generated_start = utc_now()
    timeouts = config.timeouts
    plan = [(name, function) for name, function in STAGES
            if name is not StageName.PROXY or _proxy_in_use(config)]
    tracer.event(
        "probe started (timeouts: "
        + ", ".join(f"{n.value} {timeouts.for_stage(n):g} s" for n, _ in plan)
        + f") target {config.target.url}"
    )
    results: list[StageResult] = []
    blocked = False
    try:
        for name, function in plan:
            timeout = timeouts.for_stage(name)
            reason = "an earlier stage failed" if blocked else not_applicable(name, config)
            if reason:
                results.append(StageResult(name, StageStatus.SKIPPED, timeout,
                                           details={"reason": reason}))
                tracer.stage_changed(name, "skipped", None)
                continue
            result = await _run_stage(name, function, config, state, tracer, timeout)
            results.append(result)
            blocked = not result.passed
        if config.hold and not blocked and state.exchange is not None:
            results[-1] = await _hold(config, state, tracer, results[-1], config.hold)
    finally:
        await _close_quietly(state)
    tracer.event("report generated")
    return ProbeReport(
        tool_version=__version__,
        generated_at=generated_start,
        target=config.target,
        stages=tuple(results),
        timeline=tuple(tracer.events),
        loop=LoopStats(),
        environment=collect_environment(_resolver_of(results), config.proxy),
        command=command,
    )


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
) -> StageResult:
    started_at: datetime = utc_now()
    deadline = Deadline(timeout)
    tracer.stage = name
    tracer.stage_changed(name, "start", None)
    outcome = await supervise(function(config, state, tracer, deadline), deadline)
    duration_ms = round(deadline.elapsed_ms(), 3)
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
    task: asyncio.Task[StageOutcome] = asyncio.ensure_future(stage)
    done, _ = await asyncio.wait({task}, timeout=deadline.remaining() + SUPERVISION_MARGIN)
    if done:
        return _outcome_of(task)
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=CANCEL_GRACE)
    budget = f"{deadline.budget:.2f} s"
    if done:
        return StageOutcome(
            StageStatus.TIMEOUT,
            StageError(ErrorKind.TIMEOUT, f"timed out after {budget} (stage cancelled)"),
        )
    where = _where(task)
    return StageOutcome(
        StageStatus.TIMEOUT,
        StageError(
            ErrorKind.TIMEOUT,
            f"timed out after {budget}; cancellation ignored; abandoned at {where}",
            {"cancellation_ignored": True, "abandoned_at": where},
        ),
    )


async def _hold(config: ProbeConfig, state: ProbeState, tracer: Tracer,
                last: StageResult, duration: float) -> StageResult:
    """Measure the open stream for `duration` s; the figures join the first_message details."""
    tracer.event(f"holding the stream open for {duration:g} s")
    task = asyncio.ensure_future(hold_stream(config, state, duration))
    done, _ = await asyncio.wait({task}, timeout=duration + SUPERVISION_MARGIN + CANCEL_GRACE)
    if done and task.exception() is None:
        hold: JSON = task.result()
    else:
        task.cancel()
        hold = {"error": "the hold did not finish in time" if not done
                else f"{type(task.exception()).__name__}: {task.exception()}"}
    tracer.event("hold finished")
    return replace(last, details={**last.details, "hold": hold})


def _outcome_of(task: asyncio.Task[StageOutcome]) -> StageOutcome:
    if task.cancelled():
        return StageOutcome(StageStatus.FAILED, StageError(ErrorKind.INTERNAL, "stage cancelled"))
    exc = task.exception()
    if exc is None:
        return task.result()
    # A bug or an unclassified OS error: keep the run going and say what it was.
    return StageOutcome(
        StageStatus.FAILED,
        StageError(ErrorKind.INTERNAL, f"{type(exc).__name__}: {exc}",
                   {"exception": type(exc).__name__}),
    )


def _where(task: asyncio.Task[StageOutcome]) -> str:
    frames = task.get_stack()
    if not frames:
        return "unknown"
    frame = frames[-1]
    return f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}"


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
