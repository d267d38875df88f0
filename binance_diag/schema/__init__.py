"""The published JSON Schemas: the probe report, the endpoint matrix, the loopwatch summary."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

PROBE_SCHEMA_FILE = "probe-1.schema.json"
MATRIX_SCHEMA_FILE = "matrix-1.schema.json"
LOOPWATCH_SCHEMA_FILE = "loopwatch-1.schema.json"


def _load(name: str) -> dict[str, Any]:
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def load_probe_schema() -> dict[str, Any]:
    return _load(PROBE_SCHEMA_FILE)


def load_matrix_schema() -> dict[str, Any]:
    """The matrix document's schema; its `reports` refer to the probe schema by `$id`."""
    return _load(MATRIX_SCHEMA_FILE)


def load_loopwatch_schema() -> dict[str, Any]:
    """The `binance-diag loopwatch --report FILE --format json` document's schema."""
    return _load(LOOPWATCH_SCHEMA_FILE)


COUNT_SCHEMA_FILE = "count-1.schema.json"


def load_count_schema() -> dict[str, Any]:
    """`probe --count N --format json`'s summary; its `worst` refers to the probe schema."""
    return _load(COUNT_SCHEMA_FILE)
