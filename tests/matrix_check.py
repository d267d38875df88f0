"""Every matrix JSON document the tests produce is checked against the published schema,
its embedded probe reports against the probe schema (resolved by `$id`)."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
from referencing import Registry, Resource

from binance_diag.schema import load_matrix_schema, load_probe_schema

_PROBE = load_probe_schema()
VALIDATOR = jsonschema.Draft202012Validator(
    load_matrix_schema(),
    registry=Registry().with_resource(_PROBE["$id"], Resource.from_contents(_PROBE)),
)


def validated_matrix(text: str) -> dict[str, Any]:
    """Parse a `binance-diag/matrix/1` document and fail the test if it breaks the schema."""
    document: dict[str, Any] = json.loads(text)
    VALIDATOR.validate(document)
    return document
