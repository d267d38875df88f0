"""Ranking, severities, the analysis lines, and the report the engine hands back."""

from __future__ import annotations

import dataclasses

from binance_diag.diagnose import diagnose, diagnose_report, match_rules
from binance_diag.diagnose.describe import stage_line
from binance_diag.diagnose.rule import Proof, Rule, Scope
from binance_diag.exitcodes import ExitCode, exit_code_for
from binance_diag.model import (
    Blame,
    Blockage,
    ErrorKind,
    Experiment,
    LoopStats,
    OverallStatus,
    ProbeReport,
    Severity,
    StageName,
    Thresholds,
)
from tests.reports import AT, make_report, seed_report

TLS, TCP, DNS = StageName.TLS, StageName.TCP, StageName.DNS


def test_seed_incident_is_diagnosed_as_tls_silence() -> None:
    report = seed_report()
    top = report.findings[0]
    assert top.id == "tls.handshake_timeout"
    assert top.blame.value == "network"
    assert any("spot-443" in a for a in top.actions)
    assert any("data-stream" in a for a in top.actions)
    assert any("SNI" in a for a in top.actions)
    assert "0 bytes received from the server in 10.00 s" in top.evidence
    assert exit_code_for(report) is ExitCode.CRITICAL


def test_spot_443_is_not_suggested_when_already_on_443() -> None:
    report = make_report(endpoint="spot-443", fail=TLS, kind=ErrorKind.TIMEOUT,
                         extra={"bytes_received": 0})
    assert report.findings[0].id == "tls.handshake_timeout"
    assert not any("--endpoint spot-443" in a for a in report.findings[0].actions)


def test_a_wrong_dns_answer_outranks_the_failure_it_causes() -> None:
    report = make_report(overrides={DNS: {"addresses": ["127.0.0.1"]}},
                         fail=TCP, kind=ErrorKind.REFUSED)
    assert [f.id for f in report.findings] == ["dns.private_address", "tcp.port_blocked"]


def test_private_answer_is_only_a_warning_when_everything_passed() -> None:
    report = make_report(overrides={DNS: {"addresses": ["127.0.0.1"]}})
    finding = report.findings[0]
    assert (finding.id, finding.severity) == ("dns.private_address", Severity.WARNING)
    assert report.status is OverallStatus.DEGRADED
    assert exit_code_for(report) is ExitCode.WARNING


def test_loopback_is_fine_for_a_custom_endpoint() -> None:
    report = make_report(endpoint="ws://localhost:8765",
                         overrides={DNS: {"addresses": ["127.0.0.1"],
                                          "hosts_file": {"path": "/etc/hosts",
                                                         "addresses": ["127.0.0.1"]}}})
    assert [f.id for f in report.findings] == ["probe.healthy"]


def test_resolve_override_is_not_flagged_as_hijack() -> None:
    report = make_report(overrides={DNS: {"source": "--resolve", "addresses": ["127.0.0.1"]}})
    assert "dns.private_address" not in [f.id for f in report.findings]
    assert any("`--resolve`" in line for line in report.analysis)


def test_blocked_loop_during_a_timeout_is_the_root_cause() -> None:
    blockage = Blockage(AT, 4200.0, TLS, ("bot.py:42 in on_tick",))
    report = make_report(fail=TLS, kind=ErrorKind.TIMEOUT, extra={"bytes_received": 0},
                         loop=LoopStats(4200.0, 3.0, (blockage,)))
    assert report.findings[0].id == "loop.blocked_during_timeout"
    assert "bot.py:42 in on_tick" in report.findings[0].hypothesis
    assert "blocked 1 time(s)" in report.analysis[-1]


def test_blockage_makes_a_passing_run_degraded() -> None:
    blockage = Blockage(AT, 310.0, TCP, ())
    report = make_report(loop=LoopStats(310.0, 1.0, (blockage,)))
    assert report.status is OverallStatus.DEGRADED
    assert exit_code_for(report) is ExitCode.WARNING


def test_critical_threshold_on_a_passing_run_is_critical() -> None:
    report = make_report(thresholds=Thresholds(warn={TLS: 20.0}, crit={TLS: 50.0}))
    ids = [f.id for f in report.findings]
    assert ids[0] == "threshold.critical" and "threshold.warning" not in ids
    assert exit_code_for(report) is ExitCode.CRITICAL


