"""`probe -v`: a wire-level trace of each stage on stderr, as curl -v prints one.

Nothing here does I/O of its own on the network: the lines come from what the probe already
records - the tracer's timeline events, printed as they happen, and each stage's details
(resolver queries and answers, every TCP attempt, the TLS session and certificate, the
upgrade's request and response, the first frames), printed when the stage has ended and its
time is taken. curl's marks: `*` what happens, `>` what was sent, `<` what came back.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TextIO

from ..config.probe import ProbeConfig
from ..model import JSON, StageName, TimelineEvent
from ..probe.base import ProbeState, StageOutcome, Tracer
from ..probe.runner import StageFunction, StagePlan
from ..timing import Deadline


@dataclass
class VerboseTracer(Tracer):
    """A `Tracer` that also writes the trace to `stream` (stderr unless given)."""

    stream: TextIO | None = None
    outcomes: dict[StageName, StageOutcome] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.listeners.append(self._stage_ended)

    def _write(self, line: str) -> None:
        stream = self.stream or sys.stderr  # looked up each time: rich may redirect it
        print(line, file=stream, flush=True)

    def event(self, text: str) -> None:
        super().event(text)
        self._write(event_line(self.events[-1]))

    def _stage_ended(self, stage: StageName, what: str, duration_ms: float | None) -> None:
        if what == "start":
            return
        outcome = self.outcomes.pop(stage, None)
        took = f" in {duration_ms:.3f} ms" if duration_ms is not None else ""
        self._write(f"* [{stage.value}] {what}{took}")
        if outcome is None:
            return
        for line in detail_lines(stage, outcome.details):
            self._write(f"  {line}")
        if outcome.error is not None:
            self._write(f"! [{stage.value}] {outcome.error.kind.value}: {outcome.error.message}")

    def traced(self, plan: StagePlan) -> list[tuple[StageName, StageFunction]]:
        """The stages of `plan`, each keeping its outcome for the trace (a dict store: no
        printing inside the stage's measured time)."""
        return [(name, self._keeping(name, function)) for name, function in plan]

    def _keeping(self, name: StageName, function: StageFunction) -> StageFunction:
        async def stage(config: ProbeConfig, state: ProbeState, tracer: Tracer,
                        deadline: Deadline) -> StageOutcome:
            outcome = await function(config, state, tracer, deadline)
            self.outcomes[name] = outcome
            return outcome

        return stage


def event_line(event: TimelineEvent) -> str:
    at = event.at.strftime("%H:%M:%S.%f")[:-3]
    where = f"[{event.stage.value}] " if event.stage is not None else ""
    return f"* {at} {where}{event.event}"


def detail_lines(stage: StageName, details: Mapping[str, JSON]) -> list[str]:
    """The stage's details as trace lines: the wire-level ones first, in curl's marks, then
    every other detail as `key: value`, so that nothing recorded is left out."""
    shown: set[str] = set()
    lines = list(_wire_lines(stage, details, shown))
    for key, value in details.items():
        if key not in shown:
            lines.append(f"* {key}: {_compact(value)}")
    return lines


def _wire_lines(stage: StageName, details: Mapping[str, JSON], shown: set[str]
                ) -> Iterator[str]:
    def take(key: str) -> JSON:
        shown.add(key)
        return details.get(key)

    if stage is StageName.DNS:
        resolver = take("resolver")
        for query in _dicts(take("queries")):
            yield (f"> {query.get('type')} query via {resolver}: {query.get('result')} "
                   f"({query.get('time_ms')} ms){_message(query)}")
        for answer in _dicts(take("answers")):
            yield f"< {answer.get('type')} {answer.get('address')} ttl {answer.get('ttl')}"
        for step in _items(take("cname_chain")):
            yield f"< CNAME {step}"
    elif stage is StageName.TCP:
        for attempt in _dicts(take("attempts")):
            yield (f"* connect {attempt.get('family')} {attempt.get('address')} port "
                   f"{attempt.get('port')}: {attempt.get('result')} "
                   f"({attempt.get('time_ms')} ms){_message(attempt)}")
    elif stage is StageName.TLS:
        yield (f"> ClientHello SNI {take('sni')}, ALPN {_compact(take('alpn_offered'))}, "
               f"trust {take('trust')}")
        if "version" in details:
            yield (f"< {take('version')} {take('cipher')}, ALPN {take('alpn')}")
        for key in ("certificate", "presented_certificate"):
            certificate = take(key)
            if isinstance(certificate, dict):
                yield from _certificate_lines(certificate, key.replace("_", " "))
    elif stage is StageName.WS_UPGRADE:
        yield f"> GET {take('path')} HTTP/1.1"
        yield f"> User-Agent: {take('user_agent')}"
        if "status" in details:
            yield f"< HTTP/1.1 {take('status')} {take('reason') or ''}".rstrip()
        headers = take("headers")
        if isinstance(headers, dict):
            for name, value in headers.items():
                yield f"< {name}: {value}"
        if "body_excerpt" in details:
            yield f"< {_compact(take('body_excerpt'))}"
    elif stage is StageName.FIRST_MESSAGE:
        streams = take("streams")
        if isinstance(streams, dict):
            for name, frame in streams.items():
                yield f"< frame {name}: {_compact(frame)}"


def _certificate_lines(certificate: Mapping[str, JSON], label: str) -> Iterator[str]:
    yield f"< {label}: subject {certificate.get('subject')}"
    yield f"<   issuer {certificate.get('issuer')}"
    sans = certificate.get("sans")
    if isinstance(sans, list):
        yield f"<   SANs {', '.join(str(s) for s in sans)}"
    yield (f"<   valid {certificate.get('not_before')} to {certificate.get('not_after')} "
           f"({certificate.get('days_left')} days left)")


def _dicts(value: JSON) -> list[dict[str, JSON]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _items(value: JSON) -> list[JSON]:
    return list(value) if isinstance(value, list) else []


def _message(item: Mapping[str, JSON]) -> str:
    message = item.get("message") or item.get("error")
    return f" - {message}" if message else ""


def _compact(value: JSON) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False,
                                                           separators=(",", ":"))
