"""The part of `binance-diag loopwatch` that runs inside the watched program.

Started by the bootstrap `sitecustomize` before the program's first line. It wraps
`asyncio.events._set_running_loop`, which every loop calls in the loop's own thread when it
starts running (`run_forever`, so `asyncio.run`, `Runner`, `run_until_complete`; uvloop calls
the same function), and attaches a `LoopWatchdog` there: one watchdog per thread, re-attached
to each new loop that thread runs. Attaching from inside the loop starts the heartbeat at once,
and loops in other threads are watched too, which following the main thread would miss.

The agent writes only to its pipe: never to the program's stdout, stderr or logging.
"""

from __future__ import annotations

import asyncio
import asyncio.events
import atexit
import os
import platform
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..watchdog.loop import LoopBlockage, LoopWatchdog
from .wire import (
    AgentError,
    Bye,
    Event,
    Hello,
    LoopSeen,
    ThreadStats,
    WatchedBlockage,
    encode,
    parse_frame,
)


class Channel:
    """The write end of the pipe to the parent; goes quiet for good if the parent is gone.

    A program may close descriptors it does not know (a daemon closes them all) and reuse the
    number for a file of its own: each write first checks that the number is still our pipe.
    """

    def __init__(self, fd: int) -> None:
        self._fd: int | None = fd
        self._identity = _identity(fd)
        self._lock = threading.Lock()

    def send(self, event: Event) -> None:
        data = memoryview(encode(event))
        with self._lock:
            try:
                if self._fd is not None and _identity(self._fd) != self._identity:
                    self._fd = None
                while data and self._fd is not None:
                    data = data[os.write(self._fd, data):]
            except OSError:  # the parent is gone (EPIPE) or the program closed our fd
                self._fd = None

    def close(self) -> None:
        with self._lock:
            fd, self._fd = self._fd, None
        if fd is not None and _identity(fd) == self._identity:
            os.close(fd)

    def close_after_fork(self) -> None:
        """In a forked child, where another thread may have held the lock at the fork."""
        self._lock = threading.Lock()
        self.close()


def _identity(fd: int) -> tuple[int, int] | None:
    try:
        stat = os.fstat(fd)
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


@dataclass
class _ThreadWatch:
    name: str
    watchdog: LoopWatchdog
    loop: weakref.ref[asyncio.AbstractEventLoop] | None = None
    loops: int = 0


def blockage_event(thread_id: int, thread: str, blockage: LoopBlockage) -> WatchedBlockage:
    """The wire form of a watchdog snapshot; its start time and thread identify it."""
    stack = tuple(f for f in (parse_frame(line) for line in blockage.stack) if f)
    return WatchedBlockage(
        key=f"{thread_id}@{blockage.started_at.isoformat()}", thread=thread,
        started_at=blockage.started_at, duration_ms=round(blockage.duration_ms, 3),
        ended=blockage.ended, where=blockage.where, trap=blockage.trap, stack=stack,
    )


class Agent:
    """Watches every asyncio loop of this process and reports to the parent."""

    def __init__(self, channel: Channel, threshold: float, interval: float) -> None:
        self.channel = channel
        self.threshold = threshold
        self.interval = interval
        self._lock = threading.Lock()
        self._watches: dict[int, _ThreadWatch] = {}
        self._active = True

    def install(self) -> None:
        original = asyncio.events._set_running_loop

        def _set_running_loop(loop: asyncio.AbstractEventLoop | None) -> None:
            original(loop)
            if loop is not None and self._active:
                try:
                    self.loop_started(loop)
                except Exception as exc:  # never break the program for a diagnostic
                    self._fail(f"could not watch a loop: {type(exc).__name__}: {exc}")

        asyncio.events._set_running_loop = _set_running_loop
        asyncio._set_running_loop = _set_running_loop  # uvloop binds this name
        atexit.register(self.finish)
        os.register_at_fork(after_in_child=self._forked)
        self.channel.send(Hello(os.getpid(), platform.python_version()))

    def loop_started(self, loop: asyncio.AbstractEventLoop) -> None:
        """In the loop's thread, as it starts running: watch it unless it is watched already."""
        thread = threading.current_thread()
        with self._lock:
            watch = self._watches.get(thread.ident or 0)
            if watch is None:
                watch = _ThreadWatch(thread.name, LoopWatchdog(
                    self.threshold, self.interval, logger=None,
                    on_blockage=self._reporter(thread.ident or 0, thread.name)))
                self._watches[thread.ident or 0] = watch
            if watch.loop is not None and watch.loop() is loop:
                return
            watch.loop = weakref.ref(loop)
            watch.loops += 1
            loops = watch.loops
        watch.watchdog.attach(loop)
        self.channel.send(LoopSeen(watch.name, loops))

    def _reporter(self, thread_id: int, thread: str) -> Callable[[LoopBlockage], None]:
        def report(blockage: LoopBlockage) -> None:
            self.channel.send(blockage_event(thread_id, thread, blockage))

        return report

    def finish(self) -> None:
        """At exit: stop the watchdogs and send what each measured."""
        if not self._active:
            return
        self._active = False
        with self._lock:
            watches = list(self._watches.values())
        for watch in watches:
            _settle(watch.watchdog)
            watch.watchdog.stop()
            self.channel.send(ThreadStats(
                watch.name, watch.loops, round(watch.watchdog.max_lag_ms, 3),
                round(watch.watchdog.p99_lag_ms, 3), watch.watchdog.heartbeats))
        self.channel.send(Bye())  # the pipe closes now because the program exits
        self.channel.close()

    def _forked(self) -> None:
        # A forked child (multiprocessing) is another program: it must not write to our pipe.
        self._active = False
        self._watches.clear()
        self.channel.close_after_fork()

    def _fail(self, message: str) -> None:
        self.channel.send(AgentError(message))


def _settle(watchdog: LoopWatchdog) -> None:
    """Give a blockage that just ended a moment to be measured before the watchdog stops.

    A program that exits right after its loop recovers (a Ctrl-C handled once a blocking call
    returns) would otherwise leave the blockage open, its final duration unsent.
    """
    deadline = time.monotonic() + 2 * watchdog.interval
    while watchdog.current_blockage() is not None and time.monotonic() < deadline:
        time.sleep(watchdog.interval / 10)


def start(config: Mapping[str, Any]) -> Agent:
    """Called by the bootstrap `sitecustomize` with the settings the parent sent."""
    fd = int(config["fd"])
    os.set_inheritable(fd, False)  # the program's own subprocesses must not keep it open
    code = config.get("code")
    if isinstance(code, str):  # `python -c`: its frames say <string>; give them their lines
        import linecache

        linecache.cache["<string>"] = (len(code), None, code.splitlines(True), "<string>")
    agent = Agent(Channel(fd), float(config["threshold"]), float(config["interval"]))
    agent.install()
    return agent
