"""binance_diag/figures/series.py: probes in a row folded into per-stage statistics, the exit code
of N runs, and the `probe --count` summary in every format (fed built reports)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import jsonschema
import pytest
from referencing import Registry, Resource

from binance_diag.exitcodes import ExitCode
from binance_diag.figures.series import CountSummary, ProbeSeries, count_exit_code
from binance_diag.model import ErrorKind, StageName
from binance_diag.render.formats import OutputFormat, formatter_for
from binance_diag.schema import load_count_schema, load_probe_schema
from tests.reports import AT, make_report

OK, WARN, CRIT = ExitCode.OK, ExitCode.WARNING, ExitCode.CRITICAL
_PROBE = load_probe_schema()
COUNT_VALIDATOR = jsonschema.Draft202012Validator(
    load_count_schema(),
    registry=Registry().with_resource(_PROBE["$id"], Resource.from_contents(_PROBE)))


def series_of_three() -> ProbeSeries:
    """Two healthy runs and one refused at tcp."""
    series = ProbeSeries()
    series.add(make_report())
    series.add(make_report(fail=StageName.TCP, kind=ErrorKind.REFUSED,
                           message="connection refused"))
    series.add(make_report(durations={StageName.TLS: 300.0}))
    return series


def summary(series: ProbeSeries, max_failures: int | None = None) -> CountSummary:
    codes = [(OK, False), (CRIT, True), (OK, False)]
    return CountSummary(series, 3, 1.0, max_failures, count_exit_code(codes, max_failures),
                        "wss://stream.binance.com:9443/ws/btcusdt@aggTrade",
                        "binance-diag probe BTCUSDT --count 3", AT, 2.5)


def test_stages_count_the_runs_that_reached_them() -> None:
    series = series_of_three()
    stages = {s.name: s for s in series.ordered()}
    assert series.runs == 3 and series.failed_runs == 1 and series.success_pct == 66.7
    assert stages[StageName.TCP].ran == 3 and stages[StageName.TCP].passed == 2
    assert dict(stages[StageName.TCP].failures) == {"refused": 1}
    assert stages[StageName.TLS].ran == 2  # skipped after the refused tcp: not counted
    assert stages[StageName.TLS].durations_ms.maximum == 300.0
    assert series.worst is not None and series.worst.failed_stage is not None


@pytest.mark.parametrize(("codes", "max_failures", "expected"), [
    ([], None, ExitCode.UNKNOWN),
    ([(OK, False), (WARN, False)], None, WARN),
    ([(OK, False), (CRIT, True)], None, CRIT),
    ([(OK, False), (CRIT, True)], 1, OK),  # the failure tolerated: the others decide
    ([(WARN, False), (CRIT, True)], 1, WARN),
    ([(OK, False), (CRIT, True), (CRIT, True)], 1, CRIT),  # one more than tolerated
    ([(CRIT, True)], 1, OK),
])
def test_exit_code_of_n_runs(codes: list[tuple[ExitCode, bool]], max_failures: int | None,
                             expected: ExitCode) -> None:
    assert count_exit_code(codes, max_failures) is expected


def test_every_format_renders_the_summary() -> None:
    counted = summary(series_of_three())
    assert counted.verdict == "CRITICAL"
    assert counted.headline == "2 of 3 probes ok (66.7 %), 1 failed"
    assert counted.failed_runs()[0][0] == 2
    document = json.loads(formatter_for(OutputFormat.JSON).format_count(counted))
    COUNT_VALIDATOR.validate(document)
    assert document["exit_code"] == 2 and document["worst"]["status"] == "failed"
    markdown = formatter_for(OutputFormat.MARKDOWN).format_count(counted)
    assert "| `tcp` | 3 | 66.7 |" in markdown and "## Failed runs" in markdown
    nagios = formatter_for(OutputFormat.NAGIOS).format_count(counted)
    assert nagios.startswith("CRITICAL: 2 of 3 probes ok") and "tcp_ok=66.7%" in nagios
    suites = ET.fromstring(formatter_for(OutputFormat.JUNIT).format_count(counted))
    assert suites.get("failures") == "1"
    failure = suites.find(".//testcase[@name='tcp']/failure")
    assert failure is not None and failure.get("type") == "refused"
    text = formatter_for(OutputFormat.RICH).format_count(counted)
    assert "tcp" in text and "#2" in text and "refused" in text


def test_tolerated_failures_are_not_junit_failures() -> None:
    counted = summary(series_of_three(), max_failures=1)
    assert counted.exit_code is OK and "(tolerated: 1)" in counted.headline
    suites = ET.fromstring(formatter_for(OutputFormat.JUNIT).format_count(counted))
    assert suites.get("failures") == "0"
    assert "tolerated" in (suites.findtext(".//testcase[@name='tcp']/system-out") or "")
