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

from .diagnose.describe import not_applicable
from .exitcodes import ExitCode, exit_code_for
from .model import ErrorKind, OverallStatus, ProbeReport, StageName, StageStatus, Target

MATRIX_SCHEMA_ID = "binance-diag/matrix/1"


def base_url(target: Target) -> str:
    """The endpoint's base URL with its port spelled out: `wss://stream.binance.com:443`."""
    scheme = "wss" if target.secure else "ws"
    host = f"[{target.host}]" if ":" in target.host else target.host
    return f"{scheme}://{host}:{target.port}{path_prefix(target)}"


def path_prefix(target: Target) -> str:
    """What the endpoint puts before Binance's `/ws/...` or `/stream?...` (USD-M: `/market`)."""
    marker = "/stream?" if target.combined else "/ws/"
    return target.path.rsplit(marker, 1)[0]


def label(target: Target) -> str:
    """The preset name, or the base URL of an endpoint given as a URL."""
    return target.endpoint if target.endpoint != "custom" else base_url(target)


@dataclass(frozen=True)
class Cell:
    """One stage of one endpoint: `text` is the time in ms, the error kind, `-` or `n/a`."""

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
        """Every stage passed: a program could get data through this endpoint."""
        return self.report.failed_stage is None

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


def _cell(report: ProbeReport, name: StageName) -> Cell:
    stage = report.stage(name)
    if stage is None or not_applicable(stage, report.target.secure):
        return Cell(name, stage.status if stage else None, "n/a")
    if stage.status is StageStatus.SKIPPED:
        return Cell(name, stage.status, "-")
    if stage.error is not None:
        return Cell(name, stage.status, stage.error.kind.value, stage.duration_ms,
                    stage.error.kind)
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
    StageName.WS_UPGRADE: ("path", "host", "port"),
    StageName.FIRST_MESSAGE: ("path", "host", "port"),
}
"""Which differences can explain a failure at a stage, most likely first."""

PREDICATES: Mapping[tuple[StageName, ErrorKind], str] = {
    (StageName.TCP, ErrorKind.TIMEOUT): "{is} filtered here",
    (StageName.TCP, ErrorKind.REFUSED): "{is} refused here",
    (StageName.TCP, ErrorKind.UNREACHABLE): "{is} unreachable here",
    (StageName.DNS, ErrorKind.NXDOMAIN): "{does} not resolve (nxdomain)",
}
"""How a failure reads after its subject; anything else `fails at <stage> (<kind>)`."""


def predicate(stage: StageName, kind: ErrorKind, plural: bool = False) -> str:
    template = PREDICATES.get((stage, kind), "{fails} at {stage} ({kind})")
    return template.format(
        stage=stage.value, kind=kind.value, **{"is": "are" if plural else "is"},
        does="do" if plural else "does", fails="fail" if plural else "fails",
    )


def explain(failing: Sequence[MatrixRow], working: Sequence[MatrixRow]) -> str:
    """One failure group against the working endpoints: "port 9443 is filtered here (spot)"."""
    stage, kind = failing[0].failure or (StageName.DNS, ErrorKind.INTERNAL)
    names = ", ".join(r.endpoint for r in failing)
    for name in EXPLAINS[stage]:
        prop = PROPERTIES[name]
        values = list(dict.fromkeys(prop.value(r.report.target) for r in failing))
        if working and values_disjoint(prop, failing, working):
            named = "" if all(r.endpoint == r.url for r in failing) else f" ({names})"
            return f"{prop.subject(values)} {predicate(stage, kind, len(values) > 1)}{named}"
    return f"{names} {predicate(stage, kind, plural=len(failing) > 1)}"


def values_disjoint(prop: Property, one: Sequence[MatrixRow], other: Sequence[MatrixRow]
                    ) -> bool:
    mine = {prop.value(r.report.target) for r in one}
    theirs = {prop.value(r.report.target) for r in other}
    return mine.isdisjoint(theirs)


def _groups(rows: Sequence[MatrixRow]) -> list[list[MatrixRow]]:
    """Failing rows grouped by (stage, error kind), in order of first appearance."""
    groups: dict[tuple[StageName, ErrorKind] | None, list[MatrixRow]] = {}
    for row in rows:
        groups.setdefault(row.failure, []).append(row)
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
    """
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
            text = (f"every endpoint fails at {stage.value} ({kind.value}): "
                    "the problem is not the endpoint")
        else:
            text = "no endpoint works: " + "; ".join(explain(g, working) for g in groups)
        return Verdict(text, OverallStatus.FAILED, ExitCode.CRITICAL, *names)
    parts = [explain(g, working) for g in groups]
    text = "; ".join([*parts, _alternatives(failing, working)])
    return Verdict(text, OverallStatus.DEGRADED, ExitCode.WARNING, *names)
