"""JUnit XML for CI: one testsuite per target, one testcase per stage.

Pure. A stage that could not complete is an `<error>`; one that completed an exchange whose
answer failed validation (a certificate, an HTTP status, a payload), or that passed slower
than its `--crit` threshold, is a `<failure>`; a stage never reached is `<skipped>`. A passed
testcase's `<system-out>` is its status line (and a `--warn` threshold crossed, which does not
fail it); key measurements are the suite's `<properties>`, named `<stage>.<key>`. The
endpoint matrix is one testsuite per endpoint, each exactly as its own report renders.

Valid against the Jenkins/Ant JUnit schema (tests/render/jenkins-junit.xsd): no `skipped=` on
`<testsuites>`, no `<properties>` in a `<testcase>`, the skip reason as `<skipped>` text.
Jenkins splits a classname at its last dot into package and class, so the classname is
`binance_diag.<endpoint>` with the endpoint's dots and dashes made underscores: `spot` and
`spot-443` stay apart, and `stream.binance.com` is not read as three packages.
"""

from __future__ import annotations

import platform
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from ..diagnose.describe import crossed_threshold, stage_line, total_ms
from ..diagnose.matrix import EndpointMatrix, label
from ..exitcodes import ExitCode
from ..figures.series import CountSummary
from ..model import ErrorKind, Finding, ProbeReport, StageName, StageResult, StageStatus
from .base import Formatter
from .formats import OutputFormat
from .markup import plain

VALIDATION_KINDS = frozenset({
    ErrorKind.CERT_UNTRUSTED, ErrorKind.CERT_EXPIRED, ErrorKind.CERT_NOT_YET_VALID,
    ErrorKind.HOSTNAME_MISMATCH, ErrorKind.HTTP_STATUS, ErrorKind.NOT_WEBSOCKET,
    ErrorKind.INVALID_HANDSHAKE, ErrorKind.INVALID_PAYLOAD, ErrorKind.WRONG_STREAM,
})
"""Error kinds where the peer answered and the answer was judged wrong: `<failure>`."""
_NOT_IDENTIFIER = re.compile(r"[^A-Za-z0-9_]+")
PACKAGE = "binance_diag"
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean(text: object) -> str:
    """Text XML 1.0 can carry: a server's bytes may hold control characters it cannot."""
    return _NOT_XML.sub("\ufffd", str(text))


def machine_name() -> str:
    """The machine that ran the probe (what `socket.gethostname()` says, without a socket
    import in a pure package): JUnit's `hostname`."""
    return platform.node() or "localhost"


def classname(report: ProbeReport) -> str:
    """`binance_diag.spot_443`: one class per endpoint, one package, whatever the URL holds."""
    segment = _NOT_IDENTIFIER.sub("_", label(report.target)).strip("_") or "endpoint"
    return f"{PACKAGE}.{segment}"


def _seconds(ms: float | None) -> str:
    return f"{(ms or 0.0) / 1000:.3f}"


def _properties(parent: ET.Element, values: Mapping[str, Any]) -> None:
    present = {k: v for k, v in values.items() if v is not None and v != ""}
    if not present:
        return
    element = ET.SubElement(parent, "properties")
    for name, value in present.items():
        if isinstance(value, list | tuple):
            value = ", ".join(str(v) for v in value)
        ET.SubElement(element, "property", name=name, value=clean(value))


