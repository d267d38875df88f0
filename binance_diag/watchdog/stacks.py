"""Where a thread or a task is stuck, as `file:line in function: code` lines, and which known
trap (a blocking call on the event-loop thread) that place is.

Theory of operation: the watchdog samples the loop thread's Python stack from another thread
(`sys._current_frames`), the supervisor walks a task's chain of awaits (`cr_await`). Both are
reduced to the frames that say something: the asyncio machinery that called into the code
(`Handle._run`, `_run_once`...) is trimmed, and the innermost frame outside the standard library
is "where". `KNOWN_TRAPS` is a table, like the diagnosis rules: each row names the frames or
the source line that give a trap away and the hint a report shows for it.
"""

from __future__ import annotations

import asyncio
import gc
import os
import re
import sys
import threading
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import Any

Frames = Sequence[traceback.FrameSummary]
"""Frame summaries, outermost first (traceback order)."""

DEFAULT_MAX_FRAMES = 12

_ASYNCIO_DIR = os.path.dirname(asyncio.__file__) + os.sep
_STDLIB_DIR = os.path.dirname(os.__file__) + os.sep
_PACKAGE_DIRS = (os.sep + "site-packages" + os.sep, os.sep + "dist-packages" + os.sep)


def thread_frames(thread_id: int) -> list[traceback.FrameSummary]:
    """The stack a thread is executing right now, outermost first; empty if it is gone.

    Safe to call from another thread: `sys._current_frames` is how faulthandler-style tools
    sample a stuck thread. Source lines are looked up later, when formatted, by the caller.
    """
    frame = current_frames().get(thread_id)
    if frame is None:
        return []
    return _summaries(traceback.walk_stack(frame))


_frames_lock = threading.Lock()


def current_frames() -> dict[int, FrameType]:
    """`sys._current_frames()` with the garbage collector held off.

    CPython 3.11 builds that dict under the runtime's thread-list lock; an allocation in it
    can start a collection whose weakref callbacks run Python code and hand the GIL over
    while the lock is held, and a thread then starting or ending (it needs that lock, GIL
    in hand) deadlocks the process (gh-106883; seen with many probes in `serve`). The lock
    here keeps one sampler's `gc.enable()` from landing inside another's call.
    """
    with _frames_lock:
        enabled = gc.isenabled()
        gc.disable()
        try:
            return sys._current_frames()
        finally:
            if enabled:
                gc.enable()


def running_loop_of_thread(thread_id: int) -> asyncio.AbstractEventLoop | None:
    """The asyncio loop whose `run_forever` is on that thread's stack, if any.

    Read from another thread: `sys._current_frames` gives the thread's innermost frame, and
    the `self` of a `run_forever` / `_run_once` frame is the loop. Only those frames' locals
    are read.
    """
    frame = current_frames().get(thread_id)
    while frame is not None:
        if frame.f_code.co_name in _LOOP_RUN_FUNCTIONS:
            candidate = frame.f_locals.get("self")
            if isinstance(candidate, asyncio.AbstractEventLoop):
                return candidate
        frame = frame.f_back
    return None


_LOOP_RUN_FUNCTIONS = frozenset({"run_forever", "_run_once"})


def task_frames(task: asyncio.Future[Any]) -> list[traceback.FrameSummary]:
    """Where a task is suspended: its coroutine and every coroutine it awaits, outermost first.

    `Task.get_stack()` stops at the task's own coroutine (a suspended frame has no `f_back`),
    which names the `await inner()` line, not the line inside `inner` that is stuck. Following
    `cr_await` (`gi_yieldfrom`, `ag_await`) gives the real place, and when the innermost
    await is on another task (`await task`, `wait_for`, `shield`), the task's `_fut_waiter`
    (the future it is suspended on, in both asyncio implementations) leads into that task.
    """
    frames: list[tuple[FrameType, int]] = []
    seen: set[int] = set()
    current: Any = task
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        get_coro = getattr(current, "get_coro", None)
        awaitable: Any = get_coro() if get_coro is not None else None
        while awaitable is not None:
            frame = _first_attr(awaitable, "cr_frame", "gi_frame", "ag_frame")
            if frame is None:
                break
            frames.append((frame, frame.f_lineno))
            awaitable = _first_attr(awaitable, "cr_await", "gi_yieldfrom", "ag_await")
        current = getattr(current, "_fut_waiter", None)
    return _summaries(iter(frames), innermost_first=False)


