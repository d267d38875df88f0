"""The dns stage against a real DNS server on a loopback UDP port."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from binance_diag.config.probe import ProbeConfig
from binance_diag.config.timeouts import Timeouts
from binance_diag.model import StageName, StageStatus
from binance_diag.probe.budget import SUPERVISION_MARGIN
from binance_diag.probe.dns import hosts_file_entries
from binance_diag.simulate.dns_server import DnsMode, DnsServer
from binance_diag.simulate.tcp import RefusingPort
from tests.probe.helpers import FAST, failure, make_config, probe, stage
from tests.utils import MS

HOST = "stream.binance.com"


def test_answers_are_recorded_and_used() -> None:
    with RefusingPort() as closed, DnsServer({HOST: ["127.0.0.1", "::1"]}, ttl=42,
                                             cnames={"alias.binance.com": HOST}) as server:
        report = probe(make_config(f"wss://alias.binance.com:{closed.port}",
                                   resolvers=[server.nameserver]))
    dns = stage(report, StageName.DNS)
    assert dns.status is StageStatus.OK
    assert set(dns.details["addresses"]) == {"127.0.0.1", "::1"}
    assert {a["ttl"] for a in dns.details["answers"]} == {42}
    assert dns.details["cname_chain"] == [HOST]
    assert dns.details["resolver"] == server.nameserver
    assert {q.rdtype for q in server.questions} == {"A", "AAAA"}
    # DNS worked; the next stage met the refusing port on every address.
    assert failure(report) == ("tcp", "refused")
    assert len(stage(report, StageName.TCP).details["attempts"]) == 2


@pytest.mark.parametrize(
    ("mode", "kind"),
    [(DnsMode.NXDOMAIN, "nxdomain"), (DnsMode.SERVFAIL, "servfail"),
     (DnsMode.REFUSED, "refused")],
)
def test_error_rcodes(mode: DnsMode, kind: str) -> None:
    with DnsServer({HOST: ["127.0.0.1"]}, mode=mode) as server:
        report = probe(make_config(f"wss://{HOST}:9443", resolvers=[server.nameserver]))
    assert failure(report) == ("dns", kind)
    assert [s.status for s in report.stages[1:]] == [StageStatus.SKIPPED] * 4


def test_no_answer_when_name_has_no_address() -> None:
    with DnsServer({HOST: ["127.0.0.1"], "empty.binance.com": []}) as server:
        report = probe(make_config("wss://empty.binance.com", resolvers=[server.nameserver]))
    assert failure(report) == ("dns", "no_answer")


@pytest.mark.timeout(10)
def test_silent_server_times_out_on_the_stage_deadline() -> None:
    budget = 400 * MS
    with DnsServer({HOST: ["127.0.0.1"]}, mode=DnsMode.SILENT) as server:
        start = time.perf_counter()
        report = probe(make_config(f"wss://{HOST}", resolvers=[server.nameserver],
                                   timeouts=Timeouts(dns=budget)))
        took = time.perf_counter() - start
    assert failure(report) == ("dns", "timeout")
    assert server.query_count >= 2
    assert budget <= took < budget + 300 * MS
    duration = stage(report, StageName.DNS).duration_ms
    assert duration is not None and duration >= budget * 1000


def test_resolve_override_skips_dns() -> None:
    with RefusingPort() as closed:
        report = probe(make_config(f"wss://{HOST}:{closed.port}",
                                   resolve=[f"{HOST}:{closed.port}:127.0.0.1"], timeouts=FAST))
    dns = stage(report, StageName.DNS)
    assert dns.details["source"] == "--resolve"
    assert dns.details["addresses"] == ["127.0.0.1"]
    assert failure(report) == ("tcp", "refused")


def test_hosts_file_entries(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost\n# 1.2.3.4 stream.binance.com\n"
                     "127.0.0.2 api.binance.com Stream.Binance.com  # pinned\n")
    assert hosts_file_entries(HOST, hosts) == ["127.0.0.2"]
    assert hosts_file_entries("example.org", hosts) == []
    assert hosts_file_entries(HOST, tmp_path / "missing") == []


def test_every_address_is_tried_and_families_compared() -> None:
    from binance_diag.simulate.scenario import start_fault

    with start_fault("healthy", dns=True) as scenario:
        assert scenario.dns is not None
        with DnsServer({HOST: ["::1", "127.0.0.1"]}) as both:  # nothing listens on ::1
            report = probe(make_config(scenario.url_base, resolvers=[both.nameserver],
                                       ca_bundle=scenario.ca_bundle))
    assert report.failed_stage is None
    tcp = stage(report, StageName.TCP)
    assert tcp.details["families"] == {"IPv6": "refused", "IPv4": "ok"}
    assert tcp.details["connected_to"].startswith("127.0.0.1:")
    assert {a["address"] for a in tcp.details["attempts"]} == {"::1", "127.0.0.1"}


def test_family_filter_without_matching_address() -> None:
    from dataclasses import replace

    with RefusingPort() as closed:
        config = make_config(f"wss://{HOST}:{closed.port}",
                             resolve=[f"{HOST}:{closed.port}:127.0.0.1"])
        report = probe(replace(config, families=(6,)))
    assert failure(report) == ("tcp", "unreachable")
    assert "no IPv6 address" in str(report.failed_stage.error.message)  # type: ignore[union-attr]


def test_compare_resolvers_flags_a_poisoned_answer() -> None:
    from dataclasses import replace

    from binance_diag.config.hosts import parse_nameserver

    with RefusingPort() as closed, DnsServer({HOST: ["127.0.0.1"]}) as main, \
            DnsServer({HOST: ["0.0.0.0"]}) as poisoned, \
            DnsServer({HOST: ["127.0.0.1"]}, mode=DnsMode.NXDOMAIN) as broken:
        config = make_config(f"wss://{HOST}:{closed.port}", resolvers=[main.nameserver])
        config = replace(config, compare_resolvers=(
            parse_nameserver(poisoned.nameserver), parse_nameserver(broken.nameserver)))
        report = probe(config)
        assert poisoned.query_count >= 1 and broken.query_count >= 1
    comparison = stage(report, StageName.DNS).details["comparison"]
    assert comparison["answers"] == {main.nameserver: ["127.0.0.1"],
                                     poisoned.nameserver: ["0.0.0.0"],
                                     broken.nameserver: None}
    notes = comparison["notes"]
    assert f"{poisoned.nameserver} answers 0.0.0.0 (unspecified): not a public address" in notes
    assert f"{broken.nameserver} gave no answer (nxdomain)" in notes
    assert stage(report, StageName.DNS).details["suspicious_addresses"] == {
        "127.0.0.1": "loopback"}


def _with_compare(config: ProbeConfig, *nameservers: str) -> ProbeConfig:
    from dataclasses import replace

    from binance_diag.config.hosts import parse_nameserver

    return replace(config, compare_resolvers=tuple(parse_nameserver(n) for n in nameservers))


@pytest.mark.timeout(10)
def test_dead_comparison_resolver_neither_fails_nor_stretches_the_stage() -> None:
    from binance_diag.diagnose import diagnose_report
    from binance_diag.exitcodes import ExitCode, exit_code_for
    from binance_diag.probe.dns import COMPARISON_WAIT
    from binance_diag.simulate.scenario import start_fault

    # Not a Binance name: its loopback answer is no finding of its own.
    with start_fault("healthy", tls=False, dns=True, hostname="feed.example.test") as scenario, \
            DnsServer({HOST: ["127.0.0.1"]}, mode=DnsMode.SILENT) as dead:
        config = _with_compare(make_config(scenario.url_base, resolvers=scenario.nameservers),
                               dead.nameserver)
        report = diagnose_report(probe(config))
        assert dead.query_count >= 1
    assert report.failed_stage is None
    dns = stage(report, StageName.DNS)
    assert dns.details["addresses"] == ["127.0.0.1"]
    # The main answer decides; the dead comparison gets a bounded wait after it, no more.
    assert dns.duration_ms is not None
    assert dns.duration_ms < (COMPARISON_WAIT + 150 * MS) * 1000 < FAST.dns * 1000
    comparison = dns.details["comparison"]
    assert comparison["answers"][dead.nameserver] is None
    assert comparison["results"][dead.nameserver] == "timeout"
    assert comparison["unreachable"] == [dead.nameserver]
    # Silence is no disagreement (the notes flag only the loopback answer, as for any host).
    assert not [note for note in comparison["notes"] if dead.nameserver in note]
    findings = {f.id: f for f in report.findings}
    assert dead.nameserver in findings["dns.compare_resolver_unreachable"].title
    assert exit_code_for(report) is ExitCode.WARNING


@pytest.mark.timeout(10)
def test_comparison_answers_still_count_when_they_come_in_time() -> None:
    with RefusingPort() as closed, \
            DnsServer({HOST: ["127.0.0.1"]}, mode=DnsMode.SILENT) as dead_main, \
            DnsServer({HOST: ["127.0.0.1"]}) as public:
        # The main resolver is the dead one: the comparison had the whole budget to answer.
        config = _with_compare(make_config(f"wss://{HOST}:{closed.port}",
                                           resolvers=[dead_main.nameserver],
                                           timeouts=Timeouts(dns=300 * MS)), public.nameserver)
        report = probe(config)
    assert failure(report) == ("dns", "timeout")
    comparison = stage(report, StageName.DNS).details["comparison"]
    assert comparison["answers"] == {dead_main.nameserver: None,
                                     public.nameserver: ["127.0.0.1"]}
    assert comparison["results"] == {dead_main.nameserver: "timeout", public.nameserver: "ok"}


@pytest.mark.timeout(10)
def test_resolver_timeout_is_reported_by_the_stage_not_the_supervisor() -> None:
    budget = 300 * MS
    with DnsServer({HOST: ["127.0.0.1"]}, mode=DnsMode.SILENT) as server:
        report = probe(make_config(f"wss://{HOST}", resolvers=[server.nameserver],
                                   timeouts=Timeouts(dns=budget)))
    dns = stage(report, StageName.DNS)
    assert dns.error is not None and dns.error.kind.value == "timeout"
    assert "stage cancelled" not in dns.error.message
    assert server.nameserver in dns.error.message
    assert dns.details["resolver"] == server.nameserver
    assert [q["result"] for q in dns.details["queries"]] == ["timeout", "timeout"]
    assert dns.duration_ms is not None
    assert budget * 1000 <= dns.duration_ms < (budget + SUPERVISION_MARGIN + 150 * MS) * 1000


@pytest.mark.timeout(10)
def test_hosts_file_answers_like_getaddrinfo(tmp_path: Path) -> None:
    from dataclasses import replace

    from binance_diag.simulate.scenario import start_fault

    hosts = tmp_path / "hosts"
    hosts.write_text("# comment\n127.0.0.1 localhost\n")
    with start_fault("healthy", tls=False, dns=True) as scenario:
        # The simulator's DNS server knows the Binance names only: localhost is NXDOMAIN
        # there, as it is for dnspython everywhere (it never reads /etc/hosts).
        config = make_config(f"ws://localhost:{scenario.port}", resolvers=scenario.nameservers)
        report = probe(replace(config, hosts_file=hosts))
        assert scenario.server is not None and len(scenario.server.requests) == 1
    assert report.failed_stage is None, report.failed_stage
    dns = stage(report, StageName.DNS)
    assert dns.details["source"] == "hosts-file"
    assert dns.details["addresses"] == ["127.0.0.1"]
    assert dns.details["hosts_file"] == {"path": str(hosts), "addresses": ["127.0.0.1"]}
    # What DNS says is kept beside it, for comparison.
    assert dns.details["dns"]["result"] == "nxdomain"
    assert dns.details["dns"]["addresses"] is None
    assert stage(report, StageName.TCP).details["connected_to"] == f"127.0.0.1:{scenario.port}"


@pytest.mark.timeout(10)
def test_a_resolver_that_denies_the_name_is_diagnosed_as_disagreement() -> None:
    from binance_diag.diagnose import diagnose_report
    from binance_diag.simulate.scenario import start_fault

    name = "feed.example.test"  # not a Binance name: its loopback answer is no finding
    with start_fault("healthy", tls=False, dns=True, hostname=name) as scenario, \
            DnsServer({name: ["127.0.0.1"]}, mode=DnsMode.NXDOMAIN) as denying:
        config = _with_compare(make_config(scenario.url_base, resolvers=scenario.nameservers),
                               denying.nameserver)
        report = diagnose_report(probe(config))
    assert report.failed_stage is None
    notes = stage(report, StageName.DNS).details["comparison"]["notes"]
    assert f"{denying.nameserver} gave no answer (nxdomain)" in notes
    findings = {f.id: f for f in report.findings}
    assert findings["dns.resolvers_disagree"].title == f"Resolvers disagree about {name}"
    assert report.findings[0].id == "dns.resolvers_disagree"


@pytest.mark.timeout(30)
@pytest.mark.parametrize("pinned", [True, False])
def test_dnspython_is_loaded_only_by_runs_that_ask_dns(pinned: bool) -> None:
    """~50 ms of start-up that a --resolve pin or an IP endpoint never needs."""
    import json
    import os
    import subprocess
    import sys

    from binance_diag.simulate.scenario import start_fault

    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    with start_fault("healthy", dns=not pinned) as scenario:
        run = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "binance_diag", "probe", "BTCUSDT",
             *scenario.cli_args, "--format", "json"],
            capture_output=True, text=True, env=env, timeout=20000 * MS, check=False)
    assert json.loads(run.stdout)["status"] != "failed", run.stdout
    resolver_stack = [line for line in run.stderr.splitlines()
                      if line.rstrip().endswith(("| dns.resolver", "| dns.asyncresolver"))]
    assert bool(resolver_stack) is not pinned, resolver_stack
