"""diagnose/analysis.py: Problem Analysis, what the measurements rule in and out.

The first two tests read the analysis the engine wrote into a diagnosed report; the rest
feed `analyse` and its helpers undiagnosed reports and stage results (no I/O).
"""

from __future__ import annotations

from binance_diag.diagnose.analysis import (
    LOOP_CAUSED_SHARE,
    analyse,
    loop_caused,
    loop_caused_line,
    loop_measured,
    timeout_timing,
)
from binance_diag.model import (
    Blockage,
    ErrorKind,
    LoopStats,
    StageError,
    StageName,
    StageResult,
    StageStatus,
)
from tests.reports import AT, make_report, seed_report

DNS, TCP, TLS = StageName.DNS, StageName.TCP, StageName.TLS
UPGRADE, MESSAGE = StageName.WS_UPGRADE, StageName.FIRST_MESSAGE
NEVER_BLOCKED = ("The event loop was never blocked (max lag 1.8 ms), so the timings measured "
                 "the network, not this process.")


def test_seed_analysis_rules_things_in_and_out() -> None:
    analysis = seed_report().analysis
    assert analysis[0].startswith("TCP connected to `52.199.12.133:9443` in 41.2 ms, so DNS, "
                                  "routing and a plain port block are ruled out")
    assert "SNI-based filtering" in analysis[1]
    assert "not reached" in analysis[2]
    assert analysis[3].startswith("The event loop was never blocked (max lag 1.8 ms)")


def test_unmonitored_loop_is_not_claimed_healthy() -> None:
    report = make_report(loop=LoopStats())
    assert "not monitored" in report.analysis[-1]


def test_a_healthy_run_rules_out_everything_up_to_the_stream() -> None:
    assert analyse(make_report(diagnosed=False)) == (
        "The first event arrived 152.1 ms after the upgrade, so the stream works end to end "
        "from this machine.",
        NEVER_BLOCKED,
    )


def test_the_failure_line_and_observations_follow_the_furthest_stage() -> None:
    report = make_report(fail=TLS, kind=ErrorKind.RESET, diagnosed=False)
    lines = analyse(report, "FAILURE", ("SEEN 1", "SEEN 2"))
    assert lines == (
        "TCP connected to `52.199.12.133:9443` in 41.2 ms, so DNS, routing and a plain port "
        "block are ruled out.",
        "FAILURE", "SEEN 1", "SEEN 2",
        "The WebSocket upgrade and first message were not reached: nothing is known about "
        "them.",
        "The event loop was never blocked (max lag 1.8 ms), so the timings measured the "
        "network, not this process.",
    )


def test_one_unreached_stage_is_spoken_of_in_the_singular() -> None:
    lines = analyse(make_report(fail=UPGRADE, kind=ErrorKind.HTTP_STATUS, diagnosed=False))
    assert "The first message was not reached: nothing is known about it." in lines


def test_a_stage_that_never_applies_is_not_called_unreached() -> None:
    report = make_report(endpoint="ws://127.0.0.1:8765", fail=UPGRADE,
                         kind=ErrorKind.HTTP_STATUS, diagnosed=False)
    unreached = [line for line in analyse(report) if "not reached" in line]
    assert unreached == ["The first message was not reached: nothing is known about it."]


def test_dns_not_tested_is_said_and_not_counted_as_ruled_out() -> None:
    report = make_report(overrides={DNS: {"source": "--resolve"}}, fail=TLS,
                         kind=ErrorKind.RESET, diagnosed=False)
    lines = analyse(report)
    assert lines[0] == "DNS was not tested: `--resolve` gave the address."
    assert lines[1] == ("TCP connected to `52.199.12.133:9443` in 41.2 ms, so routing and a "
                        "plain port block are ruled out.")


def test_where_the_address_came_from_when_dns_was_not_asked() -> None:
    ip = make_report(overrides={DNS: {"source": "ip-literal"}}, diagnosed=False)
    assert analyse(ip)[0] == "The target is an IP address: no DNS lookup was needed."
    hosts = make_report(overrides={DNS: {"source": "hosts-file"}}, diagnosed=False)
    assert analyse(hosts)[0].startswith("DNS was not used: the hosts file gave the address")