def stage_properties(stage: StageResult) -> dict[str, Any]:
    d = stage.details
    values: dict[str, Any] = {"timeout_s": f"{stage.timeout_s:g}"}
    if stage.duration_ms is not None:
        values["duration_ms"] = f"{stage.duration_ms:g}"
    if stage.error is not None:
        values["error.kind"] = stage.error.kind.value
        for key in ("status", "code", "bytes_received", "retry_after"):
            values[f"error.{key}"] = stage.error.extra.get(key)
    if stage.name is StageName.DNS:
        values.update(addresses=d.get("addresses"), resolver=d.get("resolver"),
                      source=d.get("source"))
    elif stage.name is StageName.TCP:
        values.update(connected_to=d.get("connected_to"),
                      attempts=len(d.get("attempts") or ()))
    elif stage.name is StageName.TLS:
        cert = d.get("certificate") or {}
        values.update(version=d.get("version"), cipher=d.get("cipher"), alpn=d.get("alpn"),
                      issuer=cert.get("issuer"), days_left=cert.get("days_left"))
    elif stage.name is StageName.WS_UPGRADE:
        values.update(status=d.get("status"), server=(d.get("headers") or {}).get("server"))
    elif stage.name is StageName.FIRST_MESSAGE:
        for name, info in (d.get("streams") or {}).items():
            values[f"{name}.latency_ms"] = info.get("latency_ms")
            values[f"{name}.event_time_lag_ms"] = info.get("event_time_lag_ms")
    return values


def _explanation(finding: Finding | None, stage: StageResult) -> str:
    lines = [plain(stage_line(stage))]
    if finding is not None:
        lines += ["", f"{finding.id} ({finding.severity.value}, blame: {finding.blame.value})",
                  plain(finding.title), plain(finding.hypothesis)]
        lines += [f"evidence: {plain(e)}" for e in finding.evidence]
        lines += [f"action: {plain(a)}" for a in finding.actions]
    return "\n".join(lines)


def _testcase(suite: ET.Element, report: ProbeReport, stage: StageResult) -> str:
    """Add one stage's testcase; return its outcome: ok, failure, error or skipped."""
    case = ET.SubElement(suite, "testcase", name=stage.name.value,
                         classname=classname(report), time=_seconds(stage.duration_ms))
    root = report.findings[0] if report.findings else None
    if stage.status is StageStatus.SKIPPED:
        # The schema's <skipped> has no attributes: the reason is its text.
        ET.SubElement(case, "skipped").text = clean(stage.details.get("reason", "not reached"))
        return "skipped"
    if stage.error is not None:
        tag = "failure" if stage.error.kind in VALIDATION_KINDS else "error"
        element = ET.SubElement(case, tag, type=stage.error.kind.value,
                                message=clean(stage.error.message))
        element.text = clean(_explanation(root if stage is report.failed_stage else None,
                                          stage))
        return tag
    crossed = crossed_threshold(report.thresholds, stage)
    if crossed is not None:
        flag, limit = crossed
        message = (f"{stage.name.value} took {stage.duration_ms:g} ms, over "
                   f"--{flag} {stage.name.value}={limit:g}")
        if flag == "crit":
            element = ET.SubElement(case, "failure", type="threshold", message=message)
            element.text = clean(plain(stage_line(stage)))
            return "failure"
        _system_out(case, plain(stage_line(stage)), f"warning: {message}")
        return "ok"
    _system_out(case, plain(stage_line(stage)))
    return "ok"


def _system_out(case: ET.Element, *lines: str) -> None:
    ET.SubElement(case, "system-out").text = clean("\n".join(lines))


def render_junit(report: ProbeReport) -> str:
    target = report.target
    suites = ET.Element("testsuites", name="binance-diag")
    suite = ET.SubElement(
        suites, "testsuite", name=clean(target.url),
        timestamp=report.generated_at.strftime("%Y-%m-%dT%H:%M:%S"),
        hostname=machine_name(),
    )
    env = report.environment
    stage_values = {f"{stage.name.value}.{key}": value for stage in report.stages
                    if stage.status is not StageStatus.SKIPPED
                    for key, value in stage_properties(stage).items()}
    _properties(suite, {
        "target.url": target.url, "target.host": target.host, "target.port": target.port,
        "target.endpoint": target.endpoint, "target.symbols": target.symbols,
        "target.stream": target.stream, "status": report.status.value,
        "root_cause": report.findings[0].id if report.findings else None,
        "tool.version": report.tool_version, "python": env.get("python"),
        "websockets": env.get("websockets"), "openssl": env.get("openssl"),
        "command": report.command,
        **stage_values,
    })
    outcomes = [_testcase(suite, report, stage) for stage in report.stages]
    counts = {
        "tests": str(len(outcomes)),
        "failures": str(outcomes.count("failure")),
        "errors": str(outcomes.count("error")),
        "time": _seconds(total_ms(report)),
    }
    for name, value in counts.items():
        suites.set(name, value)
        suite.set(name, value)
    suite.set("skipped", str(outcomes.count("skipped")))  # <testsuites> has no such count
    if report.findings:
        lines = [f"{f.id} ({f.severity.value}, blame: {f.blame.value}"
                 f"{', confirmed by experiment' if f.confirmed_by else ''}): {plain(f.title)}"
                 for f in report.findings]
        lines += [f"experiment {e.name}: {e.outcome}: {plain(e.result)}"
                  for e in report.experiments]
        ET.SubElement(suite, "system-out").text = clean("\n".join(lines))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") \
        + "\n"


