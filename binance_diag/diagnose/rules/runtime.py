"""Rules about the run itself: the event loop, timeouts that fired late, slowness, thresholds.

These read `report.loop` (filled by the loop watchdog), stage durations against their
budgets, and `report.thresholds` (`--warn` / `--crit`).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping

from ...model import Blame, Blockage, ErrorKind, Severity, StageName, StageStatus
from ...probe.experiments.catalogue import REPEAT
from ...timing import format_ms
from ..describe import (
    LATE_MS,
    blockage_line,
    code,
    crossed_threshold,
    network_ms,
    seconds,
    stage_time,
)
from ..facts import Facts
from ..rule import Action, Proof, Rule, Scope, Subject
from .common import ATTACH, extra

CRITICAL, WARNING, INFO = Severity.CRITICAL, Severity.WARNING, Severity.INFO
CONNECTION_STAGES = (StageName.DNS, StageName.PROXY, StageName.TCP, StageName.TLS,
                     StageName.WS_UPGRADE)
SLOW_FLOOR_MS = 500.0
"""A stage faster than this is never called slow, whatever the ratio."""
SLOW_FACTOR = 10.0
"""A connection stage this many times slower than the median of the others is slow."""
NEAR_TIMEOUT = 0.75
"""A stage that passed using this share of its timeout came close to failing."""
ALL_KINDS = frozenset(ErrorKind)

LOOPWATCH = Action("Watch your own program's event loop: "
                   "`binance-diag loopwatch -- python mybot.py`")
OFF_THE_LOOP = Action("Move blocking calls off the event loop: "
                      "`await asyncio.to_thread(blocking_call, ...)`")
DEBUG_MODE = Action("Find blocking callbacks in development: `PYTHONASYNCIODEBUG=1 python "
                    "mybot.py` logs every callback slower than 100 ms")


def blockages_of(facts: Facts, stage: StageName | None = None) -> list[Blockage]:
    found = [b for b in facts.report.loop.blockages if stage is None or b.stage is stage]
    return sorted(found, key=lambda b: -b.duration_ms)


def loop_lines(facts: Facts, subject: Subject) -> list[str]:
    stage = subject.name if subject is not None else None
    lines = [blockage_line(b) for b in blockages_of(facts, stage)[:3]]
    loop = facts.report.loop
    lines.append(f"max loop lag {format_ms(loop.max_lag_ms)}")
    return lines


def loop_values(facts: Facts, subject: Subject) -> Mapping[str, str]:
    stage = subject.name if subject is not None else None
    found = blockages_of(facts, stage)
    total = sum(b.duration_ms for b in found)
    worst = found[0] if found else None
    return {
        "blocked": format_ms(total),
        "count": str(len(found)),
        "where": (worst.stack[-1] if worst and worst.stack else "an unknown location"),
    }


def blocked_during_timeout(facts: Facts, subject: Subject) -> bool:
    """a timed-out stage had event-loop blockages"""
    return subject is not None and subject.status is StageStatus.TIMEOUT and \
        bool(blockages_of(facts, subject.name))


def deadline_enforced(facts: Facts, subject: Subject) -> bool:
    """the watchdog enforced a deadline"""
    return facts.report.loop.deadline_enforced_by_watchdog


def any_blockage(facts: Facts, subject: Subject) -> bool:
    """the event loop was blocked"""
    return bool(facts.report.loop.blockages)


def cancellation_ignored(facts: Facts, subject: Subject) -> bool:
    """the stage ignored its cancellation"""
    return bool(extra(subject, "cancellation_ignored"))


def late_by_ms(subject: Subject) -> float:
    if subject is None or subject.status is not StageStatus.TIMEOUT or \
            subject.duration_ms is None:
        return 0.0
    return subject.duration_ms - subject.timeout_s * 1000


def timeout_late(facts: Facts, subject: Subject) -> bool:
    """a timeout fired over 250 ms late"""
    return late_by_ms(subject) > LATE_MS


def timing_values(facts: Facts, subject: Subject) -> Mapping[str, str]:
    return {"late": format_ms(late_by_ms(subject)),
            "abandoned_at": str(extra(subject, "abandoned_at") or "unknown")}


def timing_lines(facts: Facts, subject: Subject) -> list[str]:
    if subject is None:
        return []
    lines = [f"{subject.name.label}: budget {seconds(subject.timeout_s)}, reported after "
             f"{format_ms(subject.duration_ms or 0.0)}"]
    if extra(subject, "abandoned_at"):
        lines.append(f"abandoned at {code(extra(subject, 'abandoned_at'))}")
    return lines


def slow_reason(facts: Facts, subject: Subject) -> str:
    """Why a passed stage counts as slow, or "" when it does not."""
    if subject is None or subject.status is not StageStatus.OK or subject.duration_ms is None:
        return ""
    took = network_ms(subject) or 0.0  # a blocked loop is loop.blocked's, not the network's
    if took >= NEAR_TIMEOUT * subject.timeout_s * 1000:
        share = took / (subject.timeout_s * 1000)
        return (f"{format_ms(took)}, {share:.0%} of its {seconds(subject.timeout_s)} "
                "timeout")
    if subject.name not in CONNECTION_STAGES or took < SLOW_FLOOR_MS:
        return ""
    others = [network_ms(s) or 0.0 for s in facts.report.stages
              if s is not subject and s.name in CONNECTION_STAGES
              and s.status is StageStatus.OK and s.duration_ms is not None]
    if not others:
        return ""
    median = max(statistics.median(others), 1.0)
    if took < SLOW_FACTOR * median:
        return ""
    return (f"{format_ms(took)}, {took / median:.0f}× the {format_ms(median)} median of the "
            "other stages")


def slow(facts: Facts, subject: Subject) -> bool:
    """a passed stage was far slower than the others or near its timeout"""
    return bool(slow_reason(facts, subject))


def slow_values(facts: Facts, subject: Subject) -> Mapping[str, str]:
    return {"why": slow_reason(facts, subject)}


def repeat_of_this_stage(facts: Facts, subject: Subject) -> bool:
    """a passed stage was slow and the `timing.repeat` experiment repeated it"""
    found = facts.experiment(REPEAT)
    return slow(facts, subject) and found is not None and subject is not None \
        and found.details.get("stage") == subject.name.value


def repeat_values(facts: Facts, subject: Subject) -> Mapping[str, str]:
    found = facts.experiment(REPEAT)
    return {**slow_values(facts, subject), "repeat": found.result if found else "not run"}


SLOW_CAUSES = (
    ("perf.slow_once", "once", Blame.NETWORK, "a one-off delay",
     "The slow stage was fast when repeated: a one-off delay (a lost SYN retransmitted, a "
     "cold cache at the edge), not a steady property of the path.",
     (Action("Probe again a few times to see how often it happens: `{again}`"),)),
    ("perf.slow_path", "round_trips", Blame.NETWORK, "the path's round trips",
     "The slow stage is slow again and takes a few round trips of a slow path: the distance "
     "or a congested link, not the server.",
     (Action("Use a closer network path or region; compare `{again:--endpoint data-stream}`"),)),
    ("perf.slow_peer", "peer_slow", Blame.REMOTE, "the peer takes the time",
     "The slow stage is slow again while the TCP round trip is short: the peer (or a "
     "middlebox in front of it, e.g. TLS inspection) spends the time.",
     (Action("Look for TLS inspection or a slow proxy in front of {host}; compare another "
             "network"),)),
)


def slow_lines(facts: Facts, subject: Subject) -> list[str]:
    lines = [f"{s.name.label} {format_ms(s.duration_ms)}" for s in facts.report.stages
             if s.status is StageStatus.OK and s.duration_ms is not None]
    return ["; ".join(lines)]


def _crossed(facts: Facts, subject: Subject) -> tuple[str, float] | None:
    return crossed_threshold(facts.report.thresholds, subject) if subject is not None else None


def over_crit(facts: Facts, subject: Subject) -> bool:
    """a passed stage exceeded its `--crit` threshold"""
    crossed = _crossed(facts, subject)
    return crossed is not None and crossed[0] == "crit"


def over_warn(facts: Facts, subject: Subject) -> bool:
    """a passed stage exceeded its `--warn` threshold only"""
    crossed = _crossed(facts, subject)
    return crossed is not None and crossed[0] == "warn"


def threshold_values(facts: Facts, subject: Subject) -> Mapping[str, str]:
    crossed = _crossed(facts, subject)
    limit = crossed[1] if crossed is not None else 0.0
    # A sub-0.1 ms limit would print as 0.0 ms: show the number as it was given.
    text = format_ms(limit) if limit >= 0.1 else f"{limit:g} ms"
    return {"limit": text, "limit_ms": f"{limit:g}"}


def threshold_lines(facts: Facts, subject: Subject) -> list[str]:
    if subject is None:
        return []
    limits = []
    for flag, table in (("--warn", facts.report.thresholds.warn),
                        ("--crit", facts.report.thresholds.crit)):
        if subject.name in table:
            limits.append(f"{flag} {subject.name.value}={table[subject.name]:g}")
    return [f"{subject.name.label} took {format_ms(subject.duration_ms or 0.0)}; "
            f"thresholds {', '.join(limits)}"]


def no_failure(facts: Facts, subject: Subject) -> bool:
    """every stage passed"""
    return facts.healthy


def healthy_lines(facts: Facts, subject: Subject) -> list[str]:
    """Each passed stage's time, as the status lines give it (no DNS time without a query)."""
    return [f"{s.name.label} {stage_time(s)}" for s in facts.report.stages
            if s.status is StageStatus.OK and s.duration_ms is not None
            and not (s.name is StageName.DNS and s.details.get("source") != "dns")]