def test_threshold_not_crossed_is_silent() -> None:
    report = make_report(thresholds=Thresholds(warn={TLS: 500.0}, crit={DNS: 500.0}))
    assert [f.id for f in report.findings] == ["probe.healthy"]


def test_slow_stage_measures_against_the_others() -> None:
    fast = make_report(durations={TLS: 450.0})  # under the 500 ms floor
    assert [f.id for f in fast.findings] == ["probe.healthy"]
    near = make_report(durations={StageName.FIRST_MESSAGE: 8000.0})  # 80 % of 10 s
    assert near.findings[0].id == "perf.slow_stage"
    assert "80% of its 10.00 s timeout" in near.findings[0].title


def test_diagnose_report_is_idempotent_and_keeps_measurements() -> None:
    once = seed_report()
    twice = diagnose_report(once)
    assert twice == once
    assert twice.stages == make_report(fail=TLS, kind=ErrorKind.TIMEOUT, timeouts={TLS: 10.0},
                                       message="ClientHello sent; no ServerHello in 10.00 s",
                                       extra={"bytes_received": 0},
                                       details={"bytes_received": 0},
                                       diagnosed=False).stages


def test_ranking_is_severity_then_table_order() -> None:
    report = make_report(fail=TLS, kind=ErrorKind.TIMEOUT, durations={TLS: 7300.0},
                         loop=LoopStats(2.0, 1.0, (Blockage(AT, 150.0, DNS, ()),)))
    severities = [f.severity for f in diagnose(report)]
    order = {Severity.CRITICAL: 0, Severity.WARNING: 1, Severity.INFO: 2}
    assert severities == sorted(severities, key=order.__getitem__)
    assert [m.rule.id for m in match_rules(report)] == [
        "tls.handshake_timeout", "runtime.timeout_late", "loop.blocked"]


def test_a_quiet_held_stream_is_not_a_stall() -> None:
    quiet = {"duration_s": 60.0, "messages": 6, "rate_per_s": 0.1, "largest_gap_ms": 30000.0,
             "median_gap_ms": 10000.0, "pings_seen": 3, "pongs_sent": 3, "closed": None}
    report = make_report(overrides={StageName.FIRST_MESSAGE: {"hold": quiet}})
    assert [f.id for f in report.findings] == ["probe.healthy"]
    first = report.stage(StageName.FIRST_MESSAGE)
    assert first is not None
    assert "held 60 s: 6 events (0.1/s), largest gap 30.00 s" in stage_line(first)


def test_a_stall_is_measured_against_the_spacing_before_it() -> None:
    """2 events 100 ms apart, then 7.8 s of silence: the average (0.25/s) would hide it."""
    stalled = {"duration_s": 8.0, "messages": 2, "rate_per_s": 0.25, "largest_gap_ms": 7800.0,
               "median_gap_ms": 100.0, "pings_seen": 0, "pongs_sent": 0, "closed": None}
    report = make_report(overrides={StageName.FIRST_MESSAGE: {"hold": stalled}})
    assert report.findings[0].id == "hold.stalled"
    assert exit_code_for(report) is ExitCode.WARNING


def loop_blocked_tls_timeout(blocked_ms: float, cause: str | None = None) -> ProbeReport:
    """The seed's TLS timeout, but the probe's own loop was blocked for `blocked_ms` of it."""
    import dataclasses

    from binance_diag.probe.runner import mark_blocked_time

    stalled = make_report(fail=TLS, kind=ErrorKind.TIMEOUT, timeouts={TLS: 1.0},
                          extra={"cause": cause} if cause else {}, diagnosed=False)
    tls = stalled.stage(TLS)
    assert tls is not None and tls.started_at is not None
    loop = LoopStats(blocked_ms, 1.0, (Blockage(tls.started_at, blocked_ms, TLS,
                                                ("/srv/bot/feed.py:88 in refit",)),),
                     monitored=True)
    blocked = dataclasses.replace(stalled, loop=loop,
                                  stages=mark_blocked_time(stalled.stages, loop))
    return diagnose_report(blocked)


def test_a_timeout_the_blocked_loop_caused_is_not_blamed_on_the_network() -> None:
    report = loop_blocked_tls_timeout(900.0)
    ids = [f.id for f in report.findings]
    assert ids[0] == "loop.blocked_during_timeout"
    assert "tls.handshake_timeout" not in ids
    assert any("says nothing about the network" in line for line in report.analysis)
    assert not any("SNI" in line for line in report.analysis)
    assert exit_code_for(report) is ExitCode.CRITICAL


