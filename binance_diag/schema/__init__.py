"""The published JSON Schema of the report (`--format json`)."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

PROBE_SCHEMA_FILE = "probe-1.schema.json"


def load_probe_schema() -> dict[str, Any]:
    text = resources.files(__package__).joinpath(PROBE_SCHEMA_FILE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
