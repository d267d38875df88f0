"""`binance-diag simulate` and `demo` (commands/simulate.py), run as a user runs them; every
peer listens on loopback and every probe goes there."""

from __future__ import annotations

import json

import pytest

from binance_diag.simulate.faults import FAULTS
from tests.commands.helpers import assert_one_error_line, run_cli
from tests.simulate.running import simulator


@pytest.mark.timeout(30)
def test_list_names_every_fault() -> None:
    result = run_cli("simulate", "--list")
    assert result.returncode == 0, result.stderr
    listed = {line.split()[0] for line in result.stdout.splitlines() if line.strip()}
    assert set(FAULTS) <= listed
    assert result.stderr == ""
    noted = run_cli("simulate", "--list", "--fault", "tls-hang")
    assert noted.stdout == result.stdout
    assert noted.stderr == "binance-diag: note: --fault is ignored with --list\n"


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("args", "message"),
    [(["simulate"], "simulate needs --fault NAME (or --list to see them)"),
     (["simulate", "--fault", " "], "--fault is empty: name a fault"),
     (["demo", "--fault", ""], "--fault is empty: name a fault")],
)
def test_a_missing_or_empty_fault_is_refused(args: list[str], message: str) -> None:
    assert_one_error_line(run_cli(*args), message)


@pytest.mark.timeout(30)
def test_simulate_serves_the_fault_its_probe_line_reaches() -> None:
    with simulator("--fault", "http-403", "--no-tls") as sim:
        result = sim.run_probe("--format", "json", "--timeout", "2")
    assert result.returncode == 2, result.stderr
    document = json.loads(result.stdout)
    assert document["failed_stage"] == "ws_upgrade"
    assert document["target"]["url"].startswith("ws://")


@pytest.mark.timeout(30)
def test_demo_probes_the_named_fault_offline() -> None:
    result = run_cli("demo", "--fault", "tcp-refused", "--format", "json", "--timeout", "1")
    assert result.returncode == 2, result.stderr
    document = json.loads(result.stdout)
    assert document["failed_stage"] == "tcp"
    tcp = next(s for s in document["stages"] if s["name"] == "tcp")
    assert tcp["error"]["kind"] == "refused"
