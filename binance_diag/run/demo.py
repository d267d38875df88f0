"""`binance-diag demo`: the simulator and the real probe in one process, no network needed.

`demo` stages one catalogued fault on loopback and shows the full report exactly as `probe`
does (run.probe.run_probe_command: same renderers, same exit code). `demo --all` runs every fault
and checks each is diagnosed as the catalogue says: a self-check of the whole tool.

The default fault is `tls-hang`, the seed incident (TCP accepted, no ServerHello): a first
run should show what binance-diag is for - a stage pinned down, measured, explained, with
actions - and a healthy report shows none of that. It costs one TLS timeout, 2 s.
"""

from __future__ import annotations

import contextlib
import shlex
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO

from ..config.errors import ConfigError
from ..config.timeouts import Timeouts, parse_timeout
from ..exitcodes import ExitCode
from ..model import ProbeReport
from ..render.formats import OutputFormat
from ..simulate.catalogue import lookup_fault
from ..simulate.certs import CertificateAuthority
from ..simulate.faults import FAULTS, Fault
from ..simulate.scenario import probe_config, start_fault
from ..simulate.server import PING_TIMEOUT_FAULT_INTERVAL, ServerOptions
from .outfile import check_output

DEFAULT_FAULT = "tls-hang"
DEMO_TIMEOUT = 2.0
"""Seconds per stage (`demo --timeout`): a timeout fault ends in 2 s; loopback needs ms."""
DEMO_SYMBOLS = ("BTCUSDT",)
DEMO_EXPERIMENTS = 2.0
"""Seconds for the follow-up experiments (`--experiments-timeout`): loopback answers in ms,
silence is called after one attempt budget (1 s)."""
ALL_CONCURRENCY = 4
"""Faults probed at once by `demo --all`: its six timeouts then cost ~2 rounds, not six."""


def demo_timeouts(seconds: float | None = None) -> Timeouts:
    """The same budget for every stage, DEMO_TIMEOUT by default (ConfigError when out of
    range: exit 3)."""
    budget = parse_timeout(seconds, "--timeout") or DEMO_TIMEOUT
    return Timeouts(dns=budget, proxy=budget, tcp=budget, tls=budget, ws_upgrade=budget,
                    first_message=budget)


def demo_options(fault: Fault, timeouts: Timeouts) -> ServerOptions:
    """Server knobs under which `fault` concludes what the catalogue says with `timeouts`.

    The faults whose note depends on timing are kept on the catalogued side of their
    budget whatever `--timeout`: the first event of `slow-first-message` comes within half
    the message budget, `ping-timeout`'s first ping (answered, then events flow) within a
    quarter, and a `trickle`d 101 (~130 bytes) outlasts the upgrade budget. `stall-after`
    (3 events) and `server-shutdown` (none before the notice) need nothing.
    """
    options = ServerOptions()
    if fault.name == "slow-first-message":
        return replace(options, delay=min(options.delay, timeouts.first_message / 2))
    if fault.name == "ping-timeout":
        interval = min(PING_TIMEOUT_FAULT_INTERVAL, timeouts.first_message / 4)
        return replace(options, ping_interval=interval)
    if fault.name == "trickle":
        interval = max(options.trickle_interval, timeouts.ws_upgrade / 50)
        return replace(options, trickle_interval=interval)
    return options


def demo_command(fault: Fault, timeouts: Timeouts,
                 output_format: OutputFormat = OutputFormat.RICH,
                 output: Path | None = None) -> str:
    """The report's command line: re-runnable, with the stage budget stated."""
    words = ["binance-diag", "demo", "--fault", fault.name, "--timeout", f"{timeouts.tls:g}"]
    if output_format is not OutputFormat.RICH:
        words += ["--format", output_format.value]
    if output is not None:
        words += ["--output", str(output)]
    return shlex.join(words)


