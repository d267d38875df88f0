"""`binance-diag schema` (commands/schema.py): prints each published schema as shipped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import binance_diag.schema
from binance_diag.schema import (
    load_count_schema,
    load_loopwatch_schema,
    load_matrix_schema,
    load_probe_schema,
)
from tests.commands.helpers import assert_one_error_line, run_cli


@pytest.mark.timeout(30)
@pytest.mark.parametrize(("name", "load"), [
    ("probe", load_probe_schema), ("matrix", load_matrix_schema),
    ("loopwatch", load_loopwatch_schema), ("count", load_count_schema),
])
def test_schema_prints_the_shipped_schema(name: str, load: object) -> None:
    result = run_cli("schema", name)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert callable(load)
    assert document == load()
    assert document["$id"].endswith(f"/{name}-1.schema.json")


@pytest.mark.timeout(30)
def test_schema_list_names_every_shipped_schema() -> None:
    shipped = {path.name.removesuffix("-1.schema.json")
               for path in Path(binance_diag.schema.__file__).parent.glob("*.json")}
    assert {"probe", "matrix", "loopwatch", "count"} <= shipped
    result = run_cli("schema", "--list")
    assert result.returncode == 0
    listed = [line.split()[0] for line in result.stdout.splitlines()]
    assert listed == ["probe", "matrix", "count", "loopwatch"]
    assert set(listed) == shipped
    for name in listed:  # each one listed is printed
        document = json.loads(run_cli("schema", name).stdout)
        assert document["$id"].endswith(f"/{name}-1.schema.json")


@pytest.mark.timeout(30)
@pytest.mark.parametrize(("args", "message"), [
    (("nope",), "'nope' is not one of: probe, matrix, count, loopwatch"),
    ((), "give a schema name"),
])
def test_unknown_or_missing_schema_is_exit_3_with_one_line(
        args: tuple[str, ...], message: str) -> None:
    assert_one_error_line(run_cli("schema", *args), message)
