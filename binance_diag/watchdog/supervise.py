"""Timeouts that hold even when the awaited code swallows its cancellation, and a way to run a
program that exits even when some of its tasks or threads never will.

Theory of operation: `asyncio.wait_for(aw, t)` and `asyncio.timeout(t)` cancel the inner task
and then *wait for it to finish*; a coroutine that catches `CancelledError` and keeps awaiting
makes them wait forever (measured on CPython 3.11-3.13). `asyncio.wait({task}, timeout=t)`
returns at `t` whatever the task does, so `run_supervised` uses it twice: once for the
timeout, once more for a grace after the cancellation, then abandons a task still alive and
says where it is stuck.

Abandoned tasks and stuck executor threads then hang the exit: `asyncio.run` cancels every
task and waits for all of them (forever, for a task that ignores it), then joins the default
executor, and the interpreter joins every `concurrent.futures` worker thread at exit.
`run_abandoning` closes the loop without waiting for either; `run_and_exit` then exits the
process, with `os._exit` when something is still stuck.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import sys
import threading
import time
import traceback
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, NoReturn, TypeVar

from ..timing import format_seconds
from .stacks import format_stack, task_frames, where

T = TypeVar("T")

LOGGER = logging.getLogger("binance_diag.supervise")  # name kept from before the move

DEFAULT_CANCEL_GRACE = 0.5
"""The library's default for how long a cancelled task may take to unwind before it is
abandoned (the probe passes its own, probe.budget.CANCEL_GRACE)."""


class Verdict(StrEnum):
    COMPLETED = "completed"
    """Returned in time."""
    FAILED = "failed"
    """Raised in time."""
    TIMED_OUT = "timed_out"
    """Ran out of time and was gone within the grace after its cancellation."""
    ABANDONED = "abandoned"
    """Ran out of time, ignored its cancellation, and was left running."""


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """How a supervised operation ended."""

    verdict: Verdict
    timeout_s: float
    grace_s: float
    elapsed_s: float
    result: T | None = None
    exception: BaseException | None = None
    cancellation_ignored: bool = False
    """The task outlived its cancellation: it was abandoned, or finished without unwinding."""
    stack: tuple[str, ...] = ()
    """Where an abandoned task is suspended: its chain of awaits, outermost first."""
    where: str | None = None
    task: asyncio.Task[T] | None = None
    """The abandoned task, still running; `run_and_exit` will not wait for it."""

    @property
    def message(self) -> str:
        budget = format_seconds(self.timeout_s)
        if self.verdict is Verdict.COMPLETED:
            return f"completed in {self.elapsed_s:.3f} s"
        if self.verdict is Verdict.FAILED:
            return f"failed in {self.elapsed_s:.3f} s: {self.exception!r}"
        if self.verdict is Verdict.TIMED_OUT:
            if self.cancellation_ignored:
                return f"timed out after {budget}; cancellation ignored, but the task ended"
            return f"timed out after {budget} (cancelled)"
        return (
            f"timed out after {budget}; cancellation ignored; abandoned at "
            f"{self.where or 'an unknown place'}"
        )


async def run_supervised(
    aw: Awaitable[T], timeout: float, grace: float = DEFAULT_CANCEL_GRACE
) -> Outcome[T]:
    """Run `aw` as a task for at most `timeout` seconds, plus `grace` to unwind once cancelled.

    Returns on time whatever the task does. If this coroutine is itself cancelled (Ctrl-C),
    the task is cancelled too and given `grace` to unwind before the cancellation propagates
    (`stop_with`): the caller closes what the task was using only once it has stopped.
    """
    started = time.perf_counter()
    task: asyncio.Task[T] = asyncio.ensure_future(aw)
    try:
        done, _ = await asyncio.wait({task}, timeout=timeout)
        if done:
            return _finished(task, Verdict.COMPLETED, timeout, grace, started)
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=grace)
    except asyncio.CancelledError:
        await stop_with(task, grace)
        raise
    if done:
        return _finished(task, Verdict.TIMED_OUT, timeout, grace, started)
    frames = task_frames(task)
    abandon(task)
    return Outcome(
        Verdict.ABANDONED,
        timeout,
        grace,
        time.perf_counter() - started,
        cancellation_ignored=True,
        stack=format_stack(frames),
        where=where(frames),
        task=task,
    )


async def stop_with(task: asyncio.Future[Any], grace: float = DEFAULT_CANCEL_GRACE) -> None:
    """Our caller is being cancelled: cancel `task` as well, wait up to `grace` for it to
    unwind, and abandon it if it will not. Its outcome is retrieved either way, so that an
    exception it ends with is never logged as "never retrieved".

    Without the wait the caller's `finally` blocks (closing the connection) run while the
    task still uses what they close.
    """
    task.cancel()
    try:
        await asyncio.wait({task}, timeout=grace)
    except asyncio.CancelledError:
        pass  # cancelled again while waiting (a second Ctrl-C): stop waiting, still retrieve
    if task.done():
        _retrieve(task)
    else:
        abandon(task)


def _retrieve(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


def _finished(
    task: asyncio.Task[T], verdict: Verdict, timeout: float, grace: float, started: float
) -> Outcome[T]:
    elapsed = time.perf_counter() - started
    if task.cancelled():
        return Outcome(verdict, timeout, grace, elapsed)
    ignored = verdict is Verdict.TIMED_OUT  # it ended some other way than unwinding
    exception = task.exception()
    if exception is not None:
        if verdict is Verdict.COMPLETED:
            verdict = Verdict.FAILED
        return Outcome(verdict, timeout, grace, elapsed, exception=exception,
                       cancellation_ignored=ignored)
    return Outcome(verdict, timeout, grace, elapsed, result=task.result(),
                   cancellation_ignored=ignored)


# -- abandoned tasks -------------------------------------------------------------------------

_abandoned: set[asyncio.Future[Any]] = set()
_abandoned_ids: set[int] = set()


def abandon(task: asyncio.Future[Any]) -> None:
    """Stop waiting for a task without letting it be garbage-collected while it is pending.

    Held here until it ends (if it ever does), so the loop does not log "Task was destroyed
    but it is pending" midway and its coroutine is not closed under it; an exception it ends
    with is retrieved, not logged as never retrieved.
    """
    _abandoned.add(task)
    _abandoned_ids.add(id(task))
    task.add_done_callback(_release)


def abandoned_tasks() -> tuple[asyncio.Future[Any], ...]:
    """The abandoned tasks that have not ended."""
    return tuple(task for task in _abandoned if not task.done())


def _release(task: asyncio.Future[Any]) -> None:
    _abandoned.discard(task)
    _abandoned_ids.discard(id(task))  # no longer pending: nothing to silence
    _retrieve(task)


# -- running a program -----------------------------------------------------------------------


def run_abandoning(
    main: Coroutine[Any, Any, T],
    *,
    cancel_grace: float = DEFAULT_CANCEL_GRACE,
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None,
) -> T:
    """Like `asyncio.run`, but returns even when tasks ignore their cancellation.

    At the end, the tasks still pending are cancelled and given `cancel_grace` to unwind,
    together; async generators get the same; whatever is still alive is abandoned. The default
    executor is shut down without waiting for its threads. The loop is then closed. Worker
    threads stuck in a call still block the interpreter's exit: use `run_and_exit`.
    """
    loop = (loop_factory or asyncio.new_event_loop)()
    executor = concurrent.futures.ThreadPoolExecutor(thread_name_prefix="asyncio")
    loop.set_default_executor(executor)
    asyncio.set_event_loop(loop)
    task = loop.create_task(main)
    try:
        return loop.run_until_complete(task)
    except BaseException:
        # KeyboardInterrupt or SystemExit raised inside the loop: give main a chance to unwind.
        if not task.done():
            task.cancel()
            _wait_briefly(loop, {task}, cancel_grace)
        raise
    finally:
        try:
            _cancel_remaining(loop, cancel_grace)
            _shutdown_asyncgens(loop, cancel_grace)
            executor.shutdown(wait=False, cancel_futures=True)
        finally:
            _silence_abandoned(loop)
            asyncio.set_event_loop(None)
            loop.close()


def run_and_exit(
    main: Coroutine[Any, Any, int | None],
    *,
    cancel_grace: float = DEFAULT_CANCEL_GRACE,
    linger: float = 0.1,
    loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None,
) -> NoReturn:
    """Run `main` and exit the process with its result as the status (None is 0), never hanging.

    An exception from `main` is printed and exits with 1 (`SystemExit` keeps its code). If a
    task was abandoned, or a non-daemon thread is still alive `linger` seconds after the loop
    closed, the exit is `os._exit` after flushing stdio and logging, since a normal exit would
    wait for them; otherwise it is a normal `sys.exit`, with atexit handlers.
    """
    code: int
    try:
        result = run_abandoning(main, cancel_grace=cancel_grace, loop_factory=loop_factory)
        code = result if isinstance(result, int) else 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if not isinstance(exc.code, int | None):
            print(exc.code, file=sys.stderr)
    except BaseException:  # noqa: BLE001 - this is the top of the program
        traceback.print_exc()
        code = 1
    exit_process(code, linger=linger)


def exit_process(code: int, *, linger: float = 0.1) -> NoReturn:
    """Exit now: normally if nothing is stuck, else with `os._exit` after flushing output."""
    if not abandoned_tasks() and _threads_finish_within(linger):
        sys.exit(code)
    exit_now(code)


def exit_now(code: int) -> NoReturn:
    """End the process at once, from any thread, without waiting for stuck threads or tasks:
    output and logs are flushed, atexit handlers do not run."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
    os._exit(code)


