"""schema/__init__.py: the published JSON Schemas load, and each is a valid schema."""

from __future__ import annotations

import jsonschema

from binance_diag.schema import load_loopwatch_schema, load_matrix_schema, load_probe_schema


def test_every_published_schema_is_a_valid_draft_2020_12_schema() -> None:
    for schema in (load_probe_schema(), load_matrix_schema(), load_loopwatch_schema()):
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["$id"]


def test_the_probe_schema_names_its_version() -> None:
    schema = load_probe_schema()
    assert "binance-diag/probe/1" in str(schema["properties"]["schema"])
