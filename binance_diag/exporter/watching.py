"""Held streams for `serve`: each `[watch.NAME]` target is a `watch` session on the exporter's
own event loop, its figures read between scrapes (watchmetrics.py exports them on /metrics).

Theory of operation: one daemon thread runs one event loop for every watch target, started
with the first target. `apply` reconciles the targets running with those of the modules
file (at start-up and on each reload): a target removed or changed is stopped, a new or
changed one started. Each is a `watch.session.WatchSession` - held stream, stall
forensics, reconnects, the periodic probe - with no view and no reports, a duration of a
year (started again if it ever ends), few events kept, and its `on_event` hook counting the
stalls. Figures are read on the loop's thread (`figures`), never while it changes them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TextIO

from ..config.errors import ConfigError
from ..watch.config import DAY, WatchConfig
from ..watch.events import EventKind, WatchEvent
from ..watch.session import WatchSession
from .budget import fit_timeouts
from .modules import WatchTarget

DURATION = 365 * DAY
"""A watch session's duration: the exporter's own lifetime, in practice."""
KEPT_EVENTS = 20
"""Events a session keeps one by one (each may hold a probe report): memory stays flat."""
RESTART_AFTER = 1.0
"""Seconds before a session that ended (or broke) is started again."""
STOP_WAIT = 2.0
"""Seconds a stopping session gets to close its connections before it is cancelled."""
APPLY_WAIT = 10.0
"""Seconds `apply` and `close` wait for the loop (stops included)."""
FIGURES_WAIT = 1.0
"""Seconds a /metrics scrape waits for fresh figures before it uses the last ones."""


def watch_config(target: WatchTarget, environ: Mapping[str, str]) -> WatchConfig:
    """The `watch` a target asks for (ConfigError for a proxy the environment breaks). The
    module's `timeout`, when given, bounds each fresh probe as it bounds a scrape's."""
    from ..probe.runner import STAGES, plan_for

    module = target.module
    probe = module.probe_config(target.symbols, environ)
    if module.timeout is not None:
        fitted = fit_timeouts(probe.timeouts, module.timeout,
                              (name for name, _ in plan_for(probe, STAGES)), probe.experiments)
        probe = dataclasses.replace(probe, timeouts=fitted.timeouts,
                                    experiments=fitted.experiments)
    return WatchConfig(probe, duration=DURATION, every=target.every, stall=target.stall,
                       command=f"binance-diag serve: watch {target.name}")


@dataclass(frozen=True)
class HeldFigures:
    """One target's figures at one moment (counters since its session started)."""

    target: str
    symbols: tuple[str, ...]
    url: str
    up: bool
    """A held connection is open (receiving or not: the age says)."""
    messages: int
    last_message_age_s: float
    """Since the last message on any connection, or since the start before the first."""
    stall_threshold_s: float
    stalls: int
    reconnects: int
    """Held connections opened after the first one."""
    conclusions: Mapping[str, int]
    """Events by conclusion (watch/events.py)."""


class _Held:
    """One target running: its session (replaced if it ever ends) and its stall count."""

    def __init__(self, target: WatchTarget, config: WatchConfig | None, error: str | None
                 ) -> None:
        self.target = target
        self.config = config
        self.error = error
        self.session: WatchSession | None = None
        self.stalls = 0
        self.stopping = False
        self.task: asyncio.Task[None] | None = None

    def event(self, event: WatchEvent) -> None:
        if event.kind is EventKind.STALL:
            self.stalls += 1

    def figures(self, now: float) -> HeldFigures:
        session = self.session
        symbols, url = self.target.symbols, ""
        if session is None:
            return HeldFigures(self.target.name, symbols, url, False, 0, 0.0, 0.0, 0, 0, {})
        stats = session.stats
        url = session.config.probe.target.url
        last = max((f.last_at for f in stats.streams.values() if f.last_at is not None),
                   default=session.started)
        held = session.held
        return HeldFigures(
            self.target.name, symbols, url, held is not None and held.open, stats.messages,
            max(now - last, 0.0), session.config.stall.threshold(stats.median_gap()),
            self.stalls, max(stats.connections - 1, 0), dict(session.counts))