def run_demo(fault_name: str, output_format: OutputFormat, output: Path | None,
             timeout: float | None = None, stderr: TextIO | None = None) -> ExitCode:
    """Stage one fault, probe it, show the report like `probe`; the probe's exit code."""
    from .probe import run_probe_command

    stderr = stderr or sys.stderr
    fault = lookup_fault(fault_name)
    timeouts = demo_timeouts(timeout)
    check_output(output)  # before the simulator starts and its banner claims a probe
    with start_fault(fault.name, options=demo_options(fault, timeouts)) as scenario:
        config = replace(probe_config(scenario, timeouts, DEMO_SYMBOLS),
                         experiments=DEMO_EXPERIMENTS)
        print(f"binance-diag demo: {fault.name} - {fault.description}; simulated on "
              f"{scenario.address}, offline; probing with {timeouts.tls:g} s per stage, as "
              f"{shlex.join(['binance-diag', 'probe', *DEMO_SYMBOLS, *scenario.cli_args])}",
              file=stderr, flush=True)
        return run_probe_command(config, output_format, output,
                                 demo_command(fault, timeouts, output_format, output))


@dataclass(frozen=True)
class DemoRow:
    """One line of `demo --all`: what the probe concluded about one fault."""

    fault: Fault
    failed_stage: str = "-"
    error_kind: str = "-"
    top_finding: str = "-"
    seconds: float = 0.0
    experiments: int = 0
    """Experiments run after the stages."""
    experiments_ms: float = 0.0
    """Wall time they added."""
    mismatch: str | None = None
    """Why the diagnosis is not the catalogued one; None when it is."""
    not_staged: str | None = None
    """Why this machine cannot stage the fault (tcp-blackhole needs Linux); not a mismatch."""

    @property
    def check(self) -> str:
        if self.not_staged is not None:
            return f"not staged here: {self.not_staged}"
        return "ok" if self.mismatch is None else f"MISMATCH: {self.mismatch}"


def row_for(fault: Fault, report: ProbeReport, seconds: float) -> DemoRow:
    failed = report.failed_stage
    top = report.findings[0] if report.findings else None
    mismatch = fault.mismatch(report)
    if mismatch is None and fault.confirmed and (top is None or top.id != fault.confirmed
                                                 or not top.confirmed_by):
        mismatch = (f"expected {fault.confirmed} confirmed by experiment, got "
                    f"{top.id + ' (' + top.basis + ')' if top else 'no finding'}")
    ran = [e for e in report.experiments if e.ran]
    started = [e.started_at for e in ran if e.started_at is not None]
    added = 0.0
    if started:
        ends = [e.started_at.timestamp() * 1000 + (e.duration_ms or 0.0) for e in ran
                if e.started_at is not None]
        added = max(ends) - min(s.timestamp() * 1000 for s in started)
    return DemoRow(
        fault=fault,
        failed_stage=failed.name.value if failed is not None else "-",
        error_kind=failed.error.kind.value if failed is not None and failed.error else "-",
        top_finding=(f"{top.id}{' (confirmed)' if top.confirmed_by else ''}" if top
                     else "-"),
        seconds=seconds,
        mismatch=mismatch,
        experiments=len(ran),
        experiments_ms=added,
    )


def probe_fault(fault: Fault, certs: CertificateAuthority, timeouts: Timeouts,
                workdir: Path | None = None) -> DemoRow:
    """Stage `fault`, probe it in a fresh event loop (this thread's own), diagnose it."""
    from ..diagnose import diagnose_report
    from ..probe.runner import run_probe
    from ..watchdog.supervise import run_abandoning

    with contextlib.ExitStack() as stack:
        try:
            scenario = stack.enter_context(
                start_fault(fault.name, certs=certs, options=demo_options(fault, timeouts),
                            workdir=workdir))
        except RuntimeError as exc:  # e.g. SYNs cannot be dropped on this system
            return DemoRow(fault, not_staged=str(exc))
        config = replace(probe_config(scenario, timeouts, DEMO_SYMBOLS),
                         experiments=DEMO_EXPERIMENTS)
        started = time.perf_counter()
        try:
            # As the CLI runs a probe: a stage that ignores its cancellation cannot hang this.
            report = run_abandoning(run_probe(config, command=demo_command(fault, timeouts)))
        except Exception as exc:  # noqa: BLE001 - a bug to show in the table, not a crash
            return DemoRow(fault, mismatch=f"probe error {exc!r}")
        seconds = time.perf_counter() - started
    return row_for(fault, diagnose_report(report), seconds)


