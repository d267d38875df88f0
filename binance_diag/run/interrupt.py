"""Ctrl-C and SIGTERM during a run: the run stops where it is and reports as far as it got.

Theory of operation: Python turns SIGINT into a `KeyboardInterrupt` (and our SIGTERM handler
into a `SystemExit`) raised at whatever bytecode the main thread is running. Inside an event
loop that is anywhere: in a task's step (the task then ends with that exception, which
nobody retrieves: "Task exception was never retrieved"), in a loop callback, halfway through
writing the report. So while a run is in progress, `StopSignals` replaces both handlers with
one that raises nothing: it schedules the cancellation of the run's main task on its loop,
and every stage unwinds through the same cancellation path a timeout uses (the sockets
closed after the tasks using them have stopped). The command then publishes the partial
report and re-raises the signal as its usual exception (`reraise`), so the CLI exits 130 or
143 with its one line and `demo` still removes its certificates.

If the loop cannot run the cancellation (a blocking call holds it), or a second signal
comes, `escalate` is called on a thread after `PATIENCE` seconds (at once for the second
signal): it publishes what is known and ends the process, like the hard deadline does.
A signal that arrives while the report is being written waits for it: the report is whole.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable, Coroutine
from types import FrameType, TracebackType
from typing import Any, Self, TypeVar

T = TypeVar("T")

SIGNAL_EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}
"""128 + the signal's number, as a shell reports a process it stopped."""
PATIENCE = 1.0
"""Seconds the loop gets to unwind after the first signal before `escalate` takes over."""


class StopSignals:
    """While installed (`with`), SIGINT and SIGTERM cancel the run instead of raising.

    `attach()` from inside the run's main task names what to cancel; a signal that came
    before it is applied then. `signum` says which signal stopped the run, if one did.
    """

    def __init__(self, escalate: Callable[[int], None] | None = None,
                 on_signal: Callable[[int], None] | None = None,
                 patience: float = PATIENCE) -> None:
        self.signum: int | None = None
        self._escalate = escalate
        self._on_signal = on_signal
        self._patience = patience
        self._task: asyncio.Task[object] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._previous: dict[int, object] = {}
        self._timer: threading.Timer | None = None
        self._escalated = threading.Lock()

    @property
    def exit_code(self) -> int | None:
        """130 or 143 once a signal stopped the run; None otherwise."""
        return None if self.signum is None else SIGNAL_EXIT_CODES[signal.Signals(self.signum)]

    @property
    def last_line(self) -> str | None:
        """The CLI's one line for the exit code ("binance-diag: interrupted")."""
        from ..stops import STOP_LINES

        code = self.exit_code
        return None if code is None else STOP_LINES[code]

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signum).name if self.signum is not None else "a signal"

    def __enter__(self) -> Self:
        if threading.current_thread() is threading.main_thread():
            for signum in SIGNAL_EXIT_CODES:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]
        self._previous.clear()

    def attach(self) -> None:
        """From the run's main task: the task a signal cancels."""
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        if self.signum is not None:
            self._stop()

    def detach(self) -> None:
        """The run returned: a signal from now on only changes the exit code."""
        self._task = self._loop = None
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()

    def reraise(self) -> None:
        """After the partial report is out: the signal's usual exception, if one came."""
        if self.signum == signal.SIGINT:
            raise KeyboardInterrupt
        if self.signum is not None:
            raise SystemExit(self.exit_code)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        """The signal handler (main thread, between two bytecodes): raises nothing."""
        if self.signum is not None:
            self._start_escalation(0.0)  # a second Ctrl-C: no more patience
            return
        self.signum = signum
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(self._stop)
            except RuntimeError:  # closed in between: the run is over
                pass
            self._start_escalation(self._patience)

    def _stop(self) -> None:
        """On the loop: say so, then cancel the run's main task."""
        task = self._task
        if task is None or task.done():
            return
        if self._on_signal is not None and self.signum is not None:
            self._on_signal(self.signum)
        task.cancel()

    def _start_escalation(self, delay: float) -> None:
        if self._escalate is None or self.signum is None:
            return
        if self._timer is not None and delay > 0:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer = threading.Timer(delay, self._fire)
        self._timer.daemon = True
        self._timer.name = "binance-diag-stop"
        self._timer.start()

    def _fire(self) -> None:
        if self._escalate is not None and self.signum is not None \
                and self._escalated.acquire(blocking=False):
            self._escalate(self.signum)


async def until_stopped(run: Coroutine[Any, Any, T], stop: StopSignals,
                        partial: Callable[[str], T]) -> T:
    """Await `run` as the task a signal cancels; once a signal has stopped it (and it has
    unwound, its sockets closed), `partial(signal_name)` is the result instead."""
    stop.attach()
    try:
        return await run
    except asyncio.CancelledError:
        if stop.signum is None:
            raise
        return partial(stop.signal_name)
    finally:
        stop.detach()
