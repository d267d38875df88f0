from datetime import UTC, datetime

import jsonschema
import pytest

from binance_diag.config.endpoints import build_target
from binance_diag.model import (
    ErrorKind,
    ProbeReport,
    StageError,
    StageName,
    StageResult,
    StageStatus,
)
from binance_diag.render.json import JsonFormatter, report_to_dict
from binance_diag.schema import load_probe_schema
from tests.matrix_check import validated_matrix
from tests.render.cases import CASES, mixed_matrix
from tests.schema_check import validated_json

AT = datetime(2026, 1, 4, 8, 41, 59, 784000, tzinfo=UTC)


def failed_report() -> ProbeReport:
    return ProbeReport(
        tool_version="0.1.0",
        generated_at=AT,
        target=build_target(["BTCUSDT"], "aggTrade", "spot"),
        stages=(
            StageResult(StageName.DNS, StageStatus.OK, 5.0, AT, 23.4,
                        details={"addresses": ["127.0.0.1"]}),
            StageResult(StageName.TCP, StageStatus.OK, 5.0, AT, 41.2),
            StageResult(StageName.TLS, StageStatus.TIMEOUT, 10.0, AT, 10000.1,
                        StageError(ErrorKind.TIMEOUT, "no ServerHello", {"bytes_received": 0})),
            StageResult(StageName.WS_UPGRADE, StageStatus.SKIPPED, 5.0),
            StageResult(StageName.FIRST_MESSAGE, StageStatus.SKIPPED, 10.0),
        ),
        environment={"python": "3.11.7", "websockets": "17.4", "openssl": "OpenSSL 3",
                     "proxy": None},
    )


def test_contract_fields() -> None:
    document = validated_json(failed_report())
    assert document["schema"] == "binance-diag/probe/1"
    assert document["generated_at"] == "2026-01-04T08:41:59.784+00:00"
    assert document["status"] == "failed"
    assert document["failed_stage"] == "tls"
    tls = document["stages"][2]
    assert tls["error"] == {"kind": "timeout", "message": "no ServerHello", "bytes_received": 0}
    assert document["stages"][3]["duration_ms"] is None


def test_schema_rejects_a_broken_report() -> None:
    document = report_to_dict(failed_report())
    document["stages"][2]["error"]["kind"] = "gremlins"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, load_probe_schema())
    document = report_to_dict(failed_report())
    document["stages"][0]["status"] = "skipped"  # a skipped stage cannot have a duration
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, load_probe_schema())


def test_every_error_kind_is_in_the_schema() -> None:
    kinds = load_probe_schema()["$defs"]["error_kind"]["enum"]
    assert sorted(kinds) == sorted(k.value for k in ErrorKind)
    names = load_probe_schema()["$defs"]["stage_name"]["enum"]
    assert names == [s.value for s in StageName]


@pytest.mark.parametrize("case", list(CASES))
def test_every_golden_case_is_valid_json_with_findings(case: str) -> None:
    report = CASES[case]()
    document = validated_json(report)
    assert [f["id"] for f in document["findings"]] == [f.id for f in report.findings]
    assert document["findings"], "a diagnosed report always has a finding"
    assert document["analysis"] == list(report.analysis)


def test_thresholds_are_in_the_json() -> None:
    document = validated_json(CASES["degraded"]())
    assert document["thresholds"] == {"warn": {"tls": 1000.0}, "crit": {"tls": 3000.0}}
    assert document["status"] == "degraded"
    assert document["loop"]["blockages"][0]["stage"] == "tls"


def test_schema_rejects_a_bad_threshold_stage() -> None:
    document = report_to_dict(CASES["degraded"]())
    document["thresholds"]["warn"] = {"tsl": 5}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, load_probe_schema())


def test_exit_code_tells_a_critical_degraded_run_from_a_warning() -> None:
    """Both are `degraded`; only the exit code (as in the Nagios line) tells them apart."""
    from binance_diag.model import Thresholds
    from tests.reports import make_report

    crit = make_report(durations={StageName.TLS: 1480.0},
                       thresholds=Thresholds(crit={StageName.TLS: 1000.0}))
    warn = make_report(durations={StageName.TLS: 1480.0},
                       thresholds=Thresholds(warn={StageName.TLS: 1000.0}))
    crit_doc, warn_doc = validated_json(crit), validated_json(warn)
    assert crit_doc["status"] == warn_doc["status"] == "degraded"
    assert (crit_doc["exit_code"], warn_doc["exit_code"]) == (2, 1)
    assert validated_json(CASES["healthy"]())["exit_code"] == 0


def test_matrix_document_follows_the_schema() -> None:
    document = validated_matrix(JsonFormatter().format_matrix(mixed_matrix()))
    assert document["schema"] == "binance-diag/matrix/1"
    assert document["exit_code"] == 1
    assert [e["endpoint"] for e in document["endpoints"]] == ["spot", "spot-443"]
    assert document["endpoints"][0]["cells"]["tcp"]["error_kind"] == "timeout"
    assert document["endpoints"][0]["root_cause"] == "tcp.port_blocked"
    assert [r["schema"] for r in document["reports"]] == ["binance-diag/probe/1"] * 2
