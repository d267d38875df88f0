"""Real-world paths against real loopback peers: the endpoint matrix, /etc/hosts pins, the
USD-M `/market` path, Binance's limits.

Every peer is the simulator on 127.0.0.1; host names reach it through `--resolve` or the
simulator's DNS server, never the system resolver.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from binance_diag.config.timeouts import Timeouts
from binance_diag.diagnose import diagnose_report
from binance_diag.diagnose.matrix import EndpointMatrix, build_matrix
from binance_diag.exitcodes import ExitCode, exit_code_for
from binance_diag.probe.runner import STAGES
from binance_diag.run.matrix import run_bounded
from binance_diag.simulate.certs import CertificateAuthority
from binance_diag.simulate.scenario import Scenario, start_fault
from binance_diag.simulate.server import ServerOptions
from tests.commands.helpers import run_cli
from tests.matrix_check import validated_matrix
from tests.probe.helpers import FAST, make_config, probe
from tests.utils import MS

GRACE = 0.5
CONNECT = 500 * MS
SHORT = replace(FAST, tcp=CONNECT)


def matrix_of(*scenarios: Scenario, timeouts: Timeouts = SHORT,
              endpoints: tuple[str, ...] = ()) -> EndpointMatrix:
    """Probe the scenarios (or `endpoints` reached through them) side by side, as the CLI."""
    first = scenarios[0]
    urls = endpoints or tuple(s.url_base for s in scenarios)
    resolve = [entry for s in scenarios for entry in s.resolve]
    configs = [make_config(url, resolve=resolve, resolvers=first.nameservers,
                           ca_bundle=first.ca_bundle, timeouts=timeouts) for url in urls]
    reports = run_bounded(configs)
    return build_matrix([diagnose_report(r) for r in reports])


@pytest.fixture
def healthy_and_filtered(certs: CertificateAuthority) -> Iterator[tuple[Scenario, Scenario]]:
    with start_fault("healthy", certs=certs) as good, \
            start_fault("tcp-blackhole", certs=certs) as filtered:
        yield good, filtered


@pytest.mark.timeout(10)
def test_filtered_port_beside_a_working_one_runs_concurrently(
        healthy_and_filtered: tuple[Scenario, Scenario], certs: CertificateAuthority) -> None:
    good, filtered = healthy_and_filtered
    with start_fault("tcp-blackhole", certs=certs) as also_filtered:
        start = time.perf_counter()
        matrix = matrix_of(filtered, good, also_filtered)
        took = time.perf_counter() - start
    # Two endpoints each waited the whole TCP budget, yet the run took one budget, not two.
    assert CONNECT <= took < CONNECT + GRACE
    verdict = matrix.verdict
    assert verdict.text == (f"ports {filtered.port}, {also_filtered.port} are filtered here; "
                            f"{good.url_base} works")
    assert verdict.exit_code is ExitCode.WARNING
    assert [r.works for r in matrix.rows] == [False, True, False]
    assert [c.text for c in matrix.rows[0].cells][1:] == ["timeout", "-", "-", "-"]
    assert good.server is not None and len(good.server.requests) == 1


def test_one_filtered_port_names_the_port_and_the_alternative(
        healthy_and_filtered: tuple[Scenario, Scenario]) -> None:
    good, filtered = healthy_and_filtered
    matrix = matrix_of(filtered, good)
    assert matrix.verdict.text == f"port {filtered.port} is filtered here; {good.url_base} works"


def test_every_endpoint_failing_at_dns_is_not_the_endpoint() -> None:
    with start_fault("dns-nxdomain") as scenario:
        matrix = matrix_of(scenario, endpoints=("wss://stream.binance.com:9443",
                                                "wss://stream.binance.com:443"))
    assert matrix.verdict.text == ("every endpoint fails at dns (nxdomain): "
                                   "the problem is not the endpoint")
    assert matrix.verdict.exit_code is ExitCode.CRITICAL


def test_missing_market_path_is_what_differs(certs: CertificateAuthority) -> None:
    options = ServerOptions(path_prefix="/market", futures=True)
    with start_fault("healthy", certs=certs, hostname="fstream.binance.com",
                     options=options) as usdm:
        bare = usdm.url_base.removesuffix("/market")
        matrix = matrix_of(usdm, endpoints=(usdm.url_base, bare))
    assert matrix.verdict.text == (f"the path / fails at ws_upgrade (HTTP 404); "
                                   f"{usdm.url_base} works")


def test_all_endpoints_work(certs: CertificateAuthority) -> None:
    with start_fault("healthy", certs=certs) as one, start_fault("healthy", certs=certs) as two:
        matrix = matrix_of(one, two)
    assert matrix.verdict.text == "all endpoints work"
    assert matrix.verdict.exit_code is ExitCode.OK


# --- the command line: every format, and the exit code policy --------------------------

def cli_matrix(good: Scenario, bad: Scenario, output_format: str) -> tuple[int, str]:
    assert good.ca_bundle is not None
    result = run_cli(
        "probe", "BTCUSDT", "--endpoint", bad.url_base, "--endpoint", good.url_base,
        "--resolve", bad.resolve[0], "--resolve", good.resolve[0],
        "--ca-bundle", str(good.ca_bundle), "--connect-timeout", "1",
        "--format", output_format,
    )
    assert result.stderr == "", result.stderr
    return result.returncode, result.stdout


@pytest.fixture(scope="module")
def healthy_and_refused() -> Iterator[tuple[Scenario, Scenario]]:
    certs = CertificateAuthority()
    with start_fault("healthy", certs=certs) as good, \
            start_fault("tcp-refused", certs=certs) as refused:
        yield good, refused


@pytest.mark.parametrize("output_format", ["rich", "markdown", "json", "junit", "nagios"])
def test_cli_matrix_in_every_format(healthy_and_refused: tuple[Scenario, Scenario],
                                    output_format: str) -> None:
    good, refused = healthy_and_refused
    code, out = cli_matrix(good, refused, output_format)
    verdict = f"port {refused.port} is refused here; {good.url_base} works"
    assert code == 1, out
    if output_format == "json":
        document = validated_matrix(out)
        assert document["verdict"] == verdict
        assert [e["works"] for e in document["endpoints"]] == [False, True]
    elif output_format == "junit":
        suites = ET.fromstring(out).findall("testsuite")
        assert [s.get("name") for s in suites] == [refused.url_base, good.url_base]
        assert [s.get("errors") for s in suites] == ["1", "0"]
    elif output_format == "nagios":
        assert out.startswith(f"BINANCE-DIAG WARNING: {verdict} | ")
    else:
        assert verdict in out
        assert "refused" in out


def test_cli_all_failing_exits_2_and_one_endpoint_stays_a_probe(tmp_path: Path) -> None:
    saved = tmp_path / "matrix.xml"
    with start_fault("tcp-refused", tls=False) as one, start_fault("tcp-refused", tls=False) as two:
        result = run_cli("probe", "BTCUSDT", "--endpoint", f"{one.url_base},{two.url_base}",
                         "--resolve", one.resolve[0], "--resolve", two.resolve[0],
                         "--format", "junit", "--output", str(saved))
        assert result.returncode == 2, result.stderr
        assert result.stdout == saved.read_text()  # stdout is no terminal: the same format
        assert len(ET.fromstring(result.stdout).findall("testsuite")) == 2
        result = run_cli("probe", "BTCUSDT", "--endpoint", f"{one.url_base},{two.url_base}",
                         "--resolve", one.resolve[0], "--resolve", two.resolve[0],
                         "--format", "json")
        assert result.returncode == 2, result.stderr
        assert validated_matrix(result.stdout)["verdict"] == (
            "every endpoint fails at tcp (refused): the problem is not the endpoint")
        single = run_cli("probe", "BTCUSDT", "--endpoint", f"{one.url_base},{one.url_base}",
                         "--resolve", one.resolve[0], "--format", "json")
    assert single.returncode == 2
    assert '"schema": "binance-diag/probe/1"' in single.stdout


# --- findings that need a real peer ----------------------------------------------------

@pytest.mark.parametrize(
    ("pinned_to", "finding", "code"),
    [("127.0.0.1", "dns.hosts_file_blackhole", ExitCode.CRITICAL),
     ("0.0.0.0", "dns.hosts_file_blackhole", ExitCode.CRITICAL),
     ("52.199.12.200", "dns.hosts_file_override", ExitCode.WARNING)],
)
def test_hosts_file_entry_for_the_binance_host(
        tmp_path: Path, certs: CertificateAuthority, pinned_to: str, finding: str,
        code: ExitCode) -> None:
    hosts = tmp_path / "hosts"
    hosts.write_text(f"127.0.0.1 localhost\n{pinned_to} stream.binance.com  # pinned\n")
    # The probe follows the pin, as getaddrinfo does: past DNS only when it is loopback,
    # since tests never connect anywhere else.
    stages = STAGES if pinned_to.startswith("127.") else STAGES[:1]
    with start_fault("healthy", certs=certs, dns=True) as scenario:
        config = make_config(scenario.url_base, resolvers=scenario.nameservers,
                             ca_bundle=scenario.ca_bundle)
        report = diagnose_report(probe(replace(config, hosts_file=hosts), stages))
    assert report.failed_stage is None
    dns = report.stages[0]
    assert dns.details["source"] == "hosts-file"
    assert dns.details["addresses"] == [pinned_to]
    assert dns.details["hosts_file"] == {"path": str(hosts), "addresses": [pinned_to]}
    assert dns.details["dns"]["addresses"] == ["127.0.0.1"]  # what DNS says, beside it
    assert finding in [f.id for f in report.findings]
    assert exit_code_for(report) is code
    if stages == STAGES:  # something local answered on the pinned address: not Binance
        assert report.findings[0].id == finding


def test_usdm_url_without_market_path_is_diagnosed(certs: CertificateAuthority) -> None:
    # Binance's old USD-M paths accept the connection and stay silent: a server that knows
    # no symbol plays exactly that.
    options = ServerOptions(futures=True, known_symbols=frozenset())
    with start_fault("healthy", certs=certs, hostname="fstream.binance.com",
                     options=options) as old_path:
        report = diagnose_report(probe(make_config(
            old_path.url_base, resolve=old_path.resolve, ca_bundle=old_path.ca_bundle,
            timeouts=replace(FAST, first_message=600 * MS))))
        assert old_path.server is not None
        sent, connections = old_path.server.client_messages, old_path.server.connections
    # Inside Binance's limits: one connection, one request (5 messages/s are allowed).
    assert len(connections) == 1
    assert [m for m in sent if "LIST_SUBSCRIPTIONS" in m] == list(sent) and len(sent) == 1
    failed = report.failed_stage
    assert failed is not None and (failed.name.value, failed.error and failed.error.kind.value) \
        == ("first_message", "timeout")
    assert report.findings[0].id == "message.futures_path_missing"
    assert exit_code_for(report) is ExitCode.CRITICAL


def test_more_than_1024_streams_is_refused_before_any_connection() -> None:
    symbols = [f"S{i:04d}" for i in range(1025)]
    result = run_cli("probe", *symbols, "--endpoint", "ws://127.0.0.1:9")
    assert result.returncode == 3
    assert result.stderr.strip() == ("binance-diag: error: 1025 streams: Binance allows at "
                                     "most 1024 per connection")


def test_too_wide_a_matrix_is_refused() -> None:
    endpoints = ",".join(f"ws://127.0.0.1:{port}" for port in range(1000, 1033))
    result = run_cli("probe", "BTCUSDT", "--endpoint", endpoints)
    assert result.returncode == 3
    assert "at most 32 are probed at once" in result.stderr
