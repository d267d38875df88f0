"""The pipe between the agent and `binance-diag loopwatch`: frames and JSON-line events
(loopwatch/wire.py)."""

from __future__ import annotations

import pytest

from binance_diag.loopwatch.wire import (
    MAX_LINE_BYTES,
    AgentError,
    Bye,
    Event,
    Hello,
    LineSplitter,
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
     AgentError("ImportError: no module"), Bye()],
)
def test_every_event_survives_the_pipe(event: Event) -> None:
    line = encode(event)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert decode(line) == event


@pytest.mark.parametrize("line", [b"", b"not json", b"{}", b'{"type": "nope"}',
                                  b'{"type": "hello", "pid": "x"}', b"[1, 2]"])
def test_garbage_on_the_pipe_is_ignored(line: bytes) -> None:
    assert decode(line) is None


DEEP = 100_000


@pytest.mark.parametrize("line", [
    b"[" * DEEP + b"]" * DEEP,  # RecursionError in json.loads
    b'{"type": "hello", "pid": 1, "python": ' + b"[" * 900 + b"]" * 900 + b"}",
    b'{"type": "hello", "pid": 1, "python": {"a": 1}}',  # no str() of whatever came
    b'{"type": "hello", "pid": true, "python": "3.12"}',
    b'{"type": "loop", "thread": "MainThread", "loops": 1.5}',
    b'{"type": "error", "message": ["x"]}',
    b'{"type": "stats", "thread": "t", "loops": 1, "max_lag_ms": NaN, "p99_lag_ms": 1,'
    b' "heartbeats": 1}',
    b'{"type": "blockage", "key": "k", "thread": "t", "started_at": "2026-01-01T00:00:00",'
    b' "duration_ms": 1, "ended": true, "where": null, "trap": null, "stack": []}',  # naive
    b'{"type": "blockage", "key": "k", "thread": "t", "started_at": '
    b'"2026-01-01T00:00:00+00:00", "duration_ms": -1, "ended": true, "where": null,'
    b' "trap": null, "stack": []}',
    b'{"type": "blockage", "key": "k", "thread": "t", "started_at": '
    b'"2026-01-01T00:00:00+00:00", "duration_ms": 1, "ended": 1, "where": null,'
    b' "trap": null, "stack": [' + b"[" * 900 + b"]" * 900 + b"]}",
    b"\xff\xfe",
])
def test_hostile_lines_are_unreadable_never_an_exception(line: bytes) -> None:
    """What a program writes on the pipe is input: a type other than the agent's own is
    refused, not converted (str() of a deep list is itself a RecursionError)."""
    assert decode(line) is None


def test_lines_are_split_across_reads_and_kept_whole() -> None:
    splitter = LineSplitter()
    assert splitter.feed(b'{"a"') == []
    assert splitter.feed(b': 1}\n{"b": 2}\n{"c"') == [b'{"a": 1}', b'{"b": 2}']
    assert splitter.feed(b": 3}\n") == [b'{"c": 3}']
    assert splitter.buffered == 0 and splitter.dropped == 0


def test_an_endless_line_is_dropped_and_buffering_stays_bounded() -> None:
    """64 MB without a newline took 40 s (each read re-copied the whole buffer) while the
    program blocked on the pipe: now at most MAX_LINE_BYTES are held, each byte once."""
    splitter = LineSplitter()
    chunk = b"x" * 65536
    for _ in range(64 * 1024 * 1024 // len(chunk)):
        assert splitter.feed(chunk) == []
        assert splitter.buffered <= MAX_LINE_BYTES
    assert splitter.feed(b"tail\n" + encode(Hello(1, "3.12"))) == [encode(Hello(1, "3.12"))[:-1]]
    assert splitter.dropped == 1
    long_but_fine = b"y" * (MAX_LINE_BYTES - 1)
    assert splitter.feed(long_but_fine + b"\n") == [long_but_fine]
    assert splitter.feed(b"z" * MAX_LINE_BYTES + b"\n") == []  # one byte too many
    assert splitter.dropped == 2