def trim_loop_machinery(frames: Frames) -> list[traceback.FrameSummary]:
    """Drop the frames up to the innermost one inside asyncio: they only say "a callback ran".

    What is left is the code the loop called into: a task's coroutine, a protocol callback.
    A stack with nothing outside asyncio (a loop blocked in its own code) is kept whole.
    """
    for index in range(len(frames) - 1, -1, -1):
        if frames[index].filename.startswith(_ASYNCIO_DIR):
            if index + 1 < len(frames):
                return list(frames[index + 1 :])
            break
    return list(frames)


def format_frame(frame: traceback.FrameSummary) -> str:
    """`file:line in function: code line`, with library paths shortened to the package."""
    text = f"{short_path(frame.filename)}:{frame.lineno} in {frame.name}"
    line = (frame.line or "").strip()
    return f"{text}: {line}" if line else text


def format_stack(frames: Frames, max_frames: int = DEFAULT_MAX_FRAMES) -> tuple[str, ...]:
    """The innermost `max_frames` frames, formatted, outermost first."""
    kept = frames[-max_frames:] if max_frames > 0 else frames
    return tuple(format_frame(frame) for frame in kept)


def where(frames: Frames) -> str | None:
    """`file:line in function` of the innermost frame outside the standard library.

    That is the line a person can change: the `time.sleep` in their coroutine rather than the
    `socket.py` read it ends in. Falls back to the innermost frame.
    """
    if not frames:
        return None
    chosen = frames[-1]
    for frame in reversed(frames):
        if not _in_stdlib(frame.filename):
            chosen = frame
            break
    return f"{short_path(chosen.filename)}:{chosen.lineno} in {chosen.name}"


def short_path(filename: str) -> str:
    """`websockets/proxy.py` for installed packages and the standard library; others unchanged."""
    for marker in _PACKAGE_DIRS:
        position = filename.rfind(marker)
        if position >= 0:
            return filename[position + len(marker) :]
    if filename.startswith(_STDLIB_DIR):
        return filename[len(_STDLIB_DIR) :]
    return filename


def _in_stdlib(filename: str) -> bool:
    return filename.startswith(_STDLIB_DIR) and not any(m in filename for m in _PACKAGE_DIRS)


def _summaries(
    frames: Iterator[tuple[FrameType, int]], innermost_first: bool = True
) -> list[traceback.FrameSummary]:
    # No I/O here: the source lines are read lazily (`FrameSummary.line`), only for the frames
    # that are kept. `StackSummary.extract` would stat every file on the stack, and each
    # system call hands the GIL back to a spinning loop thread, 5 ms a time to get it again.
    result = [
        traceback.FrameSummary(
            frame.f_code.co_filename, lineno, frame.f_code.co_name, lookup_line=False
        )
        for frame, lineno in frames
    ]
    if innermost_first:
        result.reverse()
    return result


def _first_attr(obj: Any, *names: str) -> Any:
    for name in names:
        value = getattr(obj, name, None)
        if value is not None:
            return value
    return None


# -- known traps -----------------------------------------------------------------------------


@dataclass(frozen=True)
class KnownTrap:
    """A blocking call that is easy to make on the event-loop thread, and how to recognise it.

    A trap matches a stack when some frame matches one of `frames` (a path fragment, and a
    function name or `None` for any), or the innermost frame's source line matches `code`;
    and, if `inside` is set, some frame's path contains it.
    """

    id: str
    title: str
    hint: str
    frames: tuple[tuple[str, str | None], ...] = ()
    code: re.Pattern[str] | None = None
    inside: str | None = None

    def matches(self, frames: Frames) -> bool:
        if not frames:
            return False
        paths = [frame.filename.replace(os.sep, "/") for frame in frames]
        if self.inside is not None and not any(self.inside in path for path in paths):
            return False
        for frame, path in zip(frames, paths, strict=True):
            for fragment, function in self.frames:
                if fragment in path and (function is None or function == frame.name):
                    return True
        innermost = (frames[-1].line or "").strip()
        return self.code is not None and self.code.search(innermost) is not None


def _not_awaited(call: str) -> re.Pattern[str]:
    """A call on the innermost line that is not awaited: an await would have yielded."""
    return re.compile(rf"^(?!.*\bawait\b).*{call}")


_PROXY_LOOKUP = tuple(
    ("/urllib/request.py", function)
    for function in (
        "proxy_bypass",
        "proxy_bypass_environment",
        "proxy_bypass_registry",
        "proxy_bypass_macosx_sysconf",
        "_proxy_bypass_macosx_sysconf",
        "getproxies",
        "getproxies_environment",
        "getproxies_registry",
        "getproxies_macosx_sysconf",
    )
)

