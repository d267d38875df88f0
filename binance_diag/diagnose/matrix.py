"""The endpoint matrix: several endpoints probed side by side, and one verdict on what
tells the working ones from the failing ones (their port, their host, their path).

Pure: built from finished, diagnosed `ProbeReport`s. Theory of operation: failing endpoints
are grouped by where and how they failed (stage, error kind); for each group, the first
property in `EXPLAINS[stage]` whose values no working endpoint shares is the explanation
("port 9443 is filtered here"). A DNS failure can only be the host's; a TCP one is first the
port's; an upgrade or a silent stream is first the path's. When nothing works, one shared
failure means the problem is not the endpoint at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ..addresses import hostport
from ..exitcodes import ExitCode, exit_code_for
from ..model import (
    ErrorKind,
    OverallStatus,
    ProbeReport,
    StageError,
    StageName,
    StageStatus,
    Target,
)
from .describe import interruption, not_applicable

MATRIX_SCHEMA_ID = "binance-diag/matrix/1"


def base_url(target: Target) -> str:
    """The endpoint's base URL with its port spelled out: `wss://stream.binance.com:443`."""
    scheme = "wss" if target.secure else "ws"
    return f"{scheme}://{hostport(target.host, target.port)}{path_prefix(target)}"


def path_prefix(target: Target) -> str:
    """What the endpoint puts before Binance's `/ws/...` or `/stream?...` (USD-M: `/market`)."""
    marker = "/stream?" if target.combined else "/ws/"
    return target.path.rsplit(marker, 1)[0]


def label(target: Target) -> str:
    """The preset name, or the base URL of an endpoint given as a URL."""
    return target.endpoint if target.endpoint != "custom" else base_url(target)


@dataclass(frozen=True)
class Cell:
    """One stage of one endpoint: `text` is the time in ms, the error kind (`HTTP 451` for a
    status), `pinned` / `literal` for an address that needed no DNS, `-` or `n/a`."""

    stage: StageName
    status: StageStatus | None
    text: str
    duration_ms: float | None = None
    error_kind: ErrorKind | None = None


@dataclass(frozen=True)
class MatrixRow:
    endpoint: str
    url: str
    report: ProbeReport
    cells: tuple[Cell, ...]

    @property
    def works(self) -> bool:
        """Every stage passed: a program could get data through this endpoint. A probe a
        signal stopped has not shown that, whatever it had passed."""
        return self.report.failed_stage is None and self.interrupted_by is None

    @property
    def interrupted_by(self) -> str | None:
        """The signal that stopped this probe before it ended (`interrupted_report`)."""
        found = interruption(self.report)
        return found[1] if found else None

    @property
    def failure(self) -> tuple[StageName, ErrorKind] | None:
        failed = self.report.failed_stage
        if failed is None or failed.error is None:
            return None
        return failed.name, failed.error.kind


@dataclass(frozen=True)
class Verdict:
    text: str
    status: OverallStatus
    exit_code: ExitCode
    working: tuple[str, ...]
    failing: tuple[str, ...]


@dataclass(frozen=True)
class EndpointMatrix:
    stages: tuple[StageName, ...]
    rows: tuple[MatrixRow, ...]
    verdict: Verdict


_NO_LOOKUP = {"--resolve": "pinned", "ip-literal": "literal"}
"""The DNS cell when the address needed no lookup."""


def _cell(report: ProbeReport, name: StageName) -> Cell:
    stage = report.stage(name)
    if stage is None or not_applicable(stage, report.target.secure):
        return Cell(name, stage.status if stage else None, "n/a")
    if stage.status is StageStatus.SKIPPED and "interrupted" in stage.details:
        return Cell(name, stage.status, "interrupted")
    if stage.status is StageStatus.SKIPPED:
        return Cell(name, stage.status, "-")
    if name is StageName.DNS and stage.details.get("source") in _NO_LOOKUP:
        # No query was made: the stage's microseconds are not a DNS time.
        return Cell(name, stage.status, _NO_LOOKUP[str(stage.details["source"])])
    if stage.error is not None:
        text = stage.error.kind.value
        if stage.error.kind is ErrorKind.HTTP_STATUS:  # the status says more than the kind
            text = error_detail(stage.error) or text
        return Cell(name, stage.status, text, stage.duration_ms, stage.error.kind)
    ms = stage.duration_ms or 0.0
    return Cell(name, stage.status, f"{ms:.1f}" if ms < 100 else f"{ms:.0f}", ms)


