"""What the report says worked: only what was measured (pure, from built reports)."""

from __future__ import annotations

from binance_diag.diagnose.facts import Facts
from binance_diag.model import ErrorKind, ProbeReport, StageName
from tests.reports import make_report

DNS, TCP = StageName.DNS, StageName.TCP


def test_worked_lists_the_passed_stages_before_the_subject() -> None:
    report = make_report(fail=StageName.WS_UPGRADE)
    facts = Facts(report)
    assert facts.worked(report.stage(StageName.WS_UPGRADE)) == "DNS, TCP and TLS all worked"
    assert facts.worked(report.stage(StageName.TLS)) == "DNS and TCP all worked"
    assert facts.worked(report.stage(TCP)) == "DNS worked"
    healthy = make_report()
    assert Facts(healthy).worked(None) == \
        "DNS, TCP, TLS, the upgrade and the first event all worked"


def test_an_address_given_by_resolve_is_not_a_dns_result() -> None:
    pinned = {DNS: {"source": "--resolve", "addresses": ["127.0.0.1"]}}
    report = make_report(fail=TCP, kind=ErrorKind.REFUSED, overrides=pinned)
    facts = Facts(report)
    assert facts.worked(report.stage(TCP)) == "`--resolve` gave the address"
    assert facts.previous_line(report.stage(TCP)) == [
        "`--resolve` gave `127.0.0.1` (no DNS query)"]
    healthy = Facts(make_report(overrides=pinned))
    assert healthy.worked(None) == ("TCP, TLS, the upgrade and the first event all worked "
                                    "(`--resolve` gave the address)")


def test_the_analysis_of_a_refusal_does_not_claim_dns_worked() -> None:
    pinned = {DNS: {"source": "--resolve", "addresses": ["127.0.0.1"]}}
    report = make_report(fail=TCP, kind=ErrorKind.REFUSED, overrides=pinned)
    assert not [line for line in report.analysis if "DNS worked" in line]
    assert any("(`--resolve` gave the address)" in line for line in report.analysis)


def _actions(report: ProbeReport) -> list[str]:
    return [str(action) for finding in report.findings for action in finding.actions]


def test_commands_to_reproduce_by_hand_use_the_pinned_address_and_the_ca_bundle() -> None:
    pinned = {DNS: {"source": "--resolve", "addresses": ["127.0.0.1"]},
              TCP: {"connected_to": "127.0.0.1:9443"},
              StageName.TLS: {"trust": "/tmp/my ca.pem"}}
    upgrade = make_report(fail=StageName.WS_UPGRADE, overrides=pinned)
    curl = [a for a in _actions(upgrade) if "curl -si" in a]
    assert curl and "--cacert '/tmp/my ca.pem' --resolve stream.binance.com:9443:127.0.0.1 " \
        in curl[0]
    assert "https://stream.binance.com:9443/ws/btcusdt@aggTrade" in curl[0]
    tls = make_report(fail=StageName.TLS, overrides={DNS: pinned[DNS], TCP: pinned[TCP]})
    s_client = [a for a in _actions(tls) if "openssl s_client" in a and "Reproduce" in a]
    assert s_client and "-connect 127.0.0.1:9443 -servername stream.binance.com " in s_client[0]


def test_commands_to_reproduce_by_hand_without_pins_use_the_name() -> None:
    tls = make_report(fail=StageName.TLS)
    s_client = [a for a in _actions(tls) if "openssl s_client" in a and "Reproduce" in a]
    assert s_client and "-connect stream.binance.com:9443 -servername stream.binance.com " \
        "-alpn" in s_client[0]
    upgrade = make_report(fail=StageName.WS_UPGRADE)
    curl = [a for a in _actions(upgrade) if "curl -si" in a]
    assert curl and "--resolve" not in curl[0] and "--cacert" not in curl[0]


def test_an_untrusted_certificate_with_a_ca_bundle_given_does_not_suggest_one() -> None:
    with_bundle = make_report(fail=StageName.TLS, kind=ErrorKind.CERT_UNTRUSTED,
                              details={"trust": "/etc/corp-ca.pem"})
    actions = _actions(with_bundle)
    assert any("The `--ca-bundle` given (/etc/corp-ca.pem) does not hold the CA" in a
               for a in actions)
    assert not [a for a in actions if "--ca-bundle ca.pem" in a or "corporate-ca.pem" in a]
    without = _actions(make_report(fail=StageName.TLS, kind=ErrorKind.CERT_UNTRUSTED))
    assert any("--ca-bundle" in a and "given" not in a for a in without)
    assert not [a for a in without if "does not hold the CA" in a]


def test_attach_keeps_the_options_the_run_had() -> None:
    command = ("binance-diag probe BTCUSDT --resolve stream.binance.com:9443:127.0.0.1 "
               "--format json --output r.json --timeout 2")
    report = make_report(fail=StageName.WS_UPGRADE, kind=ErrorKind.HTTP_STATUS,
                         extra={"status": 451}, command=command)
    attach = [a for a in _actions(report) if a.startswith("Attach this report")]
    assert attach == ["Attach this report to the incident: `binance-diag probe BTCUSDT "
                      "--resolve stream.binance.com:9443:127.0.0.1 --timeout 2 --format "
                      "markdown --output report.md`"]


PINNED_RUN = ("binance-diag probe BTCUSDT --endpoint wss://stream.binance.com:4444 "
              "--resolve stream.binance.com:4444:127.0.0.1 --ca-bundle=/tmp/ca.pem -6 "
              "--proxy http://127.0.0.1:3128 --message-timeout 1 --format json")


