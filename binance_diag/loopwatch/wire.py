"""What the watched program tells `binance-diag loopwatch`: JSON lines over an inherited pipe.

Pure. Both sides import this module, so the encoding lives in one place. One event per line;
the agent writes each line whole under a lock, so the lines of several watchdog threads never
interleave. An unknown or malformed line is ignored: the parent must survive whatever a
program does to the pipe.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

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


Event = Hello | LoopSeen | WatchedBlockage | ThreadStats | AgentError


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
    else:
        body = {"type": "error", "message": event.message}
    return json.dumps(body, ensure_ascii=True).encode() + b"\n"


def decode(line: bytes) -> Event | None:
    """The event on one line, or None for anything unreadable."""
    try:
        body = json.loads(line)
        kind = body["type"]
        if kind == "blockage":
            stack = tuple(f for f in (parse_frame(str(t)) for t in body["stack"]) if f)
            return WatchedBlockage(
                key=str(body["key"]), thread=str(body["thread"]),
                started_at=datetime.fromisoformat(body["started_at"]),
                duration_ms=float(body["duration_ms"]), ended=bool(body["ended"]),
                where=_optional_str(body["where"]), trap=_optional_str(body["trap"]),
                stack=stack,
            )
        if kind == "hello":
            return Hello(int(body["pid"]), str(body["python"]))
        if kind == "loop":
            return LoopSeen(str(body["thread"]), int(body["loops"]))
        if kind == "stats":
            return ThreadStats(str(body["thread"]), int(body["loops"]),
                               float(body["max_lag_ms"]), float(body["p99_lag_ms"]),
                               int(body["heartbeats"]))
        if kind == "error":
            return AgentError(str(body["message"]))
    except (ValueError, KeyError, TypeError):
        return None
    return None


def _optional_str(value: object) -> str | None:
    return None if value is None else str(value)
