"""A whole watch: the held stream with stall forensics and reconnects, the periodic probe
beside it, incidents as they happen, the summary at the end.

Theory of operation: two tasks share one loop. The held task connects (a full probe),
holds, and watches the silence: past the stall threshold it investigates at once
(forensics.py), and after a close or a stuck connection it reconnects with backoff,
timing the recovery. The probe task runs a fresh probe every `every` seconds into the
`ProbeSeries`. Both end at the duration, or when `stop` is set (Ctrl-C, SIGTERM); a stall
investigation in flight at the duration may finish first, within `investigation_bound`: its
conclusion is what the watch was for, and cutting it off would lose the event.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .. import __version__
from ..exitcodes import ExitCode
from ..figures.series import ProbeSeries
from ..model import JSON, LoopStats, ProbeReport, Severity
from ..probe.base import Tracer
from ..probe.budget import run_budget
from ..probe.runner import ProbeProgress, build_report, run_probe
from ..timing import format_seconds, utc_now
from .clock import WatchClock, clock_lines
from .config import WatchConfig
from .events import Conclusion, EventKind, WatchEvent, WatchTimeline, classify_close
from .forensics import StallEvidence, conclude, quiet_market
from .held import HeldConnection, HoldEnd
from .incidents import IncidentWriter, summary_table
from .stream import HeldStreamStats
from .view import PlainView

ANSWER_WAIT = 1.0
"""Seconds the held connection gets to answer LIST_SUBSCRIPTIONS during a stall."""
CHECK_EVERY = 0.05
"""How often the silence is measured against the stall threshold (at most)."""
KEPT_EVENTS = 1000
"""Events kept one by one for the summary (all are counted)."""
WRITE_ALLOWANCE = 1.0
"""Seconds to write an incident report, beyond the investigation itself."""


async def fresh_probe(config: WatchConfig) -> ProbeReport:
    """One full probe on a new connection, diagnosed; never longer than its budget."""
    from ..diagnose import diagnose_report

    tracer = Tracer()
    progress = ProbeProgress(config.probe, config.command)
    try:
        async with asyncio.timeout(run_budget(config.probe)):
            report = await run_probe(config.probe, tracer, config.command, progress=progress)
    except TimeoutError:
        report = build_report(progress, tracer, LoopStats())
    # The rules are CPU work: off the loop the held stream shares, so its lag stays its own.
    return await asyncio.to_thread(diagnose_report, report)


@dataclass
class WatchSession:
    config: WatchConfig
    view: PlainView | None = None
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    started: float = field(default_factory=time.perf_counter)
    started_at: datetime = field(default_factory=utc_now)
    timeline: WatchTimeline = field(default_factory=WatchTimeline)
    series: ProbeSeries = field(default_factory=ProbeSeries)
    events: list[WatchEvent] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    held: HeldConnection | None = None
    interrupted: bool = False
    _numbers: int = 0
    _idle: asyncio.Event = field(default_factory=asyncio.Event)
    """Set while no stall investigation is in flight."""
    on_event: Callable[[WatchEvent], None] | None = None
    """Told each new event as it is made (the exporter counts them for /metrics)."""
    kept_events: int = KEPT_EVENTS
    """Events kept one by one for the summary; the exporter, which writes none, keeps few."""

    def __post_init__(self) -> None:
        self.stats = HeldStreamStats(self.started)
        self.writer = IncidentWriter(self.config.reports) if self.config.reports else None
        self.until = self.started + self.config.duration
        self.clock = WatchClock(self.config.probe)
        self._idle.set()

    @property
    def investigation_bound(self) -> float:
        """The longest a stall investigation takes: a fresh probe within its budget (or the
        wait for the held connection's answer), then the incident written."""
        return max(run_budget(self.config.probe), ANSWER_WAIT) + WRITE_ALLOWANCE

    # -- lines, events, incidents ----------------------------------------------------

    def line(self, text: str) -> None:
        self.timeline.add(text)
        if self.view is not None:
            self.view.line(text)

    def new_event(self, kind: EventKind, conclusion: Conclusion, title: str,
                  evidence: list[str], report: ProbeReport | None = None,
                  **details: JSON) -> WatchEvent:
        self._numbers += 1
        event = WatchEvent(self._numbers, kind, conclusion, title, evidence=evidence,
                           details=dict(details), report=report)
        self.counts[conclusion.value] += 1
        self.events.append(event)
        del self.events[:max(len(self.events) - self.kept_events, 0)]
        if self.on_event is not None:
            self.on_event(event)
        self.line(f"[{event.severity.value}] {kind.value}: {title}")
        self.write(event)
        return event

    def write(self, event: WatchEvent) -> None:
        if self.writer is None:
            return
        try:
            path = self.writer.write(event, self.timeline.around(event.at),
                                     self.stats.to_dict(time.perf_counter()),
                                     self.config.probe.target.url)
        except OSError as exc:
            self.line(f"cannot write incident {event.number}: {exc}")
        else:
            self.line(f"incident report: {path}")

    # -- the run ----------------------------------------------------------------------

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(ValueError, RuntimeError, NotImplementedError):
                loop.add_signal_handler(signum, self._interrupt)
        target = self.config.probe.target
        self.line(f"watching {', '.join(target.symbols)} at {target.url} for "
                  f"{format_seconds(self.config.duration)}, a probe every "
                  f"{format_seconds(self.config.every)}")
        tasks = [asyncio.create_task(self._held_loop()),
                 asyncio.create_task(self._probe_loop()),
                 asyncio.create_task(self._clock_loop())]
        ending = asyncio.create_task(self.stop.wait())
        try:
            await asyncio.wait([ending], timeout=max(self.until - time.perf_counter(), 0))
            await self._let_investigation_finish(ending)
        finally:
            self.stop.set()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, ending, return_exceptions=True)
            if self.held is not None:
                self.held.close()
            for signum in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(ValueError, RuntimeError, NotImplementedError):
                    loop.remove_signal_handler(signum)
        self.line("watch ended" + (" (interrupted)" if self.interrupted else ""))

    async def _let_investigation_finish(self, ending: asyncio.Task[Any]) -> None:
        """At the duration, a stall investigation in flight gets to conclude (bounded; Ctrl-C
        or SIGTERM still end it at once)."""
        if self.stop.is_set() or self._idle.is_set():
            return
        bound = self.investigation_bound
        self.line(f"time is up; the stall investigation in flight may finish (at most "
                  f"{format_seconds(bound)})")
        idle = asyncio.create_task(self._idle.wait())
        try:
            await asyncio.wait([ending, idle], timeout=bound,
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            idle.cancel()

    def _interrupt(self) -> None:
        self.interrupted = True
        self.stop.set()

    async def _sleep(self, seconds: float) -> bool:
        """Sleep unless the watch ends first; False when it does."""
        seconds = min(seconds, self.until - time.perf_counter())
        if seconds <= 0:
            return not self.stop.is_set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop.wait(), seconds)
        return not self.stop.is_set() and time.perf_counter() < self.until

    async def _probe_loop(self) -> None:
        while await self._sleep(self.config.every):
            report = await fresh_probe(self.config)
            outcome = self.series.add(report)
            if quiet_market(report):
                self.line("a fresh probe got no trade on a live link: the market is quiet")
            elif outcome.failed_stage is not None:
                self.new_event(EventKind.PROBE_FAILED, Conclusion.PROBE_FAILED,
                               f"a fresh probe failed at {outcome.failed_stage}: "
                               f"{outcome.message}",
                               [f"{f.title}" for f in report.findings[:3]], report)
            if self.view is not None:
                self.view.status()

    async def _clock_loop(self) -> None:
        """The clock offset once the held stream is up, then every `clock_every`; never
        again once it cannot be measured in this watch (no address for the REST host)."""
        while not self.clock.final:
            held = self.held
            if held is None or not held.open:
                if not await self._sleep(CHECK_EVERY):
                    return
                continue
            self.line(await self.clock.measure(held.state))
            self.stats.clock = self.clock.offset
            if not await self._sleep(self.config.clock_every):
                return

    async def _held_loop(self) -> None:
        pending: WatchEvent | None = None  # waits for its recovery time
        pending_at = 0.0
        outage: WatchEvent | None = None
        attempts = 0
        while not self.stop.is_set() and time.perf_counter() < self.until:
            held = self.held = HeldConnection(self.config.probe, self.stats, self.line,
                                              self.config.command)
            report = await held.connect()
            if report.failed_stage is not None:
                from ..diagnose import diagnose_report

                attempts += 1
                report = diagnose_report(report)
                failed = report.failed_stage
                assert failed is not None
                why = failed.error.message if failed.error else failed.status.value
                self.line(f"connection attempt {attempts} failed at {failed.name.value}: {why}")
                if outage is None and quiet_market(report):
                    self.line("no trade on a live link: the market is quiet; retrying")
                elif outage is None:
                    outage = self.new_event(
                        EventKind.RECONNECT_FAILED, Conclusion.PATH_DOWN,
                        f"the held stream cannot connect: {failed.name.value} fails",
                        [why, *[f.title for f in report.findings[:2]]], report)
                if not await self._sleep(min(self.config.backoff_first * 2 ** (attempts - 1),
                                             self.config.backoff_max)):
                    return
                continue
            attempts = 0
            now = time.perf_counter()
            if pending is not None or outage is not None:
                started = pending_at if pending is not None else now
                recovery = round(now - started, 3)
                for event in {id(e): e for e in (pending, outage) if e is not None}.values():
                    event.recovery_s = recovery
                    event.details["recovered_at"] = utc_now().isoformat(timespec="milliseconds")
                    self.write(event)
                self.line(f"recovered: held stream receiving again {recovery:.3f} s after "
                          "the event")
                pending, outage = None, None
            else:
                self.line("held stream connected, first message received")
            end = await self._hold_and_watch(held)
            if end is None:
                return
            pending, pending_at = end, time.perf_counter()

    async def _hold_and_watch(self, held: HeldConnection) -> WatchEvent | None:
        """Hold until a close or a stall that needs a new connection (its event), or the end."""
        # Read on past the duration while an investigation in flight finishes (run() cancels
        # this task at the end): the held connection's answer is part of its evidence.
        hold = asyncio.create_task(held.hold(self.until + self.investigation_bound))
        quiet = False  # the market is quiet: no new investigation before the next message
        last_seen = self.stats.last_message_at
        try:
            while True:
                done, _ = await asyncio.wait({hold}, timeout=self._check_interval())
                if done:
                    return self._closed(held, hold.result())
                now = time.perf_counter()
                if now >= self.until:
                    return None
                if self.stats.last_message_at != last_seen:
                    quiet, last_seen = False, self.stats.last_message_at
                silence = self.stats.silence(now)
                threshold = self.config.stall.threshold(self.stats.median_gap())
                if quiet or silence is None or silence <= threshold:
                    continue
                event = await self._investigate(held, hold, silence, threshold)
                if event.conclusion in (Conclusion.CONNECTION_STUCK, Conclusion.PATH_DOWN):
                    return event
                quiet = event.conclusion is Conclusion.MARKET_QUIET
                last_seen = self.stats.last_message_at
        finally:
            hold.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await hold
            held.close()

    def _check_interval(self) -> float:
        return max(CHECK_EVERY, min(self.config.stall.floor / 10, 1.0))

    def _closed(self, held: HeldConnection, end: HoldEnd | None) -> WatchEvent | None:
        if end is None:
            return None
        code: int | None = None
        reason = end.error or ""
        if end.closed is not None:
            raw_code = end.closed.get("code")
            code = raw_code if isinstance(raw_code, int) else None
            reason = str(end.closed.get("reason") or "")
        elif end.send_stalled is not None:
            reason = "the server stopped reading: our pongs could not be sent"
        self.stats.closed(code)
        conclusion = classify_close(code, reason, held.age, self.config.lifetime,
                                    held.shutdown_notice)
        said = f"{code if code is not None else 'no close code'}" + (
            f" {reason!r}" if reason else "")
        titles = {
            Conclusion.SERVER_SHUTDOWN: f"Binance's serverShutdown (maintenance), then {said}: "
                                        "expected, reconnecting",
            Conclusion.DAILY_DISCONNECT: f"Binance's daily disconnect after "
                                         f"{format_seconds(held.age)}: expected, reconnecting",
            Conclusion.POLICY_CLOSE: f"Binance closed with {said} (policy): reconnecting",
            Conclusion.UNEXPECTED_CLOSE: f"the held stream closed: {said}; reconnecting",
        }
        late = self.stats.pong_lateness.summary(scale=1000, digits=3)
        evidence = [f"connection age {format_seconds(held.age)} (Binance's lifetime: "
                    f"{format_seconds(self.config.lifetime)})",
                    f"close: {said}",
                    f"pings seen {self.stats.pings}, pongs sent {self.stats.pongs}, pong "
                    f"lateness max {late['max']} ms"]
        if conclusion is Conclusion.POLICY_CLOSE and "pong" in reason.lower():
            evidence.append("our pongs went out on time: the server did not get them (lost "
                            "on the way, or a proxy that eats control frames)"
                            if (late["max"] or 0) < 1000 else
                            "our pongs were late: a blocked event loop on this side")
        return self.new_event(EventKind.CLOSE, conclusion, titles[conclusion], evidence,
                              None, code=code, reason=reason, age_s=round(held.age, 3))

    async def _investigate(self, held: HeldConnection, hold: asyncio.Task[Any],
                           silence: float, threshold: float) -> WatchEvent:
        self._idle.clear()
        try:
            return await self._gather_evidence(held, hold, silence, threshold)
        finally:
            self._idle.set()

    async def _gather_evidence(self, held: HeldConnection, hold: asyncio.Task[Any],
                               silence: float, threshold: float) -> WatchEvent:
        started = time.perf_counter()
        median = self.stats.median_gap()
        last = self.stats.last_message_at
        bytes_before = held.bytes_in
        self.line(f"stall: no message for {format_seconds(silence)} (threshold "
                  f"{format_seconds(threshold)}): asking the held connection, probing a "
                  "fresh one")
        asked = held.ask()
        report = await fresh_probe(self.config)
        while asked and not held.answered and not hold.done() and \
                time.perf_counter() - started < ANSWER_WAIT:
            await asyncio.sleep(CHECK_EVERY)
        evidence = StallEvidence(
            silence_s=silence, threshold_s=threshold,
            median_gap_ms=None if median is None else round(median * 1000, 1),
            fresh=report, old_answered=held.answered,
            old_bytes=held.bytes_in - bytes_before,
            resumed=self.stats.last_message_at != last)
        conclusion, title, lines = conclude(evidence)
        return self.new_event(EventKind.STALL, conclusion, title, lines, report,
                              silence_s=round(silence, 3), threshold_s=round(threshold, 3),
                              investigated_in_s=round(time.perf_counter() - started, 3))

    # -- the end ----------------------------------------------------------------------

    @property
    def exit_code(self) -> ExitCode:
        severities = {Severity(s) for s in self._severities()}
        if Severity.CRITICAL in severities:
            return ExitCode.CRITICAL
        if Severity.WARNING in severities:
            return ExitCode.WARNING
        return ExitCode.OK

    def _severities(self) -> set[str]:
        from .events import SEVERITY

        return {SEVERITY[Conclusion(c)].value for c in self.counts}

    def status_lines(self) -> list[str]:
        now = time.perf_counter()
        figures = self.stats.to_dict(now)
        elapsed = format_seconds(now - self.started)
        lines = [f"held: {figures['messages']} msgs, {figures['rate_per_s']}/s, gap median "
                 f"{figures['gap_median_ms']} ms p99 {figures['gap_p99_ms']} ms largest "
                 f"{figures['gap_largest_ms']} ms | pings {figures['pings']} pong late max "
                 f"{figures['pong_lateness_max_ms']} ms | connections "
                 f"{figures['connections']} | {elapsed}"]
        lines += clock_lines(self.clock, figures)
        if self.series.runs:
            last = self.series.recent[-1]
            lines.append(f"probes: {self.series.runs}, ok {self.series.success_pct} %, last "
                         f"{last.status.value}" + (f" at {last.failed_stage}"
                                                    if last.failed_stage else ""))
            lines += self.series.table_lines()
        if self.counts:
            lines.append("events: " + ", ".join(f"{k} x{n}" for k, n in self.counts.items()))
        return lines

    def summary(self) -> dict[str, Any]:
        now = time.perf_counter()
        target = self.config.probe.target
        return {
            "schema": "binance-diag/watch/1",
            "tool": {"name": "binance-diag", "version": __version__},
            "command": self.config.command,
            "target": {"url": target.url, "symbols": list(target.symbols),
                       "stream": target.stream},
            "started_at": self.started_at.isoformat(timespec="milliseconds"),
            "ended_at": utc_now().isoformat(timespec="milliseconds"),
            "duration_s": round(now - self.started, 3),
            "interrupted": self.interrupted,
            "exit_code": int(self.exit_code),
            "held_stream": self.stats.to_dict(now),
            "probes": self.series.to_dict(),
            "clock": self.clock.to_dict(),
            "events": {"counts": dict(self.counts),
                       "list": [e.to_dict() for e in self.events]},
        }

    def summary_markdown(self) -> str:
        summary = self.summary()
        verdict = {0: "OK", 1: "WARNING", 2: "CRITICAL"}[summary["exit_code"]]
        lines = [f"# binance-diag watch: {verdict}", "",
                 f"**Target:** `{summary['target']['url']}`\\",
                 f"**Watched:** {summary['started_at']} to {summary['ended_at']} "
                 f"({summary['duration_s']} s{', interrupted' if self.interrupted else ''})",
                 "", "## Held stream", "", *summary_table(summary["held_stream"]),
                 *[f"\n{line}." for line in clock_lines(self.clock, summary["held_stream"])], "",
                 "## Fresh probes", ""]
        if self.series.runs:
            lines += [f"{self.series.runs} probes, {self.series.success_pct} % ok.", "",
                      "```", *self.series.table_lines(), "```"]
        else:
            lines.append("No probe ran (the watch was shorter than --every).")
        lines += ["", "## Events", ""]
        if not self.events:
            lines.append("None.")
        for event in self.events:
            recovery = "" if event.recovery_s is None else \
                f" (recovered in {event.recovery_s:.3f} s)"
            lines.append(f"- {event.at.isoformat(timespec='milliseconds')} "
                         f"**{event.severity.value}** `{event.conclusion.value}`: "
                         f"{event.title}{recovery} - `{event.slug}`")
        return "\n".join(lines) + "\n"