def test_advice_edits_the_run_it_came_from() -> None:
    from binance_diag.diagnose.facts import Rerun

    again = Rerun(PINNED_RUN, ("BTCUSDT",))
    kept = ("binance-diag probe BTCUSDT --endpoint wss://stream.binance.com:4444 --resolve "
            "stream.binance.com:4444:127.0.0.1 --ca-bundle=/tmp/ca.pem")
    assert f"{again}" == f"{kept} -6 --proxy http://127.0.0.1:3128 --message-timeout 1"
    assert f"{again:!-4 !-6}" == f"{kept} --proxy http://127.0.0.1:3128 --message-timeout 1"
    assert f"{again:--message-timeout 60}" == \
        f"{kept} -6 --proxy http://127.0.0.1:3128 --message-timeout 60"
    assert f"{again:--no-proxy}" == f"{kept} -6 --message-timeout 1 --no-proxy"
    assert f"{again:--ipv4}" == f"{kept} --proxy http://127.0.0.1:3128 --message-timeout 1 --ipv4"
    moved = f"{again:--resolve stream.binance.com:4444:127.0.0.2}"
    assert moved.count("--resolve") == 1 and moved.endswith("--resolve "
                                                             "stream.binance.com:4444:127.0.0.2")


def test_findings_keep_the_endpoint_and_pins_of_the_run() -> None:
    silent = make_report(fail=StageName.FIRST_MESSAGE, kind=ErrorKind.TIMEOUT,
                         extra={"missing": ["BTCUSDT"], "link_alive": True}, command=PINNED_RUN)
    longer = [a for a in _actions(silent) if "--message-timeout 60" in a]
    assert longer and "--endpoint wss://stream.binance.com:4444" in longer[0]
    assert "--resolve stream.binance.com:4444:127.0.0.1" in longer[0]
    assert "--message-timeout 1 " not in longer[0]


def test_a_407_with_credentials_says_they_were_rejected() -> None:
    def auth(url: str) -> list[str]:
        report = make_report(fail=StageName.PROXY, kind=ErrorKind.AUTH_REQUIRED, proxy=True,
                             details={"proxy": url})
        top = report.findings[0]
        assert top.id == "proxy.auth_required"
        return [top.title, top.hypothesis, *top.actions]

    given = auth("http://***@127.0.0.1:3128")
    assert given[0] == "The proxy rejected the credentials given"
    assert "rejected the credentials given in the proxy URL" in given[1]
    assert not [a for a in given if "Give credentials" in a]
    none = auth("http://127.0.0.1:3128")
    assert none[0] == "The proxy requires authentication"
    assert any("Give credentials in the URL" in a for a in none)


def test_one_time_per_stage_in_every_section() -> None:
    from binance_diag.render.view import report_view

    report = make_report(fail=StageName.TLS, overrides={TCP: {"connect_ms": 12.5}})
    view = report_view(report)
    assert any("in 12.5 ms" in line for line in view.working if line.startswith("TCP"))
    assert any(line.startswith("TCP connected to") and "in 12.5 ms" in line
               for line in report.analysis)


def test_a_healthy_pinned_run_shows_no_dns_time() -> None:
    pinned = {DNS: {"source": "--resolve", "addresses": ["127.0.0.1"]}}
    healthy = make_report(overrides=pinned).findings[0]
    assert healthy.id == "probe.healthy"
    assert not [line for line in healthy.evidence if line.startswith("DNS")]
    assert [line for line in healthy.evidence if line.startswith("TCP")]


def test_ipv6_literals_are_bracketed_in_commands_and_titles() -> None:
    report = make_report(endpoint="wss://[::1]:9443", fail=StageName.TLS, kind=ErrorKind.TIMEOUT,
                         extra={"bytes_received": 0}, details={"sni": None, "bytes_received": 0})
    top = report.findings[0]
    assert top.title.startswith("[::1]:9443 ")
    assert any("-connect [::1]:9443 -noservername" in a for a in top.actions)


def test_rerun_commands_ask_for_the_masked_password() -> None:
    from binance_diag.diagnose.facts import Rerun, markdown_command

    command = "binance-diag probe BTCUSDT --proxy 'http://***@127.0.0.1:3128'"
    again = Rerun(command, ("BTCUSDT",))
    assert "http://USER:PASSWORD@127.0.0.1:3128" in f"{again:--message-timeout 60}"
    assert "PASSWORD@" in markdown_command(command) and "***" not in markdown_command(command)


def test_only_certifi_itself_counts_as_certifi() -> None:
    from binance_diag.diagnose.facts import is_certifi

    assert is_certifi("certifi 2026.10.19")
    assert not is_certifi("certifi-corp.pem") and not is_certifi("/etc/certifi/ca.pem")


def test_curl_goes_the_way_the_probe_went() -> None:
    from dataclasses import replace

    from binance_diag.diagnose import diagnose_report

    def curl(environment: dict[str, object]) -> str:
        report = make_report(fail=StageName.WS_UPGRADE)
        report = diagnose_report(replace(report, environment=environment))
        (line,) = [a for a in _actions(report) if "curl -si" in a]
        return line

    assert "-x http://USER:PASSWORD@127.0.0.1:3128 " in curl(
        {"proxy": "http://***@127.0.0.1:3128", "proxy_reason": "--proxy"})
    assert "--noproxy '*' " in curl(
        {"proxy": None, "proxy_environment": {"HTTPS_PROXY": "http://127.0.0.1:3128"}})
    plain = curl({})
    assert "-x " not in plain and "--noproxy" not in plain
