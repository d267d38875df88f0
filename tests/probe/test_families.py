"""Every address, both families, and `-4` / `-6`: the CLI against a real peer on ::1."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from binance_diag.simulate.dns_server import DnsServer
from binance_diag.simulate.scenario import Scenario, start_fault
from tests.simulate.running import report_of, run_cli, stages_of
from tests.utils import ipv6_loopback

HOST = "stream.binance.com"




pytestmark = [pytest.mark.timeout(60),
              pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 loopback here")]


@pytest.fixture(scope="module")
def v6_only() -> Iterator[tuple[Scenario, str]]:
    """A healthy fake Binance on ::1 only; DNS gives ::1 and 127.0.0.1 (nothing there)."""
    with start_fault("healthy", host="::1") as scenario, \
            DnsServer({HOST: ["::1", "127.0.0.1"]}) as dns:
        yield scenario, dns.nameserver


def _probe(setup: tuple[Scenario, str], *flags: str) -> tuple[int, dict[str, Any]]:
    scenario, nameserver = setup
    assert scenario.ca_bundle is not None
    result = run_cli("probe", "BTCUSDT", "--endpoint", f"wss://{HOST}:{scenario.port}/ws",
                     "--resolver", nameserver, "--ca-bundle", str(scenario.ca_bundle),
                     "--no-proxy", "--timeout", "3", "--format", "json", *flags)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, report_of(result)


def test_ipv6_works_where_ipv4_is_refused(v6_only: tuple[Scenario, str]) -> None:
    code, report = _probe(v6_only)
    tcp = stages_of(report)["tcp"]["details"]
    assert tcp["families"] == {"IPv6": "ok", "IPv4": "refused"}
    assert tcp["connected_to"].startswith(f"[::1]:{v6_only[0].port}")
    assert stages_of(report)["first_message"]["status"] == "ok"
    # The whole path works over IPv6; the broken family is a warning, not a failure.
    ids = [finding["id"] for finding in report["findings"]]
    assert "tcp.family_fallback" in ids and "dns.private_address" in ids
    assert report["status"] == "degraded" and code == 1


def test_dash_6_keeps_the_working_family_only(v6_only: tuple[Scenario, str]) -> None:
    code, report = _probe(v6_only, "-6")
    tcp = stages_of(report)["tcp"]["details"]
    assert {a["address"] for a in tcp["attempts"]} == {"::1"}
    assert stages_of(report)["first_message"]["status"] == "ok"
    # Only the loopback answer of our test DNS is left to warn about.
    ids = [finding["id"] for finding in report["findings"]]
    assert ids == ["dns.private_address", "probe.healthy"]
    assert report["status"] == "degraded" and code == 1


def test_dash_4_meets_the_refusal(v6_only: tuple[Scenario, str]) -> None:
    code, report = _probe(v6_only, "-4")
    tcp = stages_of(report)["tcp"]
    assert tcp["status"] == "failed" and tcp["error"]["kind"] == "refused"
    assert {a["address"] for a in tcp["details"]["attempts"]} == {"127.0.0.1"}
    assert code == 2


def test_dash_4_and_dash_6_together_are_refused() -> None:
    result = run_cli("probe", "BTCUSDT", "-4", "-6")
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr


def test_the_advice_checks_the_family_and_address_that_failed(
        v6_only: tuple[Scenario, str]) -> None:
    _, report = _probe(v6_only)
    (fallback,) = [f for f in report["findings"] if f["id"] == "tcp.family_fallback"]
    assert fallback["title"].startswith("IPv4 to stream.binance.com fails")
    assert any("`ip -4 route get 127.0.0.1` / `ping -4 127.0.0.1`" in a
               for a in fallback["actions"])


def test_a_family_filter_that_leaves_nothing_is_not_blamed_on_dns(
        v6_only: tuple[Scenario, str]) -> None:
    scenario, _ = v6_only
    assert scenario.ca_bundle is not None
    result = run_cli("probe", "BTCUSDT", "--endpoint", f"wss://{HOST}:{scenario.port}/ws",
                     "--resolve", f"{HOST}:{scenario.port}:::1", "--ca-bundle",
                     str(scenario.ca_bundle), "--no-proxy", "-4", "--format", "json")
    top = report_of(result)["findings"][0]
    assert top["id"] == "tcp.family_unavailable"
    assert top["title"] == f"{HOST} has no address of the family asked for"
