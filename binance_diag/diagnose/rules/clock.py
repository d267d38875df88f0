"""Rules for event times against the local clock: the clock is off, or delivery is late.

The raw lag (local receipt - event time E) is the clock offset plus the latency, and alone
cannot tell them apart. The `clock.server_time` experiment measures the offset against
Binance's server time (NTP-style, with its bound); with it, one rule says "your clock is
off", another "delivery is late". Without it (not run, or no answer), one rule names the
lag and says what is known - a negative lag can only be the clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...model import Blame, Severity, StageName, StageStatus
from ...probe.experiments.catalogue import SERVER_TIME
from ...probe.sansio.servertime import SKEW_SUSPECT_MS, event_lags
from ...timing import format_ms
from ..describe import code
from ..facts import Facts
from ..rule import Action, Proof, Rule, Scope, Subject
from .common import detail

WARNING = Severity.WARNING
MESSAGE = StageName.FIRST_MESSAGE
CLOCK_OFF = Proof(SERVER_TIME, "clock_off", "clock_off_and_late")
LATE = Proof(SERVER_TIME, "late_delivery", "clock_off_and_late")
SEPARATED = Proof(SERVER_TIME, "clock_off", "late_delivery", "clock_off_and_late")
CHECK_CLOCK = Action("Check the local clock: `timedatectl status`, `chronyc tracking`")
RESYNC = Action("Resync: `sudo chronyc makestep` or `sudo timedatectl set-ntp true`")


def lags(subject: Subject) -> list[float]:
    return list(event_lags(detail(subject, "streams")).values())


def lag_suspect(facts: Facts, subject: Subject) -> bool:
    """event times differ from the local clock by over 2 s"""
    if subject is None or subject.status is not StageStatus.OK:
        return False
    return any(abs(lag) > SKEW_SUSPECT_MS for lag in lags(subject))


def first_message_ok(facts: Facts, subject: Subject) -> bool:
    """the first message arrived"""
    return subject is not None and subject.status is StageStatus.OK


def approx(ms: float) -> str:
    """`5.0 s`, `850 ms`: an offset as people say it."""
    return f"{abs(ms) / 1000:.1f} s" if abs(ms) >= 1000 else f"{abs(ms):.0f} ms"


def measured(facts: Facts) -> dict[str, Any]:
    found = facts.experiment(SERVER_TIME)
    return dict(found.details) if found is not None else {}


def worst_latency(details: Mapping[str, Any]) -> dict[str, Any]:
    streams = details.get("streams") or {}
    return max(streams.values(), key=lambda s: abs(s.get("latency_ms", 0.0)), default={})


def raw_values(facts: Facts, subject: Subject) -> Mapping[str, str]:
    lag = max(lags(subject), key=abs, default=0.0)
    found = facts.experiments.get(SERVER_TIME)
    if found is None:
        why = "the server time was not measured"
    elif not found.ran:
        why = found.result  # "not measured: no address for ..."
    elif found.outcome == "not_separated":
        why = f"the server time did not separate them: {found.result}"
    else:
        why = f"the server time was not measured: {found.result}"
    if lag < 0:
        known = (f"an event cannot arrive before Binance stamped it, so this machine's clock "
                 f"is behind by at least {format_ms(-lag)}")
    else:
        known = "a clock ahead and late delivery look the same from here"
    return {"skew": format_ms(abs(lag)), "side": "behind" if lag < 0 else "ahead of",
            "known": known, "why": why}


def raw_lines(facts: Facts, subject: Subject) -> list[str]:
    lines = []
    for name, info in (detail(subject, "streams") or {}).items():
        lag = info.get("event_time_lag_ms")
        if isinstance(lag, int | float):
            lines.append(f"{code(name)}: event time E {info.get('event_time')} was received "
                         f"{lag:+.0f} ms later by the local clock")
    return lines


def offset_values(facts: Facts, subject: Subject) -> Mapping[str, str]:
    details = measured(facts)
    offset, bound = float(details.get("offset_ms", 0.0)), float(details.get("bound_ms", 0.0))
    worst = worst_latency(details)
    return {"offset": approx(offset), "bound": format_ms(bound),
            "side": "behind" if offset > 0 else "ahead of",
            "server": str(details.get("server", "the REST host")),
            "latency": format_ms(float(worst.get("latency_ms", 0.0))),
            "latency_bound": format_ms(float(worst.get("bound_ms", bound)))}


def offset_lines(facts: Facts, subject: Subject) -> list[str]:
    details = measured(facts)
    lines = []
    if "offset_ms" in details:
        where = code(f"{details.get('server')}{details.get('path')}")
        lines.append(f"Binance's server time ({where}) minus this clock: "
                     f"{details['offset_ms']:+.1f} ms ± {details.get('bound_ms')} ms (the "
                     f"best of {details.get('samples')} round trips: {details.get('rtt_ms')} ms)")
    for name, info in (details.get("streams") or {}).items():
        lines.append(f"{code(name)}: raw lag {info.get('event_time_lag_ms'):+.0f} ms by the "
                     f"local clock, event-to-receipt latency {info.get('latency_ms'):.1f} ms "
                     f"± {info.get('bound_ms')} ms by Binance's")
    return lines


OBSERVATIONS = (
    Rule(
        "message.clock_off", Scope.STAGE, WARNING, Blame.LOCAL,
        title="Your clock is off by ~{offset} (± {bound}): it is {side} Binance's server time",
        meaning="Binance's server time, measured NTP-style with its error bound, differs from "
                "the local clock by more than a second: the local clock is off.",
        hypothesis="Binance's server time at {server} says this machine's clock is {offset} "
                   "{side} it (± {bound}); read on Binance's clock, events arrive "
                   "{latency} ± {latency_bound} after their time. Signed REST requests "
                   "fail with -1021 once the offset passes their recvWindow.",
        stage=MESSAGE, when=first_message_ok, evidence=offset_lines, values=offset_values,
        confirmed_by=(CLOCK_OFF,), needs_confirmation=True,
        actions=(CHECK_CLOCK, RESYNC),
    ),
    Rule(
        "message.late_delivery", Scope.STAGE, WARNING, Blame.NETWORK,
        title="Delivery is late: events arrive {latency} (± {latency_bound}) after Binance "
              "stamped them",
        meaning="The clock agrees with Binance's server time, yet events arrive more than a "
                "second after their event time: delivery is late (a slow path, a queue, a "
                "busy reader).",
        hypothesis="This machine's clock is {offset} {side} Binance's server time at "
                   "{server} (± {bound}): within a second, so the lag is real: events arrive "
                   "{latency} ± {latency_bound} after Binance stamped them.",
        stage=MESSAGE, when=first_message_ok, evidence=offset_lines, values=offset_values,
        confirmed_by=(LATE,), needs_confirmation=True,
        actions=(Action("Check this machine's load: a busy process reads its socket late "
                        "(`--duration 60` shows the event loop's lag)"),
                 Action("Compare another path: `{again:--endpoint data-stream}`, or from "
                        "another network")),
    ),
    Rule(
        "message.clock_skew", Scope.STAGE, WARNING, Blame.LOCAL,
        title="This machine's clock is {skew} {side} Binance's event times: the clock, or "
              "late delivery (not told apart)",
        meaning="Event times differ from the local clock by more than network latency "
                "explains; without Binance's server time the clock and late delivery are "
                "not told apart.",
        hypothesis="Binance stamps each event with its own clock; the local receive time "
                   "differs by {skew}: {known}. The clock is the likelier cause (signed REST "
                   "requests would fail with -1021 too); {why}.",
        stage=MESSAGE, when=lag_suspect, evidence=raw_lines, values=raw_values,
        separated_by=(SERVER_TIME,), ruled_out_by=(SEPARATED,),
        actions=(CHECK_CLOCK, RESYNC,
                 Action("Measure it: run again with a `--resolve` pin for the market's REST "
                        "host (e.g. `api.binance.com:443:ADDRESS`)",
                        when=lambda facts, subject: facts.binance,
                        note="for a Binance host")),
    ),
)
