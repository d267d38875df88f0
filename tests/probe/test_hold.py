"""`--duration` (probe/hold.py): the stream kept open after the first message, measured."""

from __future__ import annotations

from dataclasses import replace

import pytest

from binance_diag.model import StageName, StageStatus
from binance_diag.probe.dns import resolve_addresses
from binance_diag.probe.hold import hold_stream
from binance_diag.probe.message import receive_first_message
from binance_diag.probe.tcp import connect_tcp
from binance_diag.probe.upgrade import upgrade_websocket
from binance_diag.simulate.certs import CertificateAuthority
from binance_diag.simulate.scenario import start_fault
from binance_diag.simulate.server import ServerOptions
from tests.probe.helpers import config_for, probe, run_stages
from tests.utils import MS

TO_MESSAGE = (resolve_addresses, connect_tcp, upgrade_websocket, receive_first_message)


def test_holding_a_healthy_stream_counts_events_for_its_duration() -> None:
    duration = 400 * MS
    options = ServerOptions(interval=20 * MS)
    with start_fault("healthy", tls=False, options=options) as scenario:
        config = config_for(scenario, ("BTCUSDT", "ETHUSDT"))
        chain = run_stages(config, TO_MESSAGE,
                           then=lambda state: hold_stream(config, state, duration))
    hold = chain.then
    assert hold is not None
    assert duration <= hold["duration_s"] < duration + 200 * MS
    assert set(hold["per_stream"]) == {"btcusdt@aggTrade", "ethusdt@aggTrade"}
    assert hold["messages"] == sum(hold["per_stream"].values()) >= 10
    assert hold["rate_per_s"] == pytest.approx(hold["messages"] / hold["duration_s"], rel=0.01)
    assert hold["other_messages"] == 0 and hold["closed"] is None
    assert (hold["pings_seen"], hold["pongs_sent"], hold["ping_interval_s"]) == (0, 0, None)
    assert hold["server_shutdown"] is False


def test_a_close_ends_the_hold_early_with_its_code() -> None:
    options = ServerOptions(shutdown_after=2, interval=20 * MS)
    with start_fault("server-shutdown", tls=False, options=options) as scenario:
        config = config_for(scenario)
        chain = run_stages(config, TO_MESSAGE,
                           then=lambda state: hold_stream(config, state, 2000 * MS))
    hold = chain.then
    assert hold is not None
    assert hold["closed"] == {"code": 1001, "reason": "server shutdown"}
    assert hold["server_shutdown"] is True and hold["other_messages"] == 1
    assert hold["duration_s"] < 1.0


def test_duration_measures_rate_gaps_and_pings(certs: CertificateAuthority) -> None:

    from binance_diag.simulate.server import ServerOptions

    options = ServerOptions(ping_interval=100 * MS, interval=50 * MS)
    with start_fault("ping-timeout", certs=certs, options=options) as scenario:
        config = replace(config_for(scenario), hold=800 * MS)
        report = probe(config)
    message = report.stage(StageName.FIRST_MESSAGE)
    assert message is not None and message.status is StageStatus.OK
    hold = message.details["hold"]
    assert hold["closed"] is None  # we answered every ping, so the server kept us
    assert hold["pings_seen"] >= 4
    assert hold["pongs_sent"] == hold["pings_seen"]
    assert 50 * MS <= hold["ping_interval_s"] < 200 * MS
    assert hold["messages"] >= 5
    assert hold["largest_gap_ms"] < 300
    assert 0 < hold["median_gap_ms"] <= hold["largest_gap_ms"]


def test_duration_sees_a_stall(certs: CertificateAuthority) -> None:

    from binance_diag.simulate.server import ServerOptions

    options = ServerOptions(message_count=2, interval=50 * MS)
    with start_fault("stall-after", certs=certs, options=options) as scenario:
        report = probe(replace(config_for(scenario), hold=600 * MS))
    message = report.stage(StageName.FIRST_MESSAGE)
    assert message is not None
    hold = message.details["hold"]
    assert hold["messages"] == 1  # the second of two; the first was the stage's
    assert hold["largest_gap_ms"] >= 450


@pytest.mark.timeout(20)
def test_a_peer_that_stops_reading_is_noticed_and_reported() -> None:
    """deaf-peer floods pings and reads nothing: our pongs fill its TCP window. The hold
    must stop at a bounded write, keep its figures, and the run must not be healthy."""
    from binance_diag.diagnose import diagnose_report
    from binance_diag.model import OverallStatus

    options = ServerOptions(message_count=2, interval=20 * MS)
    with start_fault("deaf-peer", tls=False, options=options) as scenario:
        report = diagnose_report(probe(replace(config_for(scenario), hold=6000 * MS)))
    message = report.stage(StageName.FIRST_MESSAGE)
    assert message is not None and message.status is StageStatus.OK
    hold = message.details["hold"]
    assert "error" not in hold, hold
    assert hold["messages"] > 0 and hold["pings_seen"] > 0
    stalled = hold["send_stalled"]
    assert stalled is not None and stalled["unsent_bytes"] > 0 and stalled["waited_s"] == 2.0
    assert hold["duration_s"] < 5.5
    ids = [finding.id for finding in report.findings]
    assert ids[0] == "hold.send_stalled", ids
    assert report.findings[0].blame.value == "remote"
    assert report.status is OverallStatus.DEGRADED
