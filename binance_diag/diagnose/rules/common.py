"""Small predicates, evidence builders and actions the rule tables share.

Pure. Each helper takes `(facts, subject)` like the rules themselves, so a table row reads
`when=on_spot_port` rather than an inline lambda.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..describe import code, took
from ..facts import Facts
from ..rule import Action, Condition, Subject


def extra(subject: Subject, key: str) -> Any:
    if subject is None or subject.error is None:
        return None
    return subject.error.extra.get(key)


def detail(subject: Subject, key: str) -> Any:
    return subject.details.get(key) if subject is not None else None


def bytes_received(subject: Subject) -> int | None:
    for value in (extra(subject, "bytes_received"), detail(subject, "bytes_received")):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def some_bytes(facts: Facts, subject: Subject) -> bool:
    """the server sent some bytes"""
    return (bytes_received(subject) or 0) > 0


def no_bytes(facts: Facts, subject: Subject) -> bool:
    """no byte came back"""
    return bytes_received(subject) == 0


def binance(facts: Facts, subject: Subject) -> bool:
    """the host is Binance's"""
    return facts.binance


def not_binance(facts: Facts, subject: Subject) -> bool:
    """the host is not Binance's"""
    return not facts.binance


def on_spot_port(facts: Facts, subject: Subject) -> bool:
    """a Binance host on port 9443"""
    return facts.on_spot_port()


def not_endpoint(*names: str) -> Condition:
    def condition(facts: Facts, subject: Subject) -> bool:
        return facts.target.endpoint not in names

    condition.__name__ = f"endpoint is not {' or '.join(names)}"
    return condition


def both(*conditions: Condition) -> Condition:
    def condition(facts: Facts, subject: Subject) -> bool:
        return all(c(facts, subject) for c in conditions)

    condition.__name__ = " and ".join(c.__doc__ or c.__name__ for c in conditions)
    return condition


def status_in(low: int, high: int) -> Condition:
    def condition(facts: Facts, subject: Subject) -> bool:
        status = extra(subject, "status")
        return isinstance(status, int) and low <= status <= high

    condition.__name__ = f"HTTP status {low}-{high}"
    return condition


def message_line(facts: Facts, subject: Subject) -> list[str]:
    if subject is None or subject.error is None:
        return []
    return [f"{subject.name.label} {subject.error.kind.value} after {took(subject)}: "
            f"{subject.error.message}"]


def with_path(*builders: Callable[[Facts, Subject], Sequence[str]]) -> Callable[
        [Facts, Subject], list[str]]:
    """Evidence: what worked just before, then the failure's own lines."""

    def evidence(facts: Facts, subject: Subject) -> list[str]:
        lines = facts.previous_line(subject)
        for builder in builders:
            lines.extend(builder(facts, subject))
        return lines

    return evidence


TRY_443 = Action("Try port 443: `{again:--endpoint spot-443}`", on_spot_port,
                 note="when probing port 9443")
TRY_DATA_STREAM = Action(
    "Try the market-data-only host: `{again:--endpoint data-stream}`",
    both(binance, not_endpoint("data-stream", "usdm", "coinm")),
    note="for Binance spot hosts",
)
USE_PROXY = Action("If this network requires a proxy, probe through it: "
                   "`{again:--proxy http://proxy.example:3128}`")
ATTACH = Action("Attach this report to the incident: `{attach}`")


def header_lines(subject: Subject, *names: str) -> list[str]:
    headers = extra(subject, "headers") or detail(subject, "headers") or {}
    return [code(f"{name}: {headers[name]}") for name in names if name in headers]


def body_line(subject: Subject) -> list[str]:
    body = extra(subject, "body_excerpt") or detail(subject, "body_excerpt")
    return [f"body begins {code(str(body)[:120])}"] if body else []