class WatchTargets:
    """The exporter's held streams: one thread, one event loop, one session per target."""

    def __init__(self, environ: Mapping[str, str], stderr: TextIO | None = None) -> None:
        self.environ = dict(environ)
        self.stderr = stderr or sys.stderr
        self._held: dict[str, _Held] = {}
        """Touched on the loop's thread only."""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._last: list[HeldFigures] = []

    def apply(self, targets: Mapping[str, WatchTarget]) -> None:
        """Run exactly `targets`: stop the removed and changed ones, start the new and
        changed ones (returns once done, or after `APPLY_WAIT`)."""
        with self._lock:
            if self._loop is None and not targets:
                return
            loop = self._start_loop()
        future = asyncio.run_coroutine_threadsafe(self._apply(dict(targets)), loop)
        with contextlib.suppress(concurrent.futures.TimeoutError):
            future.result(APPLY_WAIT)

    def figures(self) -> list[HeldFigures]:
        """Every target's figures, read on the loop's thread; the last ones read when the
        loop does not answer within `FIGURES_WAIT`."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return []

        async def read() -> list[HeldFigures]:
            now = time.perf_counter()
            return [held.figures(now) for held in self._held.values()]

        try:
            self._last = asyncio.run_coroutine_threadsafe(read(), loop).result(FIGURES_WAIT)
        except (concurrent.futures.TimeoutError, RuntimeError):
            pass
        return self._last

    def close(self) -> None:
        """Stop every session and the loop's thread."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop, self._thread = None, None
        if loop is None or thread is None:
            return
        future = asyncio.run_coroutine_threadsafe(self._apply({}), loop)
        with contextlib.suppress(concurrent.futures.TimeoutError):
            future.result(APPLY_WAIT)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(APPLY_WAIT)
        if not thread.is_alive():
            loop.close()
        self._last = []

    # -- on the loop's thread -------------------------------------------------------------

    def _start_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            loop = self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(target=loop.run_forever, name="serve watch",
                                            daemon=True)
            self._thread.start()
        return self._loop

    async def _apply(self, targets: dict[str, WatchTarget]) -> None:
        gone = [held for name, held in self._held.items()
                if targets.get(name) != held.target]
        for held in gone:
            del self._held[held.target.name]
        await asyncio.gather(*(self._stop(held) for held in gone))
        for name, target in targets.items():
            if name in self._held:
                continue
            try:
                config, error = watch_config(target, self.environ), None
            except ConfigError as exc:
                config, error = None, str(exc)
                self._say(f"watch {name}: not started: {error}")
            held = self._held[name] = _Held(target, config, error)
            if config is not None:
                held.task = asyncio.create_task(self._run(held, config))

    async def _run(self, held: _Held, config: WatchConfig) -> None:
        while not held.stopping:
            held.session = WatchSession(config, on_event=held.event, kept_events=KEPT_EVENTS)
            held.stalls = 0
            try:
                await held.session.run()
            except Exception as exc:  # noqa: BLE001 - one broken watch must not end the others
                held.error = f"{type(exc).__name__}: {exc}"
                self._say(f"watch {held.target.name}: {held.error}; starting it again")
            if not held.stopping:
                await asyncio.sleep(RESTART_AFTER)

    async def _stop(self, held: _Held) -> None:
        held.stopping = True
        if held.session is not None:
            held.session.stop.set()
        if held.task is None:
            return
        done, _ = await asyncio.wait({held.task}, timeout=STOP_WAIT)
        if not done:
            held.task.cancel()
            await asyncio.wait({held.task}, timeout=STOP_WAIT)

    def _say(self, text: str) -> None:
        print(f"binance-diag serve: {text}", file=self.stderr, flush=True)
