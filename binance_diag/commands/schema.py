"""`binance-diag schema NAME`: print a published JSON Schema (probe, matrix, loopwatch)."""

from __future__ import annotations

from typing import Annotated

import typer

SCHEMAS = {
    "probe": ("PROBE_SCHEMA_FILE", "`probe --format json`: one report (binance-diag/probe/1)"),
    "matrix": ("MATRIX_SCHEMA_FILE", "`probe --endpoint all --format json`: the endpoint "
               "matrix"),
    "loopwatch": ("LOOPWATCH_SCHEMA_FILE", "`loopwatch --report FILE --format json`: the "
                  "summary"),
}
"""Name -> (the constant naming its file in binance_diag.schema, what document it checks)."""


def _schema_names(incomplete: str) -> list[str]:
    return [name for name in SCHEMAS if name.startswith(incomplete)]


def schema(
    name: Annotated[
        str | None,
        typer.Argument(metavar="NAME", help="probe, matrix or loopwatch.", show_default=False,
                       autocompletion=_schema_names),
    ] = None,
    list_schemas: Annotated[
        bool, typer.Option("--list", help="List the schemas and the documents they check.")
    ] = False,
) -> None:
    """Print a published JSON Schema (draft 2020-12), exactly as shipped in the package."""
    from importlib import resources

    from .. import schema as package

    if list_schemas or name is None:
        if name is None and not list_schemas:
            raise typer.BadParameter("give a schema name (probe, matrix, loopwatch) or --list",
                                     param_hint="NAME")
        for known, (_, what) in SCHEMAS.items():
            print(f"{known:<10} {what}")
        return
    if name not in SCHEMAS:
        raise typer.BadParameter(f"{name!r} is not one of: {', '.join(SCHEMAS)}",
                                 param_hint="NAME")
    file_name: str = getattr(package, SCHEMAS[name][0])
    print(resources.files(package).joinpath(file_name).read_text(encoding="utf-8"), end="")