_TIMEOUT_FLAGS = {
    StageName.DNS: "--dns-timeout", StageName.PROXY: "--connect-timeout",
    StageName.TCP: "--connect-timeout", StageName.TLS: "--tls-timeout",
    StageName.WS_UPGRADE: "--upgrade-timeout", StageName.FIRST_MESSAGE: "--message-timeout",
}


def completed_late(facts: Facts, subject: Subject) -> bool:
    """the stage had its answer, but only after its deadline"""
    return isinstance(extra(subject, "completed_late_ms"), int | float)


def late_values(facts: Facts, subject: Subject) -> Mapping[str, str]:
    late = extra(subject, "completed_late_ms")
    budget = subject.timeout_s if subject is not None else 1.0
    name = subject.name if subject is not None else StageName.TCP
    return {"late": format_ms(float(late or 0.0)), "timeout_flag": _TIMEOUT_FLAGS[name],
            "longer": f"{max(1.0, math.ceil(budget * 2)):g}"}


PRECEDING = (
    Rule(
        "stage.completed_late", Scope.FAILURE, CRITICAL, Blame.NETWORK,
        title="{stage_label} answered only after its {timeout} deadline",
        meaning="The stage did get its answer, but after its deadline: a client with this "
                "timeout gives up just before the answer arrives.",
        hypothesis="{stage_label} completed {late} past its {timeout} budget: nothing is "
                   "blocked or filtered, the budget is tighter than this path (or this "
                   "process, if the event loop was busy) needs.",
        kinds=frozenset({ErrorKind.TIMEOUT}), when=completed_late,
        evidence=timing_lines, values=late_values,
        analysis="The answer came {late} late: the path works, slower than the budget.",
        actions=(Action("Probe again with a longer budget: `{again:{timeout_flag} {longer}}`"),
                 Action("In your program, give this step more than {timeout}")),
    ),
    Rule(
        "loop.deadline_enforced", Scope.REPORT, CRITICAL, Blame.LOCAL,
        title="The timeout could not fire: the watchdog had to end the run",
        meaning="A stage outlived its timeout plus a grace because the event loop was "
                "blocked or a task swallowed its cancellation; the watchdog thread produced "
                "the report.",
        hypothesis="asyncio timeouts only fire when the event loop runs: it was blocked "
                   "({blocked} at {where}), so the watchdog thread had to enforce the "
                   "deadline. This is the 'timeout not triggering' symptom.",
        when=deadline_enforced, evidence=loop_lines, values=loop_values,
        actions=(OFF_THE_LOOP, DEBUG_MODE, LOOPWATCH),
    ),
    Rule(
        "loop.blocked_during_timeout", Scope.STAGE, CRITICAL, Blame.LOCAL,
        title="The event loop was blocked during the {stage_label} timeout",
        meaning="A stage timed out while the event loop was blocked: the time was lost in "
                "this process, not (only) on the network.",
        hypothesis="The event loop was blocked {blocked} during {stage_label} (at {where}); "
                   "while blocked it reads nothing and fires no timer, so the timeout "
                   "measured this process as much as the network.",
        when=blocked_during_timeout, evidence=loop_lines, values=loop_values,
        actions=(OFF_THE_LOOP, DEBUG_MODE, LOOPWATCH),
    ),
    Rule(
        "runtime.cancellation_ignored", Scope.STAGE, CRITICAL, Blame.LOCAL,
        title="{stage_label} ignored its cancellation and was abandoned",
        meaning="A stage that timed out did not stop when cancelled (code that swallows "
                "`CancelledError`, or a blocking call): the runner abandoned it.",
        hypothesis="After its timeout the {stage_label} task was cancelled and kept running "
                   "(abandoned at {abandoned_at}): code on that path swallows "
                   "`CancelledError` or blocks, which is how timeouts fail to fire in bots.",
        when=cancellation_ignored, evidence=timing_lines, values=timing_values,
        actions=(Action("Never catch `CancelledError` (or bare `except:` / "
                        "`except BaseException`) without re-raising it"), OFF_THE_LOOP),
    ),
)

