"""Through the CLI: each fault only an experiment can tell apart is diagnosed, confirmed.

`demo --fault X` stages the fault on loopback (--resolve pins, a loopback proxy) and runs
the real probe with its experiments; the JSON report must name the fault's catalogued
finding as the root cause, confirmed by experiment.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from binance_diag.simulate.faults import FAULTS

CONFIRMED = sorted(name for name, fault in FAULTS.items() if fault.confirmed)


def test_every_new_fault_is_listed() -> None:
    assert {"path-mtu-blackhole", "sni-filter", "sni-reset", "proxy-dead-tunnel",
            "http-403-filter", "http-403-location", "http-503-maintenance"} <= set(CONFIRMED)
    # A peer that fails every hello alike is not SNI filtering: the experiments show it.
    assert all(FAULTS[name].confirmed == "tls.blocked_whatever_name"
               for name in ("tls-hang", "tls-eof", "tls-reset-after-hello"))


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", CONFIRMED)
def test_demo_confirms_the_cause(name: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "binance_diag", "demo", "--fault", name, "--timeout", "1",
         "--format", "json"], capture_output=True, text=True, timeout=50, check=False)
    report = json.loads(done.stdout)
    top = report["findings"][0]
    assert top["id"] == FAULTS[name].confirmed, [f["id"] for f in report["findings"]]
    assert top["basis"] == "confirmed" and top["confirmed_by"]
    ran = {e["name"]: e for e in report["experiments"]}
    for experiment in top["confirmed_by"]:
        assert top["id"] in ran[experiment]["confirms"]
    # What an experiment ruled out is not drawn at all (tls-hang: tls.handshake_timeout).
    ruled_out = {rule for e in report["experiments"] for rule in e["rules_out"]}
    assert not ruled_out & {f["id"] for f in report["findings"]}, ruled_out
    assert done.returncode == 2
