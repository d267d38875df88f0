"""Running the endpoint matrix for the CLI: every endpoint probed at once, then one verdict.

The probes run concurrently in one event loop, each with its own stage deadlines, so the
whole matrix ends within one probe's budget plus the grace, however many endpoints there
are. (A single probe's loop watchdog is not attached: its blockage report and hard deadlines
are per probe; the faulthandler backstop still bounds the process.) Binance counts
connections per IP (300 attempts per 5 minutes): the matrix opens one per endpoint, and
refuses to open more than `MAX_ENDPOINTS` at once.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from .config import ConfigError, ProbeConfig
from .exitcodes import ExitCode
from .matrix import EndpointMatrix, build_matrix
from .model import ProbeReport, Thresholds
from .probe.guard import DEFAULT_GRACE, DEFAULT_SETTINGS, GuardSettings
from .probe.runner import run_probe

MAX_ENDPOINTS = 32
"""More at once would look like a connection flood to Binance (and to a firewall)."""


def check_matrix_size(count: int) -> None:
    """Refuse a matrix that would spend a visible share of Binance's connection budget."""
    if count > MAX_ENDPOINTS:
        raise ConfigError(
            f"{count} endpoints: at most {MAX_ENDPOINTS} are probed at once (Binance allows "
            "300 connection attempts per 5 minutes per IP)"
        )


async def run_matrix(configs: Sequence[ProbeConfig], command: str = "") -> list[ProbeReport]:
    """Probe every configuration concurrently; reports come back in the order given."""
    return list(await asyncio.gather(*(run_probe(c, command=command) for c in configs)))


def run_matrix_command(
    configs: Sequence[ProbeConfig], output_format: str, output: Path | None, command: str,
    thresholds: Thresholds | None = None, guard: GuardSettings = DEFAULT_SETTINGS,
) -> ExitCode:
    """`guard`: the validated --loop-*/--deadline-grace settings; its grace widens the
    backstop's budget as it does a single probe's (no loop watchdog per probe here)."""
    check_matrix_size(len(configs))
    if sys.stderr.isatty():
        print(f"binance-diag: probing {len(configs)} endpoints concurrently...",
              file=sys.stderr, flush=True)
    reports = run_bounded(configs, command, guard.grace)
    return publish_matrix(diagnosed(reports, thresholds), output_format, output)


def run_bounded(configs: Sequence[ProbeConfig], command: str = "",
                grace: float = DEFAULT_GRACE) -> list[ProbeReport]:
    """Run the matrix so that nothing can make it outlive one probe's budget for long.

    Each probe supervises its own stages; `run_abandoning` returns even if a task ignores its
    cancellation, and the faulthandler backstop ends a process whose loop is stuck.
    """
    from .hard_deadline import Backstop
    from .probe.guard import BACKSTOP_MARGIN, run_budget
    from .supervise import run_abandoning

    budget = max(run_budget(c, grace) for c in configs) + BACKSTOP_MARGIN
    backstop = Backstop(budget).arm()
    try:
        return run_abandoning(run_matrix(configs, command))
    finally:
        backstop.disarm()


def diagnosed(reports: Sequence[ProbeReport], thresholds: Thresholds | None = None
              ) -> EndpointMatrix:
    """The matrix of the reports once each is diagnosed (with `--warn`/`--crit` applied)."""
    import dataclasses

    from .diagnose import diagnose_report

    if thresholds is not None:
        reports = [dataclasses.replace(r, thresholds=thresholds) for r in reports]
    return build_matrix([diagnose_report(r) for r in reports])


def publish_matrix(
    matrix: EndpointMatrix, output_format: str, output: Path | None,
    stdout: TextIO | None = None, stderr: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
) -> ExitCode:
    """Deliver the matrix as `publish` delivers one report: file, stdout, GitHub summary."""
    from .app import write_atomically
    from .render.base import MACHINE_FORMATS
    from .render.github import escape_data, escape_property
    from .render.matrix import render_matrix, render_matrix_markdown, show_matrix

    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    environ = os.environ if environ is None else environ
    shown = output_format
    if output is not None:
        write_atomically(output, render_matrix(matrix, output_format))
        if stdout.isatty():
            shown = "rich"
    if shown == "rich":
        show_matrix(matrix, stdout)
    else:
        stdout.write(render_matrix(matrix, shown))
        stdout.flush()
    code = matrix.verdict.exit_code
    summary = environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        try:
            with Path(summary).open("a", encoding="utf-8") as handle:
                handle.write(render_matrix_markdown(matrix) + "\n")
        except OSError as exc:
            print(f"binance-diag: warning: cannot append to GITHUB_STEP_SUMMARY: {exc}",
                  file=stderr)
        if code is not ExitCode.OK:
            kind = "error" if code is ExitCode.CRITICAL else "warning"
            title = escape_property("binance-diag: endpoint matrix")
            print(f"::{kind} title={title}::{escape_data(matrix.verdict.text)}",
                  file=stderr if shown in MACHINE_FORMATS else stdout, flush=True)
    return code