FAILURES = (
    Rule(
        "runtime.internal_error", Scope.FAILURE, CRITICAL, Blame.LOCAL,
        title="binance-diag failed internally during {stage_label}",
        meaning="A stage raised an unexpected exception or an unclassified OS error: a bug in "
                "binance-diag, or an OS condition it does not know yet.",
        hypothesis="The {stage_label} stage crashed: {message}. The measurements before it "
                   "stand; nothing is known about the rest.",
        kinds=frozenset({ErrorKind.INTERNAL}), evidence=timing_lines, values=timing_values,
        analysis="An internal error stopped the probe at {stage_label}: it says nothing about "
                 "the network.",
        actions=(Action("Run again with JSON output and report it: `{again} --format json`"),
                 ATTACH),
    ),
    Rule(
        "runtime.unclassified", Scope.FAILURE, CRITICAL, Blame.NETWORK,
        title="{stage_label} failed: {message}",
        meaning="A failure no more specific rule explains (a catch-all; please report it).",
        hypothesis="The {stage_label} stage failed in a way binance-diag has no specific "
                   "rule for: {message}",
        kinds=ALL_KINDS, evidence=timing_lines, values=timing_values,
        actions=(ATTACH,),
    ),
)

FOLLOWING = (
    Rule(
        "threshold.critical", Scope.STAGE, CRITICAL, Blame.NETWORK,
        title="{stage_label} took {took}, over the critical threshold {limit}",
        meaning="A stage passed but took longer than its `--crit STAGE=MS` threshold.",
        hypothesis="{stage_label} is slower than the {limit} you set as critical.",
        when=over_crit, evidence=threshold_lines, values=threshold_values,
        actions=(Action("Compare with another endpoint: `{again:--endpoint data-stream}`"),),
    ),
    Rule(
        "runtime.timeout_late", Scope.STAGE, WARNING, Blame.LOCAL,
        title="The {stage_label} timeout fired {late} late",
        meaning="A stage's timeout was reported well after its deadline: the event loop was "
                "blocked, or the stage ignored cancellation.",
        hypothesis="The {stage_label} deadline passed {late} before the stage stopped: "
                   "something kept the event loop from running the timeout on time.",
        when=timeout_late, evidence=timing_lines, values=timing_values,
        actions=(DEBUG_MODE, LOOPWATCH),
    ),
    Rule(
        "loop.blocked", Scope.REPORT, WARNING, Blame.LOCAL,
        title="The event loop was blocked {count} time(s), {blocked} in all",
        meaning="The loop watchdog saw the event loop blocked: a blocking call ran on the "
                "loop thread. While blocked, no timeout fires and no message is read.",
        hypothesis="A blocking call ran on the event loop thread (worst at {where}); while it "
                   "runs, timeouts cannot fire and nothing is read.",
        when=any_blockage, evidence=loop_lines, values=loop_values,
        actions=(OFF_THE_LOOP, DEBUG_MODE, LOOPWATCH),
    ),
    *(Rule(
        rule_id, Scope.STAGE, WARNING, blame,
        title="{stage_label} passed but was slow (" + words + ")",
        meaning=meaning,
        hypothesis="{stage_label} took {why}; the `timing.repeat` experiment says " + words
                   + ": {repeat}",
        when=repeat_of_this_stage, evidence=slow_lines, values=repeat_values,
        separated_by=(REPEAT,), confirmed_by=(Proof(REPEAT, outcome),),
        needs_confirmation=True, actions=actions,
    ) for rule_id, outcome, blame, words, meaning, actions in SLOW_CAUSES),
    Rule(
        "perf.slow_stage", Scope.STAGE, WARNING, Blame.NETWORK,
        title="{stage_label} passed but was slow: {why}",
        meaning="A stage passed but took far longer than the others (10× their median and "
                "over 500 ms) or used over 75 % of its timeout: the connection works, barely.",
        hypothesis="{stage_label} works but is far slower than the rest of the path ({why}): "
                   "a congested or filtered path, a slow resolver, or a distant edge; a "
                   "client with a tighter timeout fails here.",
        when=slow, evidence=slow_lines, values=slow_values,
        separated_by=(REPEAT,),
        ruled_out_by=(Proof(REPEAT, "once", "round_trips", "peer_slow"),),
        actions=(Action("Probe again to see if it repeats: `{again}`"),
                 Action("Compare with another host: `{again:--endpoint data-stream}`")),
    ),
    Rule(
        "threshold.warning", Scope.STAGE, WARNING, Blame.NETWORK,
        title="{stage_label} took {took}, over the warning threshold {limit}",
        meaning="A stage passed but took longer than its `--warn STAGE=MS` threshold.",
        hypothesis="{stage_label} is slower than the {limit} you set as a warning.",
        when=over_warn, evidence=threshold_lines, values=threshold_values,
        actions=(Action("Probe again to see if it repeats: `{again}`"),),
    ),
)

HEALTHY = (
    Rule(
        "probe.healthy", Scope.REPORT, INFO, Blame.LOCAL,
        title="Every stage passed: {streams} {deliver} data to this machine",
        meaning="Every stage passed: the network path to the stream works.",
        hypothesis="{worked} from this machine. If your program still gets nothing, look at the "
                   "program: its event loop, its URL, its timeouts.",
        when=no_failure, evidence=healthy_lines,
        actions=(LOOPWATCH,
                 Action("Compare your program's URL with the one probed: `{url}`")),
    ),
)