def run_demo_all(timeout: float | None = None, out: TextIO | None = None,
                 faults: Sequence[Fault] | None = None,
                 concurrency: int = ALL_CONCURRENCY) -> ExitCode:
    """Every fault, a table as results come in (catalogue order); CRITICAL on a mismatch."""
    from ..diagnose import RULES

    out = out or sys.stdout
    timeouts = demo_timeouts(timeout)
    faults = list(FAULTS.values()) if faults is None else list(faults)
    widths = (max(len(f.name) for f in faults), len("first_message"),
              max(len(kind) for kind in ("cert_not_yet_valid", "error kind")),
              max((len(rule.id) for rule in RULES), default=11) + len(" (confirmed)"))

    def line(*cells: str) -> str:
        fault, stage, kind, finding, took, tried, check = cells
        return (f"{fault:<{widths[0]}}  {stage:<{widths[1]}}  {kind:<{widths[2]}}  "
                f"{finding:<{widths[3]}}  {took:>6}  {tried:>11}  {check}").rstrip()

    print(f"binance-diag demo --all: {len(faults)} simulated faults against the real probe "
          f"({timeouts.tls:g} s per stage, {concurrency} at a time)\n", file=out)
    print(line("fault", "failed stage", "error kind", "top finding", "time", "experiments",
               "check"), file=out)
    started = time.perf_counter()
    certs = CertificateAuthority()  # one CA for all: issuing certificates is the slow part
    rows: list[DemoRow] = []
    # Every scenario's CA file lives in `work`, removed on the way out even if Ctrl-C leaves
    # probes running in the pool.
    with tempfile.TemporaryDirectory(prefix="bdiag-demo-") as work, \
            ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="demo") as pool:
        for row in pool.map(lambda fault: probe_fault(fault, certs, timeouts, Path(work)),
                            faults):
            rows.append(row)
            took = "-" if row.not_staged else f"{row.seconds:.2f}s"
            tried = f"{row.experiments} +{row.experiments_ms / 1000:.2f}s" \
                if row.experiments else "-"
            print(line(row.fault.name, row.failed_stage, row.error_kind, row.top_finding,
                       took, tried, row.check), file=out, flush=True)
    elapsed = time.perf_counter() - started
    wrong = [row for row in rows if row.mismatch is not None]
    checked = len(rows) - sum(1 for row in rows if row.not_staged is not None)
    print(file=out)
    if wrong:
        named = "; ".join(f"{row.fault.name}: {row.mismatch}" for row in wrong)
        print(f"{len(wrong)} of {checked} faults NOT diagnosed as catalogued ({named}) "
              f"in {elapsed:.1f} s", file=out, flush=True)
        return ExitCode.CRITICAL
    print(f"all {checked} faults diagnosed as catalogued in {elapsed:.1f} s", file=out,
          flush=True)
    return ExitCode.OK


def check_all_arguments(fault: str | None, output_format: OutputFormat,
                        output: Path | None) -> None:
    """`--all` prints its own table: refuse options that cannot apply (exit 3)."""
    if fault is not None:
        raise ConfigError("--all runs every fault: drop --fault")
    if output_format is not OutputFormat.RICH or output is not None:
        raise ConfigError("--all prints a table: --format and --output do not apply")
