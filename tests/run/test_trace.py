"""run/trace.py: the `-v` trace lines from stage details and timeline events (pure parts),
and the tracer against a real probe of a loopback peer."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime

import pytest

from binance_diag.config.timeouts import Timeouts
from binance_diag.model import StageName, TimelineEvent
from binance_diag.probe.runner import STAGES, run_probe
from binance_diag.run.trace import VerboseTracer, detail_lines, event_line
from binance_diag.simulate.scenario import probe_config, start_fault


def test_event_line_has_the_time_and_the_stage() -> None:
    at = datetime(2026, 1, 4, 8, 41, 59, 784000, tzinfo=UTC)
    assert event_line(TimelineEvent(at, "TCP connect to 1.2.3.4:9443", StageName.TCP)) == \
        "* 08:41:59.784 [tcp] TCP connect to 1.2.3.4:9443"
    assert event_line(TimelineEvent(at, "probe started")) == "* 08:41:59.784 probe started"


def test_dns_details_become_queries_answers_and_the_rest() -> None:
    lines = detail_lines(StageName.DNS, {
        "resolver": "192.0.2.53",
        "queries": [{"type": "A", "result": "ok", "time_ms": 3.2},
                    {"type": "AAAA", "result": "timeout", "time_ms": 5000.0,
                     "message": "no answer in 5 s"}],
        "answers": [{"type": "A", "address": "192.0.2.1", "ttl": 60}],
        "cname_chain": ["stream.binance.com.cdn.example"],
        "source": "dns",
    })
    assert lines == [
        "> A query via 192.0.2.53: ok (3.2 ms)",
        "> AAAA query via 192.0.2.53: timeout (5000.0 ms) - no answer in 5 s",
        "< A 192.0.2.1 ttl 60",
        "< CNAME stream.binance.com.cdn.example",
        "* source: dns",
    ]


def test_a_refused_upgrade_shows_status_headers_and_body() -> None:
    lines = detail_lines(StageName.WS_UPGRADE, {
        "path": "/ws/btcusdt@aggTrade", "user_agent": "binance-diag", "status": 451,
        "reason": "Unavailable For Legal Reasons", "headers": {"content-type": "application/json"},
        "body_excerpt": '{"code":0,"msg":"restricted location"}',
    })
    assert lines == [
        "> GET /ws/btcusdt@aggTrade HTTP/1.1",
        "> User-Agent: binance-diag",
        "< HTTP/1.1 451 Unavailable For Legal Reasons",
        "< content-type: application/json",
        '< {"code":0,"msg":"restricted location"}',
    ]


def test_unknown_details_are_never_dropped() -> None:
    assert detail_lines(StageName.PROXY, {"proxy": "http://***@192.0.2.9:3128", "status": 200}
                        ) == ["* proxy: http://***@192.0.2.9:3128", "* status: 200"]


@pytest.mark.timeout(30)
def test_verbose_tracer_writes_the_run_as_it_goes() -> None:
    stream = io.StringIO()
    with start_fault("healthy") as scenario:
        tracer = VerboseTracer(stream=stream)
        report = asyncio.run(run_probe(probe_config(scenario, Timeouts(2, 2, 2, 2, 2, 2)),
                                       tracer, stages=tracer.traced(STAGES)))
    assert report.failed_stage is None
    trace = stream.getvalue()
    for event in report.timeline:  # each as it happened, in order
        assert event_line(event) + "\n" in trace
    assert [trace.index(event_line(e)) for e in report.timeline] == sorted(
        trace.index(event_line(e)) for e in report.timeline)
    assert "< HTTP/1.1 101 Switching Protocols" in trace
    assert tracer.outcomes == {}  # each stage's outcome printed once, then let go
