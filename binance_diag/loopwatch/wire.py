"""What the watched program tells `binance-diag loopwatch`: JSON lines over an inherited pipe.

Pure. Both sides import this module, so the encoding lives in one place. One event per line;
the agent writes each line whole under a lock, so the lines of several watchdog threads never
interleave. The program shares the pipe (it can write on the descriptor, or reuse its number),
so whatever arrives is input: a line that is not one of the agent's events, field for field
and type for type, is unreadable (`decode` gives None, never an exception), and a line longer
than MAX_LINE_BYTES is dropped unread (`LineSplitter`). The parent counts both.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

MAX_LINE_BYTES = 1024 * 1024
"""The longest line read: a blockage with a 1000-frame stack is ~200 KB."""

ENV_VAR = "BINANCE_DIAG_LOOPWATCH"
"""Set only in the child's environment: the agent's settings (JSON); the agent removes it."""


@dataclass(frozen=True)
class Frame:
    """One stack frame as a report shows it."""

    file: str
    line: int
    function: str
    code: str | None = None

    def __str__(self) -> str:
        text = f"{self.file}:{self.line} in {self.function}"
        return f"{text}: {self.code}" if self.code else text


_FRAME_RE = re.compile(r"(?P<file>.+?):(?P<line>\d+) in (?P<function>\S+)(?:: (?P<code>.*))?")


def parse_frame(text: str) -> Frame | None:
    """Read back a `stacks.format_frame` line (`file:line in function: code`)."""
    match = _FRAME_RE.fullmatch(text)
    if match is None:
        return None
    return Frame(match["file"], int(match["line"]), match["function"], match["code"] or None)


@dataclass(frozen=True)
class Hello:
    """The agent is in place: the program will be watched."""

    pid: int
    python: str


@dataclass(frozen=True)
class LoopSeen:
    """A loop started running in `thread` and is watched from now on (`loops`: how many so far)."""

    thread: str
    loops: int


@dataclass(frozen=True)
class WatchedBlockage:
    """A blockage of a watched loop; snapshots of one blockage share `key`, the last one wins."""

    key: str
    thread: str
    started_at: datetime
    duration_ms: float
    ended: bool
    where: str | None
    trap: str | None
    stack: tuple[Frame, ...] = ()

    @property
    def culprit(self) -> Frame | None:
        """The frame named by `where` (the line to change), else the innermost one."""
        for frame in reversed(self.stack):
            if self.where == f"{frame.file}:{frame.line} in {frame.function}":
                return frame
        return self.stack[-1] if self.stack else None


@dataclass(frozen=True)
class ThreadStats:
    """What one thread's watchdog measured, sent when the program exits."""

    thread: str
    loops: int
    max_lag_ms: float
    p99_lag_ms: float
    heartbeats: int


@dataclass(frozen=True)
class AgentError:
    """The agent could not attach (an old Python, an import error): said once, then silent."""

    message: str


@dataclass(frozen=True)
class Bye:
    """The agent's last line, at the program's normal exit: a pipe that closes without it
    was closed by the program (or the program died)."""


Event = Hello | LoopSeen | WatchedBlockage | ThreadStats | AgentError | Bye


def encode(event: Event) -> bytes:
    """One JSON line."""
    body: dict[str, Any]
    if isinstance(event, WatchedBlockage):
        body = {
            "type": "blockage", "key": event.key, "thread": event.thread,
            "started_at": event.started_at.isoformat(), "duration_ms": event.duration_ms,
            "ended": event.ended, "where": event.where, "trap": event.trap,
            "stack": [str(frame) for frame in event.stack],
        }
    elif isinstance(event, Hello):
        body = {"type": "hello", "pid": event.pid, "python": event.python}
    elif isinstance(event, LoopSeen):
        body = {"type": "loop", "thread": event.thread, "loops": event.loops}
    elif isinstance(event, ThreadStats):
        body = {"type": "stats", "thread": event.thread, "loops": event.loops,
                "max_lag_ms": event.max_lag_ms, "p99_lag_ms": event.p99_lag_ms,
                "heartbeats": event.heartbeats}
    elif isinstance(event, Bye):
        body = {"type": "bye"}
    else:
        body = {"type": "error", "message": event.message}
    return json.dumps(body, ensure_ascii=True).encode() + b"\n"


def decode(line: bytes) -> Event | None:
    """The event on one line, or None for anything unreadable (never an exception)."""
    try:
        return _decode(line)
    except (ValueError, KeyError, TypeError, IndexError, RecursionError):
        # RecursionError: `[[[[...` nested past the interpreter's limit.
        return None


def _decode(line: bytes) -> Event | None:
    body = json.loads(line)
    if not isinstance(body, dict):
        return None
    kind = body.get("type")
    if kind == "blockage":
        started_at = datetime.fromisoformat(_str(body["started_at"]))
        if started_at.tzinfo is None:  # naive and aware times do not even compare
            return None
        stack = tuple(f for f in (parse_frame(_str(t)) for t in _list(body["stack"])) if f)
        return WatchedBlockage(
            key=_str(body["key"]), thread=_str(body["thread"]), started_at=started_at,
            duration_ms=_ms(body["duration_ms"]), ended=_bool(body["ended"]),
            where=_optional_str(body["where"]), trap=_optional_str(body["trap"]),
            stack=stack,
        )
    if kind == "hello":
        return Hello(_int(body["pid"]), _str(body["python"]))
    if kind == "loop":
        return LoopSeen(_str(body["thread"]), _int(body["loops"]))
    if kind == "stats":
        return ThreadStats(_str(body["thread"]), _int(body["loops"]),
                           _ms(body["max_lag_ms"]), _ms(body["p99_lag_ms"]),
                           _int(body["heartbeats"]))
    if kind == "error":
        return AgentError(_str(body["message"]))
    if kind == "bye":
        return Bye()
    return None


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError("not a string")
    return value


def _optional_str(value: object) -> str | None:
    return None if value is None else _str(value)


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("not an integer")
    return value


def _bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError("not a boolean")
    return value


def _ms(value: object) -> float:
    """A duration: a finite number, not negative (JSON lets NaN and Infinity through)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError("not a number")
    if not math.isfinite(value) or value < 0:
        raise ValueError("not a duration")
    return float(value)


def _list(value: object) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError("not a list")
    return value


class LineSplitter:
    """Bytes from the pipe, as they come, into whole lines (without their newline).

    Linear: each byte is copied into the buffer once, and only the new bytes are searched
    for a newline. Bounded: a line that reaches MAX_LINE_BYTES is dropped, and so is the rest
    of it up to its newline (`dropped` counts such lines), so a program that writes without
    newlines costs neither memory nor time.
    """

    def __init__(self, max_line: int = MAX_LINE_BYTES) -> None:
        self.max_line = max_line
        self.dropped = 0
        self._buffer = bytearray()
        self._skipping = False

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def feed(self, chunk: bytes) -> list[bytes]:
        lines: list[bytes] = []
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            if end < 0:
                self._keep(chunk, start, len(chunk))
                return lines
            self._keep(chunk, start, end)
            if not self._skipping:
                lines.append(bytes(self._buffer))
            self._buffer.clear()
            self._skipping = False
            start = end + 1

    def _keep(self, chunk: bytes, start: int, end: int) -> None:
        if self._skipping:
            return
        if len(self._buffer) + (end - start) >= self.max_line:
            self.dropped += 1
            self._skipping = True
            self._buffer.clear()
            return
        self._buffer += chunk[start:end]