def build_matrix(reports: Sequence[ProbeReport]) -> EndpointMatrix:
    """Rows in the order given; a stage column only when some endpoint ran it (`proxy`)."""
    present = {s.name for r in reports for s in r.stages}
    stages = tuple(name for name in StageName if name in present)
    rows = tuple(
        MatrixRow(label(r.target), base_url(r.target), r,
                  tuple(_cell(r, name) for name in stages))
        for r in reports
    )
    return EndpointMatrix(stages, rows, judge(rows))


# --- the verdict -----------------------------------------------------------------------

@dataclass(frozen=True)
class Property:
    """Something two endpoints can differ in, and how to name its values ("ports 1, 2")."""

    name: str
    value: Callable[[Target], str]
    singular: str
    plural: str

    def subject(self, values: Sequence[str]) -> str:
        noun = self.singular if len(values) == 1 else self.plural
        return f"{noun}{', '.join(values)}"


PROPERTIES: Mapping[str, Property] = {
    "port": Property("port", lambda t: str(t.port), "port ", "ports "),
    "host": Property("host", lambda t: t.host, "", ""),
    "path": Property("path", lambda t: path_prefix(t) or "/", "the path ", "the paths "),
}

EXPLAINS: Mapping[StageName, tuple[str, ...]] = {
    StageName.DNS: ("host",),
    StageName.PROXY: ("host", "port"),
    StageName.TCP: ("port", "host"),
    StageName.TLS: ("host", "port"),
    StageName.WS_UPGRADE: ("path", "host"),
    StageName.FIRST_MESSAGE: ("path", "host"),
}
"""Which differences can explain a failure at a stage, most likely first."""

PREDICATES: Mapping[tuple[StageName, ErrorKind], str] = {
    (StageName.TCP, ErrorKind.TIMEOUT): "{is} filtered here",
    (StageName.TCP, ErrorKind.REFUSED): "{is} refused here",
    (StageName.TCP, ErrorKind.UNREACHABLE): "{is} unreachable here",
    (StageName.DNS, ErrorKind.NXDOMAIN): "{does} not resolve (nxdomain)",
}
"""How a failure reads after its subject; anything else `fails at <stage> (<kind>)`."""


def predicate(stage: StageName, kind: ErrorKind, plural: bool = False,
              detail: str | None = None) -> str:
    template = PREDICATES.get((stage, kind), "{fails} at {stage} ({kind})")
    return template.format(
        stage=stage.value, kind=detail or kind.value, **{"is": "are" if plural else "is"},
        does="do" if plural else "does", fails="fail" if plural else "fails",
    )


def error_detail(error: StageError) -> str | None:
    """What a failure said, where its kind alone is vague: `HTTP 451`, `closed 1008`."""
    if error.kind is ErrorKind.HTTP_STATUS:
        return f"HTTP {error.extra['status']}" if error.extra.get("status") else None
    code = error.extra.get("code")
    return f"{error.kind.value} {code}" if code is not None else None


def _detail(rows: Sequence[MatrixRow]) -> str | None:
    """The details of a group's failures, each once."""
    said = [error_detail(failed.error) for row in rows
            if (failed := row.report.failed_stage) is not None and failed.error is not None]
    return ", ".join(dict.fromkeys(d for d in said if d)) or None


def explain(failing: Sequence[MatrixRow], working: Sequence[MatrixRow]) -> str:
    """One failure group against the working endpoints: "port 9443 is filtered here (spot)".

    Only a difference that can cause a failure at that stage is named (a port can block
    TCP; it does not make Binance answer 451): otherwise the endpoints are named."""
    stage, kind = failing[0].failure or (StageName.DNS, ErrorKind.INTERNAL)
    names = ", ".join(r.endpoint for r in failing)
    detail = _detail(failing)
    for name in EXPLAINS[stage]:
        prop = PROPERTIES[name]
        values = list(dict.fromkeys(prop.value(r.report.target) for r in failing))
        if working and values_disjoint(prop, failing, working):
            named = "" if all(r.endpoint == r.url for r in failing) else f" ({names})"
            return (f"{prop.subject(values)} "
                    f"{predicate(stage, kind, len(values) > 1, detail)}{named}")
    return f"{names} {predicate(stage, kind, plural=len(failing) > 1, detail=detail)}"


