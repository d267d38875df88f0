"""SIGINT and SIGTERM at random moments: exit 130/143, the partial report, never a traceback.

Every run probes a loopback simulator (`--resolve` / a loopback `--resolver`: no system DNS,
nothing off the machine) whose fault holds one stage open - DNS, TCP, TLS, the upgrade, the
first message - or a healthy stream held by `--duration`, and gets a signal after a random
delay: counted from the start of the process for half the runs (the signal mostly lands
while the CLI starts), from the moment the run is under way for the others (its first
socket, the event loop's, exists: the signal lands in a stage or the hold). Once the run is
under way, the report on stdout is required.

A signal that comes while the interpreter itself starts, before any binance-diag code runs,
gets CPython's own handling (a KeyboardInterrupt traceback from importlib, or death by
SIGTERM); such runs are recognised (no binance_diag frame, nothing on stdout), counted, and
must stay rare.

The random generator is seeded: a failing run is printed with its seed, index, scenario,
signal and delay, and `BINANCE_DIAG_SIGNAL_SEED` replays the same sequence.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from binance_diag.simulate.certs import CertificateAuthority
from binance_diag.simulate.scenario import Scenario, start_fault
from tests.schema_check import VALIDATOR
from tests.utils import MS

pytestmark = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(),
                                reason="tells a running probe by its sockets in /proc")

RUNS = 102
WORKERS = 4
MAX_DELAY = 1500 * MS
SEED = int(os.environ.get("BINANCE_DIAG_SIGNAL_SEED", "16"))
EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}
LAST_LINES = {signal.SIGINT: "binance-diag: interrupted",
              signal.SIGTERM: "binance-diag: terminated"}
NOISE = ("Traceback", "never retrieved", "Exception ignored", "was destroyed but it is pending")

# Scenario name -> (fault, start_fault options, extra probe arguments). Stage timeouts of 5 s
# outlast every delay: the signal always finds the run still going.
SCENARIOS: dict[str, tuple[str, dict[str, bool], tuple[str, ...]]] = {
    "dns": ("dns-timeout", {"tls": False}, ()),
    "tcp": ("tcp-blackhole", {}, ()),
    "tls": ("tls-hang", {}, ()),
    "ws_upgrade": ("upgrade-hang", {}, ()),
    "first_message": ("silent-stream", {}, ()),
    "hold": ("healthy", {}, ("--duration", "3")),
}


def cli_env() -> dict[str, str]:
    """No proxy variables (the probe goes direct) and no step summary."""
    return {k: v for k, v in os.environ.items()
            if "proxy" not in k.lower() and k != "GITHUB_STEP_SUMMARY"}


@dataclass(frozen=True)
class Plan:
    index: int
    scenario: str
    signum: signal.Signals
    delay: float
    from_start: bool
    """The delay counts from the process's start, else from the run being under way."""

    def __str__(self) -> str:
        anchor = "the start" if self.from_start else "the run's start"
        return (f"seed {SEED} run {self.index}: {self.scenario}, {self.signum.name} "
                f"{self.delay:.3f} s after {anchor}")


@dataclass(frozen=True)
class Run:
    plan: Plan
    code: int
    stdout: str
    stderr: str
    started: bool
    """The run was under way when the signal was sent: the process had a socket open."""
    took: float
    """Seconds from the signal to the exit."""


def plans(count: int, seed: int) -> list[Plan]:
    rng = random.Random(seed)
    names = sorted(SCENARIOS)
    return [Plan(i, rng.choice(names), rng.choice((signal.SIGINT, signal.SIGTERM)),
                 rng.uniform(0, MAX_DELAY), rng.random() < 0.5) for i in range(count)]


@contextmanager
def scenarios(certs: CertificateAuthority, workdir: Path) -> Iterator[dict[str, Scenario]]:
    """One of each scenario, for one worker."""
    with ExitStack() as stack:
        running: dict[str, Scenario] = {}
        for name, (fault, options, _) in SCENARIOS.items():
            try:
                running[name] = stack.enter_context(
                    start_fault(fault, certs=certs, workdir=workdir, **options))
            except RuntimeError:  # tcp-blackhole needs Linux's accept-queue behaviour
                continue
        yield running


def under_way(pid: int) -> bool:
    """The process has a socket open: its event loop exists (its self-pipe), so the run has
    begun and its signal handling is in place. Nothing opens a socket before that."""
    try:
        return any(os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
                   for fd in os.listdir(f"/proc/{pid}/fd"))
    except OSError:  # gone, or a descriptor closed while we looked
        return False


