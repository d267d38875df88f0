"""The fault catalogue for people: `simulate --list`, fault lookup with suggestions, and the
table in docs/simulate.md.

Pure and cheap to import (no sockets, no certificates). After changing faults.py, run
`python -m binance_diag.simulate.catalogue docs/simulate.md` to rewrite the doc's table;
tests/simulate/test_catalogue.py fails while it is stale.
"""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

from ..config.errors import ConfigError
from .faults import FAULTS, Fault

COMMAND = "python -m binance_diag.simulate.catalogue docs/simulate.md"
BEGIN = "<!-- fault catalogue: begin -->"
END = "<!-- fault catalogue: end -->"


def lookup_fault(name: str) -> Fault:
    """The catalogue entry, or a ConfigError (one line, exit 3) naming the closest faults."""
    fault = FAULTS.get(name.strip().lower())
    if fault is not None:
        return fault
    close = difflib.get_close_matches(name.strip().lower(), list(FAULTS), n=3, cutoff=0.5)
    hint = f"did you mean {' or '.join(close)}?" if close else "see `binance-diag simulate --list`"
    raise ConfigError(f"unknown fault {name!r}: {hint}")


def catalogue_lines() -> list[str]:
    """`simulate --list`: one line per fault - name, expected outcome, description."""
    name_width = max(len(name) for name in FAULTS)
    outcome_width = max(len(f.expectation) for f in FAULTS.values())
    return [
        f"{f.name:<{name_width}}  {f.expectation:<{outcome_width}}  {f.description}"
        for f in FAULTS.values()
    ]


def catalogue_markdown() -> str:
    """The Markdown table of docs/simulate.md, between its BEGIN and END markers."""
    lines = [
        BEGIN,
        f"<!-- Generated from binance_diag/simulate/faults.py by `{COMMAND}`. -->",
        "",
        "| fault | a probe concludes | what the simulator does | note |",
        "|---|---|---|---|",
    ]
    for fault in FAULTS.values():
        outcome = "passes" if fault.expected is None else f"`{fault.expectation}`"
        lines.append(
            f"| `{fault.name}` | {outcome} | {_md(fault.description)} | {_md(fault.note)} |")
    lines.append(END)
    return "\n".join(lines)


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def with_catalogue(document: str) -> str:
    """`document` with the text between the markers replaced by the current table."""
    start, end = document.find(BEGIN), document.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the document has no {BEGIN} ... {END} section")
    return document[:start] + catalogue_markdown() + document[end + len(END):]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(f"usage: {COMMAND}", file=sys.stderr)
        return 2
    path = Path(argv[0])
    path.write_text(with_catalogue(path.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
