"""Every JSON report the tests produce is checked against the published schema."""

from __future__ import annotations

import json
from typing import Any

import jsonschema

from binance_diag.model import ProbeReport
from binance_diag.render.json import render_json
from binance_diag.schema import load_probe_schema

VALIDATOR = jsonschema.Draft202012Validator(load_probe_schema())


def validated_json(report: ProbeReport) -> dict[str, Any]:
    """Render `report` as JSON, parse it back, and fail the test if it breaks the schema."""
    document: dict[str, Any] = json.loads(render_json(report))
    VALIDATOR.validate(document)
    return document
