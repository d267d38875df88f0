"""One Nagios-plugin status line with performance data, e.g.

    BINANCE-DIAG CRITICAL: tls handshake timed out after 5.00s [tls.handshake_timeout] \
| 'dns'=23.4ms;;;0;5000 'tcp'=41.2ms;;;0;5000 'tls'=5002.7ms;;;0;5000 ...

Pure. The state word matches the exit code (DESIGN.md §5); perfdata follows the plugin
guidelines: `'label'=value[UOM];[warn];[crit];[min];[max]`, `U` for a stage never reached,
with `--warn` / `--crit` limits as warn / crit and the stage timeout as max. For the endpoint
matrix, the state word is the matrix's exit code and the perfdata each endpoint's total.
"""

from __future__ import annotations

from ..diagnose.describe import STAGE_ACTIONS, not_applicable, total_ms
from ..diagnose.matrix import EndpointMatrix
from ..exitcodes import ExitCode, exit_code_for
from ..figures.series import CountSummary
from ..model import ErrorKind, ProbeReport, StageResult, Thresholds
from ..timing import format_ms
from .base import Formatter
from .formats import OutputFormat
from .markup import plain

STATES = {ExitCode.OK: "OK", ExitCode.WARNING: "WARNING", ExitCode.CRITICAL: "CRITICAL",
          ExitCode.UNKNOWN: "UNKNOWN"}


def _number(value: float) -> str:
    """Plain decimal notation, to the microsecond in ms: `0.26`, `3600000`, never `3.6e+06`
    (plugins parse perfdata with a plain-number grammar)."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def perfdata(stage: StageResult, thresholds: Thresholds) -> str:
    value = "U" if stage.duration_ms is None else f"{_number(stage.duration_ms)}ms"
    warn = thresholds.warn.get(stage.name)
    crit = thresholds.crit.get(stage.name)
    fields = [value, _number(warn) if warn else "", _number(crit) if crit else "", "0",
              _number(stage.timeout_s * 1000)]
    return f"'{stage.name.value}'={';'.join(fields)}"


def summary(report: ProbeReport, code: ExitCode) -> str:
    failed = report.failed_stage
    top = report.findings[0] if report.findings else None
    tag = ""
    if top is not None and code is not ExitCode.OK:
        ran = sum(1 for e in report.experiments if e.ran)
        proof = f", confirmed by {ran} experiment{'s' * (ran != 1)}" if top.confirmed_by \
            else (f", inferred; {ran} experiment{'s' * (ran != 1)} inconclusive" if ran
                  else "")
        tag = f" [{top.id}{proof}]"
    if failed is not None and failed.error is not None:
        what = STAGE_ACTIONS[failed.name].lower()
        if failed.error.kind is ErrorKind.TIMEOUT:
            return f"{what} timed out after {failed.timeout_s:.2f}s{tag}"
        return f"{what} failed: {failed.error.message}{tag}"
    if code is not ExitCode.OK and top is not None:
        return f"{plain(top.title)}{tag}"
    streams = ", ".join(f"{s.lower()}@{report.target.stream}" for s in report.target.symbols)
    verb = "delivers" if len(report.target.symbols) == 1 else "deliver"
    return f"{streams} {verb} data; every stage passed in {format_ms(total_ms(report))}"


def render_nagios(report: ProbeReport) -> str:
    code = exit_code_for(report)
    text = " ".join(summary(report, code).replace("|", "/").split())
    stages = [s for s in report.stages if not not_applicable(s, report.target.secure)]
    perf = [perfdata(s, report.thresholds) for s in stages]
    perf.append(f"'total'={_number(total_ms(report))}ms")
    return f"BINANCE-DIAG {STATES[code]}: {text} | {' '.join(perf)}\n"


def render_nagios_matrix(matrix: EndpointMatrix) -> str:
    """One line; the state word is the matrix's exit code; perfdata: each endpoint's total."""
    verdict = matrix.verdict
    text = " ".join(verdict.text.replace("|", "/").split())
    perf = []
    for row in matrix.rows:
        name = row.endpoint.replace("'", "").replace("=", "")
        value = f"{round(total_ms(row.report), 1):g}ms" if row.works else "U"
        limit = sum(s.timeout_s for s in row.report.stages) * 1000
        perf.append(f"'{name}'={value};;;0;{round(limit, 1):g}")
    return f"BINANCE-DIAG {STATES[verdict.exit_code]}: {text} | {' '.join(perf)}\n"


class NagiosFormatter(Formatter):
    name = OutputFormat.NAGIOS
    for_programs = True
    suffix = ".txt"

    def format(self, report: ProbeReport) -> str:
        return render_nagios(report)

    def format_matrix(self, matrix: EndpointMatrix) -> str:
        return render_nagios_matrix(matrix)

    def format_count(self, summary: CountSummary) -> str:
        return render_nagios_count(summary)


def render_nagios_count(summary: CountSummary) -> str:
    """`STATE: headline | perfdata`: per stage its success % and p50/p95 in milliseconds."""
    perf = []
    for stage in summary.series.ordered():
        name = stage.name.value
        figures = stage.durations_ms.summary()
        perf.append(f"{name}_ok={_number(stage.success_pct or 0.0)}%;;;0;100")
        perf += [f"{name}_{q}={_number(float(v))}ms" for q in ("p50", "p95")
                 if (v := figures[q]) is not None]
    perf.append(f"failed_runs={summary.series.failed_runs};;;0;{summary.requested}")
    return f"{STATES[summary.exit_code]}: {summary.headline} | {' '.join(perf)}\n"
