"""watch/session.py: events, closes told apart, the exit code and the summary (fed by
hand), and a whole short session against a loopback peer."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from binance_diag.exitcodes import ExitCode
from binance_diag.simulate.certs import CertificateAuthority
from binance_diag.simulate.scenario import start_fault
from binance_diag.simulate.server import ServerOptions
from binance_diag.watch.config import StallRule, WatchConfig
from binance_diag.watch.events import Conclusion, EventKind
from binance_diag.watch.held import HeldConnection, HoldEnd
from binance_diag.watch.session import WatchSession
from tests.probe.helpers import config_for, make_config
from tests.utils import MS

CONFIG = WatchConfig(make_config("wss://stream.binance.com:9443"), duration=60.0,
                     lifetime=3600.0)


def held(session: WatchSession, shutdown: bool = False) -> HeldConnection:
    connection = HeldConnection(session.config.probe, session.stats, session.line)
    connection.shutdown_notice = shutdown
    return connection


@pytest.mark.parametrize(("end", "shutdown", "conclusion", "code"), [
    (HoldEnd(closed={"code": 1008, "reason": "Pong timeout"}), False,
     Conclusion.POLICY_CLOSE, ExitCode.WARNING),
    (HoldEnd(closed={"code": 1001, "reason": "going away"}), True,
     Conclusion.SERVER_SHUTDOWN, ExitCode.OK),
    (HoldEnd(send_stalled={"pending": 3}), False, Conclusion.UNEXPECTED_CLOSE,
     ExitCode.WARNING),
    (HoldEnd(error="OSError: [Errno 104] reset"), False, Conclusion.UNEXPECTED_CLOSE,
     ExitCode.WARNING),
])
def test_a_close_becomes_its_event(end: HoldEnd, shutdown: bool, conclusion: Conclusion,
                                   code: ExitCode, tmp_path: Path) -> None:
    session = WatchSession(WatchConfig(CONFIG.probe, lifetime=3600.0, reports=tmp_path))
    event = session._closed(held(session, shutdown), end)
    assert event is not None and event.conclusion is conclusion
    assert event.kind is EventKind.CLOSE
    assert session.exit_code is code
    assert (tmp_path / f"{event.slug}.md").is_file()
    assert session.stats.closes and session.counts[conclusion.value] == 1
    if conclusion is Conclusion.POLICY_CLOSE:
        assert any("pongs went out on time" in line for line in event.evidence)
    assert session._closed(held(session), None) is None


def test_the_worst_severity_decides_and_the_summary_lists_every_event() -> None:
    session = WatchSession(CONFIG)
    assert session.exit_code is ExitCode.OK
    session.new_event(EventKind.CLOSE, Conclusion.DAILY_DISCONNECT, "daily", [])
    assert session.exit_code is ExitCode.OK
    session.new_event(EventKind.STALL, Conclusion.RESUMED, "resumed", [])
    assert session.exit_code is ExitCode.WARNING
    session.new_event(EventKind.STALL, Conclusion.CONNECTION_STUCK, "stuck", [])
    assert session.exit_code is ExitCode.CRITICAL
    summary = session.summary()
    assert summary["exit_code"] == 2 and summary["events"]["counts"] == {
        "daily_disconnect": 1, "resumed": 1, "connection_stuck": 1}
    markdown = session.summary_markdown()
    assert markdown.startswith("# binance-diag watch: CRITICAL")
    assert "`incident-0003-stall`" in markdown and "No probe ran" in markdown
    assert any("[critical] stall: stuck" in text for _, text in session.timeline.lines)
    assert session.status_lines()[-1].startswith("events: daily_disconnect x1")


def test_checks_the_silence_often_enough_for_its_floor() -> None:
    fast = WatchSession(WatchConfig(CONFIG.probe, stall=StallRule(floor=0.2)))
    slow = WatchSession(WatchConfig(CONFIG.probe, stall=StallRule(floor=60)))
    assert fast._check_interval() == 0.05 and slow._check_interval() == 1.0
    assert fast.investigation_bound > 1.0


@pytest.mark.timeout(20)
def test_a_short_healthy_session(certs: CertificateAuthority) -> None:
    with start_fault("healthy", certs=certs, options=ServerOptions(interval=50 * MS)) as s:
        config = WatchConfig(config_for(s), duration=1500 * MS, every=500 * MS,
                             stall=StallRule(floor=5.0))

        async def run() -> WatchSession:
            session = WatchSession(config)
            await session.run()
            return session

        started = time.perf_counter()
        session = asyncio.run(run())
        took = time.perf_counter() - started
    assert took < 1500 * MS + 3.0, took
    assert session.exit_code is ExitCode.OK and not session.events
    assert session.stats.connections == 1 and session.stats.messages >= 10
    assert session.series.runs >= 1
    assert [text for _, text in session.timeline.lines][-1] == "watch ended"