def render_junit_matrix(matrix: EndpointMatrix) -> str:
    """One testsuite per endpoint (each exactly as `probe --format junit` renders it)."""
    suites = ET.Element("testsuites", name="binance-diag endpoint matrix")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    time = 0.0
    for row in matrix.rows:
        suite = ET.fromstring(render_junit(row.report)).find("testsuite")
        if suite is None:  # pragma: no cover - render_junit always writes one
            continue
        suite.set("name", row.endpoint if row.endpoint == row.url
                  else f"{row.endpoint} ({row.url})")
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
        time = max(time, float(suite.get("time", "0")))  # they ran concurrently
        suites.append(suite)
    for key, value in totals.items():
        suites.set(key, str(value))
    suites.set("time", f"{time:.3f}")
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") \
        + "\n"


class JunitFormatter(Formatter):
    name = OutputFormat.JUNIT
    for_programs = True
    suffix = ".xml"

    def format(self, report: ProbeReport) -> str:
        return render_junit(report)

    def format_matrix(self, matrix: EndpointMatrix) -> str:
        return render_junit_matrix(matrix)

    def format_count(self, summary: CountSummary) -> str:
        return render_junit_count(summary)


def render_junit_count(summary: CountSummary) -> str:
    """One testcase per stage across the runs: failed when a run failed there and the
    failures were not tolerated (`--max-failures`), so CI agrees with the exit code."""
    suites = ET.Element("testsuites", name=f"binance-diag probe --count {summary.requested}")
    suite = ET.SubElement(suites, "testsuite", name=clean(summary.target_url),
                          timestamp=summary.started_at.strftime("%Y-%m-%dT%H:%M:%S"),
                          hostname=machine_name())
    _properties(suite, {"target.url": summary.target_url, "command": summary.command,
                        "runs": summary.series.runs, "requested": summary.requested,
                        "failed_runs": summary.series.failed_runs,
                        "max_failures": summary.max_failures, "verdict": summary.verdict})
    failing = summary.exit_code >= ExitCode.CRITICAL
    failures = 0
    for stage in summary.series.ordered():
        figures = stage.durations_ms.summary()
        case = ET.SubElement(suite, "testcase", classname="binance-diag.count",
                             name=stage.name.value,
                             time=_seconds(None if figures["p50"] is None
                                           else float(figures["p50"])))
        kinds = ", ".join(f"{kind} x{n}" for kind, n in stage.failures.most_common())
        if kinds and failing:
            failures += 1
            ET.SubElement(case, "failure", type=stage.failures.most_common(1)[0][0],
                          message=clean(f"{stage.ran - stage.passed} of {stage.ran} runs "
                                        f"failed: {kinds}"))
        _system_out(case, f"{stage.passed} of {stage.ran} runs passed "
                          f"({stage.success_pct} %); p50 {figures['p50']} ms, p95 "
                          f"{figures['p95']} ms, max {figures['max']} ms"
                          + (f"; failures (tolerated): {kinds}" if kinds and not failing
                             else ""))
    counts = {"tests": str(len(summary.series.stages)), "failures": str(failures),
              "errors": "0", "time": f"{summary.duration_s:.3f}"}
    for name, value in counts.items():
        suites.set(name, value)
        suite.set(name, value)
    ET.SubElement(suite, "system-out").text = clean(summary.headline)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") \
        + "\n"
