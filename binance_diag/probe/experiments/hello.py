"""ClientHello variants: is it the name (SNI) that gets the handshake dropped, or something
else in the hello (ALPN, TLS 1.3)?

Every variant goes to the same address and port (through the same proxy, if any) as the
run; only the ClientHello changes. The variants do not verify certificates: they only ask
whether the server answers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from ...addresses import is_ip_literal
from ...model import ErrorKind, StageName
from ...timing import Deadline
from .base import Planned, RunExperiment, Verdict, attempt_details, not_run, said
from .catalogue import HELLO_VARIANTS, SNI_VARIANTS
from .shell import Attempt, Hello, Route, tls_attempt
from .view import NoRoute, RunView

OTHER_NAME = "example.com"
"""The other name sent to the same address: a name no filter blocks."""
_REFUSED_ON_HELLO = frozenset({ErrorKind.RESET, ErrorKind.EOF, ErrorKind.HANDSHAKE_FAILURE})


def plan(view: RunView) -> list[Planned]:
    failed = view.failed
    if failed is None or failed.name is not StageName.TLS or failed.error is None:
        return []
    kind = failed.error.kind
    host = view.config.target.host
    if kind is not ErrorKind.TIMEOUT and kind not in _REFUSED_ON_HELLO:
        return []
    if kind is ErrorKind.HANDSHAKE_FAILURE and _not_tls(failed.error.extra.get("reason")):
        return []
    route = view.target_route
    planned: list[Planned] = []
    sni_action = (f"ClientHellos with SNI {host} again, SNI {OTHER_NAME}, and no SNI, to "
                  f"the same address")
    if is_ip_literal(host):
        planned.append(not_run(SNI_VARIANTS, sni_action,
                               "not run: the host is an IP address, no name was sent"))
    elif isinstance(route, NoRoute):
        planned.append(not_run(SNI_VARIANTS, sni_action, str(route)))
    else:
        planned.append(Planned(SNI_VARIANTS, f"{sni_action} ({route.describe()})",
                               _sni_run(view, route, host)))
    if kind in _REFUSED_ON_HELLO and not isinstance(route, NoRoute):
        sni = None if is_ip_literal(host) else host
        planned.append(Planned(
            HELLO_VARIANTS, f"ClientHellos with SNI {host}: without ALPN, and TLS 1.2 only "
            f"({route.describe()})", _hello_run(view, route, sni)))
    return planned


def _not_tls(reason: object) -> bool:
    text = str(reason or "").upper()
    return any(word in text for word in ("WRONG_VERSION_NUMBER", "HTTP_REQUEST",
                                         "UNKNOWN_PROTOCOL", "RECORD_LAYER"))


async def _attempts(view: RunView, route: Route, hellos: Sequence[tuple[str, Hello]],
                    deadline: Deadline) -> list[tuple[str, Attempt]]:
    budget = Deadline(min(deadline.remaining(), view.attempt_budget()))
    done = await asyncio.gather(*(tls_attempt(route, hello, budget, view.tls_context)
                                  for _, hello in hellos))
    return [(label, attempt) for (label, _), attempt in zip(hellos, done, strict=True)]


def _sni_run(view: RunView, route: Route, host: str) -> RunExperiment:
    hellos = [(f"SNI {host}", Hello(host, verify=False)),
              (f"SNI {OTHER_NAME}", Hello(OTHER_NAME, verify=False)),
              ("no SNI", Hello(None, verify=False))]

    async def run(deadline: Deadline) -> Verdict:
        return decide_sni(host, await _attempts(view, route, hellos, deadline))

    return run


def _hello_run(view: RunView, route: Route, sni: str | None) -> RunExperiment:
    hellos = [("as the run", Hello(sni, verify=False)),
              ("no ALPN", Hello(sni, alpn=(), verify=False)),
              ("TLS 1.2 only", Hello(sni, tls12_only=True, verify=False))]

    async def run(deadline: Deadline) -> Verdict:
        return decide_hello(await _attempts(view, route, hellos, deadline))

    return run


def _lines(attempts: Sequence[tuple[str, Attempt]]) -> str:
    return "; ".join(f"{label}: {said(attempt)}" for label, attempt in attempts)


def decide_sni(host: str, attempts: Sequence[tuple[str, Attempt]]) -> Verdict:
    """The target's name refused while another name or none is answered: SNI filtering."""
    details = {"attempts": [attempt_details(label, a) for label, a in attempts]}
    (_, control), *others = attempts
    answered = [label for label, a in others if a.answered]
    words = _lines(attempts)
    if control.outcome in ("connect_failed", "tunnel_failed"):
        return Verdict("inconclusive",
                       f"could not reach the address again: {words}", details)
    if control.answered and control.outcome != "stalled":
        return Verdict("not_reproduced", f"the failure did not repeat: {words}", details)
    if answered:
        return Verdict("name_blocked", f"only the ClientHello naming {host} goes unanswered: "
                       f"{words}", details)
    if all(a.outcome == control.outcome or not a.answered for _, a in others):
        return Verdict("all_blocked", f"every name fails alike, so the name is not what is "
                       f"blocked: {words}", details)
    return Verdict("inconclusive", words, details)


def decide_hello(attempts: Sequence[tuple[str, Attempt]]) -> Verdict:
    """Which ClientHello the peer accepts, when the run's own is refused."""
    details = {"attempts": [attempt_details(label, a) for label, a in attempts]}
    (_, control), (_, no_alpn), (_, tls12) = attempts
    words = _lines(attempts)
    if control.answered and control.outcome not in ("alert", "stalled"):
        return Verdict("not_reproduced", f"the failure did not repeat: {words}", details)
    ok = ("handshake_ok", "answered")
    if no_alpn.outcome in ok and tls12.outcome not in ok:
        return Verdict("rejects_alpn", f"the peer accepts the hello without ALPN only: {words}",
                       details)
    if tls12.outcome in ok and no_alpn.outcome not in ok:
        return Verdict("rejects_tls13", f"the peer accepts a TLS 1.2-only hello only: {words}",
                       details)
    if no_alpn.outcome not in ok and tls12.outcome not in ok:
        return Verdict("rejects_every_hello", f"no variant of the hello is accepted: {words}",
                       details)
    return Verdict("inconclusive", words, details)