KNOWN_TRAPS: tuple[KnownTrap, ...] = (
    KnownTrap(
        id="websockets_proxy_lookup",
        title="proxy lookup inside websockets.connect()",
        hint=(
            "websockets >= 15 looks up the system proxy settings "
            "(urllib.request.proxy_bypass / getproxies) on the event-loop thread when it "
            "connects, which can block on a DNS lookup on some systems; pass proxy=None to "
            "connect() if no proxy is needed, or set NO_PROXY for the host"
        ),
        frames=(("/websockets/proxy.py", "get_proxy"), *_PROXY_LOOKUP),
        inside="/websockets/",
    ),
    KnownTrap(
        id="proxy_lookup",
        title="system proxy lookup on the loop thread",
        hint=(
            "urllib.request.proxy_bypass / getproxies read the system proxy settings and "
            "can block on a DNS lookup; do it once at start-up or in asyncio.to_thread()"
        ),
        frames=_PROXY_LOOKUP,
    ),
    KnownTrap(
        id="sync_http",
        title="synchronous HTTP request in a coroutine",
        hint=(
            "requests / urllib / http.client block the loop for the whole request; use an "
            "asyncio client (aiohttp, httpx.AsyncClient) or await asyncio.to_thread(...)"
        ),
        frames=(
            ("/requests/", None),
            ("/urllib3/", None),
            ("/http/client.py", None),
            ("/urllib/request.py", "urlopen"),
        ),
    ),
    KnownTrap(
        id="sync_dns",
        title="blocking DNS lookup on the loop thread",
        hint=(
            "socket.getaddrinfo / gethostbyname block until the resolver answers; use "
            "await loop.getaddrinfo(...) (it runs in a thread) or an asyncio resolver"
        ),
        frames=(("/socket.py", "getaddrinfo"), ("/socket.py", "getfqdn")),
        code=_not_awaited(r"\b(?:getaddrinfo|gethostbyname(?:_ex)?|gethostbyaddr)\("),
    ),
    KnownTrap(
        id="sync_socket",
        title="blocking socket call on the loop thread",
        hint=(
            "a synchronous socket read, write or connect blocks until the peer answers; use "
            "asyncio streams or loop.sock_recv / sock_sendall / sock_connect"
        ),
        frames=(("/socket.py", None), ("/ssl.py", "recv"), ("/ssl.py", "read")),
        code=_not_awaited(
            r"\.(?:recv|recv_into|recvfrom|accept|connect|sendall|send)\(|create_connection\("
        ),
    ),
    KnownTrap(
        id="sync_subprocess",
        title="waiting for a subprocess on the loop thread",
        hint="use asyncio.create_subprocess_exec() and await proc.wait() / communicate()",
        frames=(("/subprocess.py", None),),
    ),
    KnownTrap(
        id="sync_wait",
        title="waiting for a thread, lock or queue on the loop thread",
        hint=(
            "future.result(), thread.join(), lock.acquire() or queue.get() block the loop; "
            "await asyncio.wrap_future(...) or asyncio.to_thread(...) instead"
        ),
        frames=(
            ("/concurrent/futures/_base.py", "result"),
            ("/threading.py", "join"),
            ("/threading.py", "wait"),
            ("/queue.py", "get"),
        ),
    ),
    KnownTrap(
        id="time_sleep",
        title="time.sleep() in a coroutine",
        hint="time.sleep() stops the whole event loop; use await asyncio.sleep(...)",
        code=_not_awaited(r"\b(?:time\.)?sleep\("),
    ),
    KnownTrap(
        id="file_io",
        title="file I/O on the loop thread",
        hint=(
            "reading or writing files blocks the loop (a slow disk, a network file system, a "
            "large file); use asyncio.to_thread(...) or loop.run_in_executor(...)"
        ),
        frames=(("/pathlib.py", None), ("/shutil.py", None), ("/json/__init__.py", "load")),
        code=_not_awaited(
            r"\bopen\(|\.(?:read|readline|readlines|read_text|read_bytes|write|write_text|"
            r"write_bytes|flush)\(|\bos\.fsync\("
        ),
    ),
)


def find_trap(frames: Frames, traps: Sequence[KnownTrap] = KNOWN_TRAPS) -> KnownTrap | None:
    """The first trap of the table that the stack matches (the table is ordered specific-first)."""
    for trap in traps:
        if trap.matches(frames):
            return trap
    return None
