"""Problem Analysis: what the measurements rule in and out, in a few sentences.

Pure. The furthest stage that passed rules out everything a connection needs up to it; the
failure rule adds what the failure's signature means; the event loop's record says whether
the timings measured the network or this process.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..model import LoopStats, ProbeReport, StageName, StageResult, StageStatus
from ..timing import format_ms
from .describe import (
    LATE_MS,
    STAGE_ACTIONS,
    code,
    not_applicable,
    seconds,
    stage_time,
    took,
)

RULED_OUT = {
    StageName.DNS: "name resolution is ruled out",
    StageName.PROXY: "the proxy is ruled out",
    StageName.TCP: "{dns}routing and a plain port block are ruled out",
    StageName.TLS: "{dns}routing, port blocks, SNI filtering and TLS interception are "
                   "ruled out",
    StageName.WS_UPGRADE: "the network path works up to HTTP, and the upgrade itself was "
                          "not refused (no location, WAF or rate-limit answer)",
    StageName.FIRST_MESSAGE: "the stream works end to end from this machine",
}


def loop_measured(loop: LoopStats) -> bool:
    """Whether a watchdog watched the loop (reports built by hand may only carry figures)."""
    return (loop.monitored or loop.max_lag_ms > 0 or bool(loop.blockages)
            or loop.deadline_enforced_by_watchdog)


LOOP_CAUSED_SHARE = 0.5
"""A timeout whose budget the loop spent at least this much of blocked was the loop's doing."""


def loop_caused(stage: StageResult) -> bool:
    """Whether a timed-out stage timed out because its own event loop was blocked."""
    if stage.status is not StageStatus.TIMEOUT:
        return False
    if stage.error is not None and stage.error.extra.get("cause") == "loop_blocked":
        return True
    return stage.loop_blocked_ms >= LOOP_CAUSED_SHARE * stage.timeout_s * 1000


def loop_caused_line(stage: StageResult) -> str:
    budget = format_ms(stage.timeout_s * 1000)
    return (f"The {stage.name.label} timeout says nothing about the network: the event loop "
            f"was blocked for {format_ms(stage.loop_blocked_ms)} of the stage (budget "
            f"{budget}), so nothing could be sent, read or timed out meanwhile.")


def analyse(report: ProbeReport, failure_line: str = "",
            observed: Sequence[str] = ()) -> tuple[str, ...]:
    lines: list[str] = []
    passed = [s for s in report.stages if s.status is StageStatus.OK]
    dns = report.stage(StageName.DNS)
    dns_tested = dns is not None and dns.passed and dns.details.get("source") == "dns"
    if len(passed) > 1 and dns is not None and dns.passed and not dns_tested:
        lines.append(_furthest(dns, dns_tested))
    if passed:
        lines.append(_furthest(passed[-1], dns_tested))
    if failure_line:
        lines.append(failure_line)
    lines.extend(observed)
    unreached = [STAGE_ACTIONS[s.name] for s in report.stages
                 if s.status is StageStatus.SKIPPED
                 and not not_applicable(s, report.target.secure)]
    if unreached:
        lines.append(f"The {_join(unreached)} {'was' if len(unreached) == 1 else 'were'} not "
                     "reached: nothing is known about "
                     f"{'it' if len(unreached) == 1 else 'them'}.")
    lines.append(_loop_line(report))
    return tuple(lines)


def _furthest(stage: StageResult, dns_tested: bool = True) -> str:
    d = stage.details
    if stage.name is StageName.DNS and d.get("source") == "ip-literal":
        return "The target is an IP address: no DNS lookup was needed."
    if stage.name is StageName.DNS and d.get("source") == "--resolve":
        return "DNS was not tested: `--resolve` gave the address."
    if stage.name is StageName.DNS and d.get("source") == "hosts-file":
        return ("DNS was not used: the hosts file gave the address, as it does for ordinary "
                "clients.")
    if stage.name is StageName.DNS:
        fact = f"DNS answered in {took(stage)} ({len(d.get('addresses') or [])} address(es))"
    elif stage.name is StageName.PROXY:
        fact = f"The proxy opened a tunnel in {took(stage)}"
    elif stage.name is StageName.TCP:
        fact = f"TCP connected to {code(d.get('connected_to', '?'))} in {stage_time(stage)}"
    elif stage.name is StageName.TLS:
        cert = d.get("certificate")
        issuer = f" with a certificate issued by {code(cert.get('issuer'))}" \
            if isinstance(cert, Mapping) else ""
        fact = f"TLS completed in {took(stage)}{issuer}, trusted by {d.get('trust', 'certifi')}"
    elif stage.name is StageName.WS_UPGRADE:
        fact = f"The upgrade was answered with HTTP {d.get('status')} in {took(stage)}"
    else:
        fact = f"The first event arrived {stage_time(stage)} after the upgrade"
    ruled_out = RULED_OUT[stage.name].format(dns="DNS, " if dns_tested else "")
    if stage.name is StageName.PROXY and dns_tested:
        ruled_out = "DNS and the proxy are ruled out"
    return f"{fact}, so {ruled_out}."


def _loop_line(report: ProbeReport) -> str:
    loop = report.loop
    if not loop_measured(loop):
        return ("The event loop was not monitored in this run, so a blocked loop is not "
                "ruled out by measurement.")
    if loop.blockages:
        worst = max(loop.blockages, key=lambda b: b.duration_ms)
        during = f" during {worst.stage.value}" if worst.stage else ""
        return (f"The event loop was blocked {len(loop.blockages)} time(s), worst "
                f"{format_ms(worst.duration_ms)}{during}: the timings then measured this "
                "process, not only the network.")
    timed_out = [s for s in report.stages if s.status is StageStatus.TIMEOUT]
    subject = "the timeout" if timed_out else "the timings"
    return (f"The event loop was never blocked (max lag {format_ms(loop.max_lag_ms)}), so "
            f"{subject} measured the network, not this process.")


def timeout_timing(stage: StageResult) -> str:
    """`fired on time (10.003 s for a 10.00 s budget)`, or how late it was."""
    if stage.duration_ms is None:
        return ""
    late = stage.duration_ms - stage.timeout_s * 1000
    actual = f"{stage.duration_ms / 1000:.3f} s for a {seconds(stage.timeout_s)} budget"
    if late <= LATE_MS:
        return f"The {STAGE_ACTIONS[stage.name]} timeout fired on time ({actual})."
    return f"The {STAGE_ACTIONS[stage.name]} timeout fired {format_ms(late)} late ({actual})."


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
