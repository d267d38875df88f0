"""probe/base.py: outcomes, the state a stage hands down, and the one trace hook."""

from __future__ import annotations

import socket

from binance_diag.model import ErrorKind, StageName, StageStatus
from binance_diag.probe.base import (
    TIMELINE_HEAD,
    TIMELINE_TAIL,
    ProbeState,
    Tracer,
    failed,
    passed,
)
from binance_diag.probe.connection import Connection


def test_passed_and_failed_outcomes() -> None:
    ok = passed(addresses=["127.0.0.1"])
    assert (ok.status, ok.error, ok.details) == (StageStatus.OK, None, {"addresses": ["127.0.0.1"]})
    refused = failed(ErrorKind.REFUSED, "connection refused", {"errno": 111}, attempts=[])
    assert refused.status is StageStatus.FAILED
    assert refused.error is not None and refused.error.extra == {"errno": 111}
    assert refused.details == {"attempts": []}
    timeout = failed(ErrorKind.TIMEOUT, "no answer")
    assert timeout.status is StageStatus.TIMEOUT
    assert timeout.error is not None and timeout.error.extra == {}


def test_the_tracer_attributes_events_to_the_running_stage_and_tells_listeners() -> None:
    seen: list[tuple[StageName, str, float | None]] = []
    tracer = Tracer(listeners=[lambda *args: seen.append(args)])
    tracer.event("before any stage")
    tracer.stage_changed(StageName.DNS, "start", None)
    tracer.event("query sent")
    tracer.stage_changed(StageName.DNS, "ok", 1.5)
    tracer.stage_changed(StageName.TCP, "skipped", None)  # not a start: DNS keeps the events
    tracer.event("after")
    assert [(e.event, e.stage) for e in tracer.events] == [
        ("before any stage", None), ("query sent", StageName.DNS), ("after", StageName.DNS)]
    assert seen == [(StageName.DNS, "start", None), (StageName.DNS, "ok", 1.5),
                    (StageName.TCP, "skipped", None)]
    assert tracer.events[0].at <= tracer.events[-1].at


def test_closing_the_state_closes_its_connection() -> None:
    ProbeState().close()  # nothing open: nothing to do
    ours, peer = socket.socketpair()
    with peer:
        state = ProbeState(connection=Connection(ours, ("127.0.0.1", 0)))
        state.close()
        assert ours.fileno() == -1
        assert peer.recv(1) == b""  # the peer sees EOF


def test_the_timeline_keeps_its_first_and_last_events_and_counts_the_rest() -> None:
    """A flood of replies added a timeline event each: 886k of them, 236 s to report."""
    tracer = Tracer()
    for n in range(100_000):
        tracer.event(f"event {n}")
    events = [e.event for e in tracer.events]
    assert len(events) == TIMELINE_HEAD + 1 + TIMELINE_TAIL
    assert events[:2] == ["event 0", "event 1"] and events[-1] == "event 99999"
    kept = TIMELINE_HEAD + TIMELINE_TAIL
    assert events[TIMELINE_HEAD] == (
        f"… {100_000 - kept} events not kept (timeline cap {kept}: the first "
        f"{TIMELINE_HEAD} and the last {TIMELINE_TAIL} are)")
    times = [e.at for e in tracer.events]
    assert times == sorted(times)


def test_timeline_events_are_one_printable_line() -> None:
    tracer = Tracer()
    tracer.event("close frame received: 1008 \x1b]0;pwned\x07\n::error::x")
    (event,) = tracer.events
    assert event.event == "close frame received: 1008 \\x1b]0;pwned\\x07\\n::error::x"