def values_disjoint(prop: Property, one: Sequence[MatrixRow], other: Sequence[MatrixRow]
                    ) -> bool:
    mine = {prop.value(r.report.target) for r in one}
    theirs = {prop.value(r.report.target) for r in other}
    return mine.isdisjoint(theirs)


def _groups(rows: Sequence[MatrixRow]) -> list[list[MatrixRow]]:
    """Failing rows grouped by (stage, error kind, HTTP status or close code), in order of
    first appearance."""
    groups: dict[tuple[tuple[StageName, ErrorKind] | None, str | None], list[MatrixRow]] = {}
    for row in rows:  # a 451 and a 403 are different answers, not one group
        groups.setdefault((row.failure, _detail([row])), []).append(row)
    return list(groups.values())


def _alternatives(failing: Sequence[MatrixRow], working: Sequence[MatrixRow]) -> str:
    """The working endpoints to suggest: those on a failing endpoint's host first."""
    hosts = {r.report.target.host for r in failing}
    near = [r for r in working if r.report.target.host in hosts] or list(working)
    verb = "works" if len(near) == 1 else "work"
    return f"{', '.join(r.url for r in near)} {verb}"


def judge(rows: Sequence[MatrixRow]) -> Verdict:
    """The one-line verdict and the exit code of the whole matrix.

    Exit codes: 2 when no endpoint works; 1 when some work and some fail (there is a working
    alternative, but not where the failing ones point); otherwise the worst single-endpoint
    code (0 when all are OK, 1 for a warning, 2 for a critical finding on a passing run).
    A matrix a signal stopped names the endpoints that did not finish, then judges the
    others; it is never OK (1, or 2 when none of those that finished works).
    """
    stopped = [r for r in rows if r.interrupted_by is not None]
    if stopped:
        return _judge_interrupted(stopped, [r for r in rows if r.interrupted_by is None])
    working = [r for r in rows if r.works]
    failing = [r for r in rows if not r.works]
    names = (tuple(r.endpoint for r in working), tuple(r.endpoint for r in failing))
    if not failing:
        code = max((exit_code_for(r.report) for r in rows), default=ExitCode.OK)
        flagged = [r.endpoint for r in rows if exit_code_for(r.report) is not ExitCode.OK]
        text = "all endpoints work"
        if flagged:
            text += f", with warnings for {', '.join(flagged)}"
        status = OverallStatus.OK if code is ExitCode.OK else OverallStatus.DEGRADED
        return Verdict(text, status, code, *names)
    groups = _groups(failing)
    if not working:
        stage, kind = failing[0].failure or (StageName.DNS, ErrorKind.INTERNAL)
        if len(groups) == 1 and len(failing) > 1:
            text = (f"every endpoint fails at {stage.value} "
                    f"({_detail(failing) or kind.value}): "
                    "the problem is not the endpoint")
        else:
            text = "no endpoint works: " + "; ".join(explain(g, working) for g in groups)
        return Verdict(text, OverallStatus.FAILED, ExitCode.CRITICAL, *names)
    parts = [explain(g, working) for g in groups]
    text = "; ".join([*parts, _alternatives(failing, working)])
    return Verdict(text, OverallStatus.DEGRADED, ExitCode.WARNING, *names)


def _judge_interrupted(stopped: Sequence[MatrixRow], finished: Sequence[MatrixRow]) -> Verdict:
    """`interrupted by SIGINT: a, b did not finish; <the verdict on the others>`. The
    endpoints that did not finish are neither working nor failing."""
    signal_name = stopped[0].interrupted_by
    text = (f"interrupted by {signal_name}: {', '.join(r.endpoint for r in stopped)} did not "
            "finish")
    if not finished:
        return Verdict(text, OverallStatus.FAILED, ExitCode.CRITICAL, (), ())
    others = judge(finished)
    text += f"; of those that finished: {others.text}"
    if others.exit_code is ExitCode.CRITICAL:
        return Verdict(text, OverallStatus.FAILED, ExitCode.CRITICAL, others.working,
                       others.failing)
    return Verdict(text, OverallStatus.DEGRADED, ExitCode.WARNING, others.working,
                   others.failing)