def test_a_short_blockage_leaves_the_network_verdict_standing() -> None:
    report = loop_blocked_tls_timeout(150.0)
    ids = [f.id for f in report.findings]
    assert "tls.handshake_timeout" in ids
    assert "loop.blocked_during_timeout" in ids
    assert not any("says nothing about the network" in line for line in report.analysis)


def test_the_watchdogs_verdict_of_a_blocked_loop_is_enough() -> None:
    report = loop_blocked_tls_timeout(150.0, cause="loop_blocked")
    assert "tls.handshake_timeout" not in [f.id for f in report.findings]


def test_probe_again_repeats_the_users_command_without_its_output_options() -> None:
    from binance_diag.diagnose.facts import _rerun

    command = ("binance-diag probe BTCUSDT --endpoint wss://127.0.0.1:9 --ca-bundle 'my ca.pem' "
               "--format json --output=r.json --tls-timeout 2")
    assert _rerun(command, ("BTCUSDT",)) == (
        "binance-diag probe BTCUSDT --endpoint wss://127.0.0.1:9 --ca-bundle 'my ca.pem' "
        "--tls-timeout 2")
    assert _rerun("binance-diag demo --fault x", ("BTCUSDT",)) == "binance-diag probe BTCUSDT"
    slow = make_report(durations={TCP: 3000.0}, command=command)
    (finding,) = [f for f in slow.findings if f.id == "perf.slow_stage"]
    assert "`binance-diag probe BTCUSDT --endpoint wss://127.0.0.1:9" in finding.actions[0]


# Proof outranks likelihood: a finding an experiment confirmed comes before inferred ones of
# the same severity, whatever the table's order; severity still comes first.

def with_experiment(report: ProbeReport, name: str, outcome: str) -> ProbeReport:
    found = Experiment(name, "a question", "an action", outcome, f"it said {outcome}", AT,
                       1000.0)
    return dataclasses.replace(report, experiments=(*report.experiments, found))


def observation(rule_id: str, severity: Severity, *proofs: Proof) -> Rule:
    return Rule(rule_id, Scope.REPORT, severity, Blame.NETWORK, title=rule_id,
                meaning="a test rule", hypothesis="a test rule", confirmed_by=proofs)


def test_a_confirmed_finding_outranks_inferred_ones_of_its_severity() -> None:
    report = with_experiment(make_report(diagnosed=False), "x.check", "yes")
    rules = (observation("inferred.first", Severity.CRITICAL),
             observation("warning.proved", Severity.WARNING, Proof("x.check", "yes")),
             observation("critical.proved", Severity.CRITICAL, Proof("x.check", "yes")),
             observation("critical.unproved", Severity.CRITICAL, Proof("x.check", "no")))
    ranked = [(m.finding.id, m.finding.basis) for m in match_rules(report, rules)]
    assert ranked == [("critical.proved", "confirmed"), ("inferred.first", "inferred"),
                      ("critical.unproved", "inferred"), ("warning.proved", "confirmed")]


def test_a_confirmed_cause_outranks_a_short_loop_blockage() -> None:
    blocked = loop_blocked_tls_timeout(150.0)
    assert blocked.findings[0].id == "loop.blocked_during_timeout"  # inferred, ranked first
    report = diagnose_report(with_experiment(blocked, "tls.sni_variants", "name_blocked"))
    ids = [f.id for f in report.findings]
    assert ids[0] == "tls.sni_filtered" and report.findings[0].basis == "confirmed"
    assert "loop.blocked_during_timeout" in ids


def test_a_proof_stands_even_when_the_loop_explains_the_timeout() -> None:
    blocked = loop_blocked_tls_timeout(900.0)
    report = diagnose_report(with_experiment(blocked, "tls.small_mss", "answered"))
    ids = [f.id for f in report.findings]
    assert ids[0] == "tls.path_mtu_blackhole" and report.findings[0].basis == "confirmed"
    assert "loop.blocked_during_timeout" in ids
    assert not any("says nothing about the network" in line for line in report.analysis)
    # Without the proof, the loop still explains the timeout and no network rule is drawn.
    unproved = diagnose_report(with_experiment(blocked, "tls.small_mss", "silent"))
    assert "tls.handshake_timeout" not in [f.id for f in unproved.findings]