def _threads_finish_within(seconds: float) -> bool:
    deadline = time.perf_counter() + seconds
    for thread in threading.enumerate():
        if thread is threading.current_thread() or thread.daemon:
            continue
        thread.join(max(0.0, deadline - time.perf_counter()))
        if thread.is_alive():
            return False
    return True


def _wait_briefly(
    loop: asyncio.AbstractEventLoop, tasks: set[asyncio.Task[Any]], seconds: float
) -> set[asyncio.Task[Any]]:
    """Run the loop until these tasks are done or `seconds` passed; the ones still pending."""
    if not tasks:
        return set()
    _, pending = loop.run_until_complete(asyncio.wait(tasks, timeout=seconds))
    return pending


def _cancel_remaining(loop: asyncio.AbstractEventLoop, grace: float) -> None:
    remaining = {task for task in asyncio.all_tasks(loop) if not task.done()}
    for task in remaining:
        task.cancel()
    # Tasks abandoned already have shown they ignore cancellation: no grace for them again.
    for task in _wait_briefly(loop, remaining - _abandoned, grace):
        abandon(task)
    for task in remaining:
        if task.done() and not task.cancelled() and task.exception() is not None:
            loop.call_exception_handler({
                "message": "unhandled exception during shutdown",
                "exception": task.exception(),
                "task": task,
            })


def _shutdown_asyncgens(loop: asyncio.AbstractEventLoop, grace: float) -> None:
    closing = loop.create_task(loop.shutdown_asyncgens())
    if _wait_briefly(loop, {closing}, grace):
        closing.cancel()
        abandon(closing)


def _silence_abandoned(loop: asyncio.AbstractEventLoop) -> None:
    """Drop the loop's "Task was destroyed but it is pending" for tasks abandoned on purpose."""
    previous = loop.get_exception_handler()

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if id(context.get("task")) in _abandoned_ids:
            return
        if previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handler)
