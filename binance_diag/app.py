"""Running a probe for the CLI: event loop, rendering, writing the output, the exit code.

Kept apart from cli.py so the CLI stays wiring and this stays importable without typer.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

from .config import ProbeConfig
from .exitcodes import ExitCode, exit_code_for
from .model import ProbeReport
from .probe.runner import run_probe


def render(report: ProbeReport, output_format: str) -> str:
    if output_format == "json":
        from .render.json import render_json

        return render_json(report)
    from .render.text import render_text

    return render_text(report)


def write_atomically(path: Path, text: str) -> None:
    """Write to a temporary file beside `path`, then rename: readers never see half a report."""
    directory = path.parent if str(path.parent) else Path(".")
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def run_probe_command(
    config: ProbeConfig, output_format: str, output: Path | None, command: str
) -> ExitCode:
    report = asyncio.run(run_probe(config, command=command))
    text = render(report, output_format)
    if output is not None:
        write_atomically(output, text)
    sys.stdout.write(text)
    sys.stdout.flush()
    return exit_code_for(report)
