"""`binance-diag schema NAME`: print a published JSON Schema, as shipped in the package."""

from __future__ import annotations

import re
from typing import Annotated

import typer

DESCRIPTIONS = {
    "probe": "`probe --format json`: one report (binance-diag/probe/1)",
    "matrix": "`probe --endpoint all --format json`: the endpoint matrix",
    "count": "`probe --count N --format json`: the summary of N runs",
    "loopwatch": "`loopwatch --report FILE --format json`: the summary",
}
"""What document each schema checks, in the order `--list` shows them. The names come from
the files shipped (`schemas()`): one without a line here is listed by its own title."""

_SCHEMA_FILE = re.compile(r"(?P<name>[a-z][a-z0-9_-]*?)-(?P<version>\d+)\.schema\.json")


def schemas() -> dict[str, tuple[str, str]]:
    """Name -> (file, what it checks), for every `*-N.schema.json` in binance_diag.schema."""
    import json
    from importlib import resources

    from .. import schema as package

    found: dict[str, tuple[str, str]] = {}
    for entry in sorted(resources.files(package).iterdir(), key=lambda e: e.name):
        match = _SCHEMA_FILE.fullmatch(entry.name)
        if match is None:
            continue
        name = match["name"]
        what = DESCRIPTIONS.get(name) or str(
            json.loads(entry.read_text(encoding="utf-8")).get("title", entry.name))
        found[name] = (entry.name, what)
    order = list(DESCRIPTIONS)
    return dict(sorted(found.items(),
                       key=lambda item: (order.index(item[0]) if item[0] in order
                                         else len(order), item[0])))


def _schema_names(incomplete: str) -> list[str]:
    return [name for name in schemas() if name.startswith(incomplete)]


def schema(
    name: Annotated[
        str | None,
        typer.Argument(metavar="NAME", help="A schema's name (see --list): probe, matrix...",
                       show_default=False, autocompletion=_schema_names),
    ] = None,
    list_schemas: Annotated[
        bool, typer.Option("--list", help="List the schemas and the documents they check.")
    ] = False,
) -> None:
    """Print a published JSON Schema (draft 2020-12), exactly as shipped in the package."""
    from importlib import resources

    from .. import schema as package

    known = schemas()
    if list_schemas or name is None:
        if name is None and not list_schemas:
            raise typer.BadParameter(f"give a schema name ({', '.join(known)}) or --list",
                                     param_hint="NAME")
        for each, (_, what) in known.items():
            print(f"{each:<10} {what}")
        return
    if name not in known:
        raise typer.BadParameter(f"{name!r} is not one of: {', '.join(known)}",
                                 param_hint="NAME")
    file_name = known[name][0]
    print(resources.files(package).joinpath(file_name).read_text(encoding="utf-8"), end="")
