"""The pipe between the agent and `binance-diag loopwatch`: frames and JSON-line events
(loopwatch/wire.py)."""

from __future__ import annotations

import pytest

from binance_diag.loopwatch.wire import (
    AgentError,
    Event,
    Hello,
    LoopSeen,
    ThreadStats,
    decode,
    encode,
    parse_frame,
)
from tests.loopwatch.helpers import blockage


@pytest.mark.parametrize(
    "text",
    ["bot.py:12 in handler: time.sleep(0.3)", "bot.py:3 in <module>",
     "C:/x y/bot.py:9 in f: d = {'a': 1}: x", "websockets/proxy.py:45 in get_proxy"],
)
def test_frames_read_back_as_formatted(text: str) -> None:
    frame = parse_frame(text)
    assert frame is not None and str(frame) == text


def test_a_line_that_is_no_frame_is_none() -> None:
    assert parse_frame("something else") is None


@pytest.mark.parametrize(
    "event",
    [blockage(), blockage(ended=False, where=None, trap=None, stack=()),
     Hello(42, "3.11.7"), LoopSeen("feed", 2), ThreadStats("MainThread", 1, 301.5, 2.25, 99),
     AgentError("ImportError: no module")],
)
def test_every_event_survives_the_pipe(event: Event) -> None:
    line = encode(event)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert decode(line) == event


@pytest.mark.parametrize("line", [b"", b"not json", b"{}", b'{"type": "nope"}',
                                  b'{"type": "hello", "pid": "x"}', b"[1, 2]"])
def test_garbage_on_the_pipe_is_ignored(line: bytes) -> None:
    assert decode(line) is None
