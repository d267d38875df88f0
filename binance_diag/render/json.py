"""The JSON report and matrix documents: the stable, versioned contract of DESIGN.md §4.

Pure. `report_to_dict` and `matrix_to_dict` are the only places that decide field names; the
JSON Schemas in `binance_diag/schema/` are checked against them by the tests. The matrix
document embeds each endpoint's `binance-diag/probe/1` report.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from ..diagnose.matrix import MATRIX_SCHEMA_ID, EndpointMatrix, MatrixRow
from ..exitcodes import exit_code_for
from ..figures.series import CountSummary
from ..model import SCHEMA_ID, Blockage, Experiment, Finding, ProbeReport, StageResult
from .base import Formatter
from .formats import OutputFormat
from .matrix_view import command, generated_at, root_cause


def timestamp(at: datetime | None) -> str | None:
    """ISO 8601 with milliseconds and offset: `2026-01-04T08:44:00.123+00:00`."""
    return at.isoformat(timespec="milliseconds") if at else None


def report_to_dict(report: ProbeReport) -> dict[str, Any]:
    target = report.target
    failed = report.failed_stage
    environment = dict(report.environment)
    return {
        "schema": SCHEMA_ID,
        "tool": {"name": "binance-diag", "version": report.tool_version},
        "generated_at": timestamp(report.generated_at),
        "command": report.command,
        "target": {
            "url": target.url,
            "host": target.host,
            "port": target.port,
            "symbols": list(target.symbols),
            "stream": target.stream,
            "endpoint": target.endpoint,
        },
        "status": report.status.value,
        "exit_code": int(exit_code_for(report)),
        "failed_stage": failed.name.value if failed else None,
        "stages": [_stage(s) for s in report.stages],
        "loop": {
            "monitored": report.loop.monitored,
            "interval_ms": report.loop.interval_ms,
            "threshold_ms": report.loop.threshold_ms,
            "heartbeats": report.loop.heartbeats,
            "max_lag_ms": report.loop.max_lag_ms,
            "p99_lag_ms": report.loop.p99_lag_ms,
            "blockages": [_blockage(b) for b in report.loop.blockages],
            "deadline_enforced_by_watchdog": report.loop.deadline_enforced_by_watchdog,
        },
        "thresholds": {
            "warn": {stage.value: ms for stage, ms in report.thresholds.warn.items()},
            "crit": {stage.value: ms for stage, ms in report.thresholds.crit.items()},
        },
        "findings": [_finding(f) for f in report.findings],
        "analysis": list(report.analysis),
        "experiments": [_experiment(e) for e in report.experiments],
        "timeline": [
            {"at": timestamp(e.at), "event": e.event, "stage": e.stage.value if e.stage else None}
            for e in report.timeline
        ],
        "environment": environment,
    }


def _stage(stage: StageResult) -> dict[str, Any]:
    error = None
    if stage.error is not None:
        error = {"kind": stage.error.kind.value, "message": stage.error.message,
                 **dict(stage.error.extra)}
    return {
        "name": stage.name.value,
        "status": stage.status.value,
        "started_at": timestamp(stage.started_at),
        "duration_ms": stage.duration_ms,
        "loop_blocked_ms": stage.loop_blocked_ms,
        "timeout_s": stage.timeout_s,
        "error": error,
        "details": dict(stage.details),
    }


def _blockage(blockage: Blockage) -> dict[str, Any]:
    return {
        "started_at": timestamp(blockage.started_at),
        "duration_ms": blockage.duration_ms,
        "stage": blockage.stage.value if blockage.stage else None,
        "stack": list(blockage.stack),
        "where": blockage.where,
        "trap": blockage.trap,
        "hint": blockage.hint,
    }


def _finding(finding: Finding) -> dict[str, Any]:
    return {
        "id": finding.id,
        "severity": finding.severity.value,
        "blame": finding.blame.value,
        "title": finding.title,
        "evidence": list(finding.evidence),
        "hypothesis": finding.hypothesis,
        "actions": list(finding.actions),
        "basis": finding.basis,
        "confirmed_by": list(finding.confirmed_by),
    }


def _experiment(experiment: Experiment) -> dict[str, Any]:
    return {
        "name": experiment.name,
        "question": experiment.question,
        "action": experiment.action,
        "outcome": experiment.outcome,
        "result": experiment.result,
        "started_at": timestamp(experiment.started_at),
        "duration_ms": experiment.duration_ms,
        "confirms": list(experiment.confirms),
        "rules_out": list(experiment.rules_out),
        "details": dict(experiment.details),
    }


def render_json(report: ProbeReport) -> str:
    return json.dumps(report_to_dict(report), indent=2, ensure_ascii=False, default=str) + "\n"


def matrix_to_dict(matrix: EndpointMatrix) -> dict[str, Any]:
    """The `binance-diag/matrix/1` document (docs/json-report.md, schema/matrix-1)."""
    verdict = matrix.verdict
    first = matrix.rows[0].report if matrix.rows else None
    return {
        "schema": MATRIX_SCHEMA_ID,
        "tool": {"name": "binance-diag", "version": first.tool_version if first else ""},
        "generated_at": timestamp(generated_at(matrix)),
        "command": command(matrix),
        "status": verdict.status.value,
        "exit_code": int(verdict.exit_code),
        "verdict": verdict.text,
        "working": list(verdict.working),
        "failing": list(verdict.failing),
        "stages": [s.value for s in matrix.stages],
        "endpoints": [_endpoint(row) for row in matrix.rows],
        "reports": [report_to_dict(row.report) for row in matrix.rows],
    }


def _endpoint(row: MatrixRow) -> dict[str, Any]:
    failed = row.report.failed_stage
    top = root_cause(row)
    return {
        "endpoint": row.endpoint,
        "url": row.url,
        "works": row.works,
        "status": row.report.status.value,
        "failed_stage": failed.name.value if failed else None,
        "error_kind": failed.error.kind.value if failed and failed.error else None,
        "root_cause": top.id if top is not None else None,
        "cells": {c.stage.value: {"status": c.status.value if c.status else None,
                                  "duration_ms": c.duration_ms,
                                  "error_kind": c.error_kind.value if c.error_kind else None,
                                  "text": c.text}
                  for c in row.cells},
    }


def render_json_matrix(matrix: EndpointMatrix) -> str:
    return json.dumps(matrix_to_dict(matrix), indent=2, ensure_ascii=False, default=str) + "\n"


class JsonFormatter(Formatter):
    name = OutputFormat.JSON
    for_programs = True
    suffix = ".json"

    def format(self, report: ProbeReport) -> str:
        return render_json(report)

    def format_matrix(self, matrix: EndpointMatrix) -> str:
        return render_json_matrix(matrix)

    def format_count(self, summary: CountSummary) -> str:
        """The summary document (schema/count-1.schema.json), the worst run's full report in
        `worst` so a failure keeps its evidence."""
        document = summary.to_dict()
        worst = summary.series.worst
        document["worst"] = None if worst is None else report_to_dict(worst)
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