def test_the_furthest_stage_of_each_kind() -> None:
    through_proxy = make_report(proxy=True, fail=TCP, kind=ErrorKind.REFUSED,
                                diagnosed=False)
    assert analyse(through_proxy)[0] == ("The proxy opened a tunnel in 12.5 ms, so DNS and the "
                                         "proxy are ruled out.")
    at_dns = make_report(fail=TCP, kind=ErrorKind.REFUSED, diagnosed=False)
    assert analyse(at_dns)[0] == ("DNS answered in 23.4 ms (2 address(es)), so name "
                                  "resolution is ruled out.")
    at_tls = make_report(fail=UPGRADE, kind=ErrorKind.HTTP_STATUS, diagnosed=False)
    assert analyse(at_tls)[0] == (
        "TLS completed in 88.6 ms with a certificate issued by `CN=GeoTrust TLS RSA CA G1,"
        "OU=www.digicert.com,O=DigiCert Inc,C=US`, trusted by certifi 2026.10.19, so DNS, "
        "routing, port blocks, SNI filtering and TLS interception are ruled out.")
    at_upgrade = make_report(fail=MESSAGE, kind=ErrorKind.TIMEOUT, diagnosed=False)
    assert analyse(at_upgrade)[0].startswith("The upgrade was answered with HTTP 101 in "
                                             "45.3 ms, so the network path works up to HTTP")


def test_the_loop_line_names_the_worst_blockage() -> None:
    blockages = (Blockage(AT, 310.0, DNS), Blockage(AT, 4200.0, TLS))
    report = make_report(fail=TLS, kind=ErrorKind.TIMEOUT,
                         loop=LoopStats(4200.0, 3.0, blockages), diagnosed=False)
    assert analyse(report)[-1] == ("The event loop was blocked 2 time(s), worst 4.20 s during "
                                   "tls: the timings then measured this process, not only the "
                                   "network.")
    quiet = make_report(fail=TLS, kind=ErrorKind.TIMEOUT, diagnosed=False)
    assert analyse(quiet)[-1].endswith("so the timeout measured the network, not this process.")


def test_a_loop_counts_as_measured_by_any_sign_of_a_watchdog() -> None:
    assert not loop_measured(LoopStats())
    assert loop_measured(LoopStats(monitored=True))
    assert loop_measured(LoopStats(max_lag_ms=0.1))
    assert loop_measured(LoopStats(blockages=(Blockage(AT, 200.0, None),)))
    assert loop_measured(LoopStats(deadline_enforced_by_watchdog=True))


def timed_out(blocked_ms: float, timeout_s: float = 1.0, **extra: str) -> StageResult:
    return StageResult(TLS, StageStatus.TIMEOUT, timeout_s, AT, timeout_s * 1000 + 3,
                       StageError(ErrorKind.TIMEOUT, "timed out", extra),
                       loop_blocked_ms=blocked_ms)


def test_a_timeout_is_the_loops_when_it_was_blocked_for_half_the_budget() -> None:
    assert LOOP_CAUSED_SHARE == 0.5
    assert loop_caused(timed_out(500.0))
    assert not loop_caused(timed_out(499.0))
    assert loop_caused(timed_out(0.0, cause="loop_blocked"))  # the watchdog said so
    passed = StageResult(TLS, StageStatus.OK, 1.0, AT, 900.0, loop_blocked_ms=900.0)
    assert not loop_caused(passed)
    assert loop_caused_line(timed_out(900.0, timeout_s=2.0)) == (
        "The TLS timeout says nothing about the network: the event loop was blocked for "
        "900.0 ms of the stage (budget 2.00 s), so nothing could be sent, read or timed out "
        "meanwhile.")


def test_timeout_timing_says_whether_the_timeout_fired_on_time() -> None:
    on_time = StageResult(TLS, StageStatus.TIMEOUT, 10.0, AT, 10003.0)
    assert timeout_timing(on_time) == ("The TLS handshake timeout fired on time (10.003 s for "
                                       "a 10.00 s budget).")
    late = StageResult(TLS, StageStatus.TIMEOUT, 10.0, AT, 10600.0)
    assert timeout_timing(late) == ("The TLS handshake timeout fired 600.0 ms late (10.600 s "
                                    "for a 10.00 s budget).")
    assert timeout_timing(StageResult(TLS, StageStatus.TIMEOUT, 10.0)) == ""