def wait_under_way(process: subprocess.Popen[str], timeout: float) -> None:
    """Until the run is under way, or `timeout` (a loaded machine: seconds of imports)."""
    deadline = time.monotonic() + timeout
    while not under_way(process.pid) and process.poll() is None \
            and time.monotonic() < deadline:
        time.sleep(5 * MS)


def probe_once(plan: Plan, scenario: Scenario) -> Run:
    _, _, extra = SCENARIOS[plan.scenario]
    process = subprocess.Popen(
        [sys.executable, "-m", "binance_diag", "probe", "BTCUSDT", *scenario.cli_args,
         "--timeout", "5", "--format", "json", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env())
    try:
        if not plan.from_start:
            wait_under_way(process, 60_000 * MS)
        time.sleep(plan.delay)
        started = under_way(process.pid)
        signalled = time.perf_counter()
        process.send_signal(plan.signum)
        out, err = process.communicate(timeout=15_000 * MS)
        took = time.perf_counter() - signalled
    finally:
        if process.poll() is None:
            process.kill()  # our own child, by its handle
            process.communicate()
    return Run(plan, process.returncode, out, err, started, took)


def before_our_code(run: Run) -> bool:
    """The signal came while the interpreter started, before binance-diag's code ran."""
    if run.stdout or not run.plan.from_start or "binance_diag" in run.stderr:
        return False
    if run.code == -run.plan.signum and not run.stderr:
        return True  # SIGTERM's default action: a shell says 143 too
    return run.stderr.rstrip().endswith("KeyboardInterrupt")


def problems(run: Run) -> list[str]:
    """What is wrong with one run; empty when it ended as promised."""
    found: list[str] = []
    signum = run.plan.signum
    if before_our_code(run):
        return []
    if run.code != EXIT_CODES[signum]:
        found.append(f"exit {run.code}, expected {EXIT_CODES[signum]}")
    found += [f"stderr has {word!r}" for word in NOISE if word in run.stderr]
    lines = run.stderr.strip().splitlines()
    if not lines or lines[-1] != LAST_LINES[signum]:
        found.append(f"stderr does not end with {LAST_LINES[signum]!r}")
    if run.stdout:
        try:
            VALIDATOR.validate(json.loads(run.stdout))
        except ValueError as exc:
            found.append(f"stdout is not a JSON report: {exc}")
        except Exception as exc:  # noqa: BLE001 - jsonschema's ValidationError
            found.append(f"the report breaks the schema: {str(exc).splitlines()[0]}")
    elif run.started:
        found.append("no report, though the run was under way")
    if not run.plan.from_start and not run.started:
        found.append("the run was never under way")
    if run.took > 10_000 * MS:  # generous: a loaded machine imports the renderers slowly
        found.append(f"{run.took:.2f} s from the signal to the exit")
    return found


@pytest.mark.timeout(900)  # ~60 s here; minutes on a loaded machine
def test_signals_at_random_moments_end_cleanly_with_the_partial_report(
        tmp_path: Path) -> None:
    certs = CertificateAuthority()
    todo = plans(RUNS, SEED)
    runs: list[Run] = []
    lock = threading.Lock()

    def worker(share: list[Plan]) -> None:
        with scenarios(certs, tmp_path) as running:
            for plan in share:
                if plan.scenario not in running:
                    continue
                run = probe_once(plan, running[plan.scenario])
                with lock:
                    runs.append(run)

    with ThreadPoolExecutor(WORKERS, thread_name_prefix="signals") as pool:
        for future in [pool.submit(worker, todo[i::WORKERS]) for i in range(WORKERS)]:
            future.result()

    failures = [(run, found) for run in sorted(runs, key=lambda r: r.plan.index)
                if (found := problems(run))]
    reports = sum(1 for run in runs if run.stdout)
    summary = (f"{len(failures)} of {len(runs)} runs failed ({reports} with a report)\n"
               + "\n".join(f"{run.plan}: {'; '.join(found)}\n    "
                           + "\n    ".join(run.stderr.strip().splitlines()[-6:])
                           for run, found in failures[:8]))
    assert not failures, summary
    assert len(runs) >= 100 or not sys.platform.startswith("linux"), len(runs)
    # At least the runs signalled once under way have their report.
    assert reports >= sum(1 for run in runs if not run.plan.from_start), summary
    early = sum(1 for run in runs if before_our_code(run))
    assert early <= len(runs) // 10, f"{early} signals landed before binance-diag's code"
