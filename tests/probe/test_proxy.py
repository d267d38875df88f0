"""The proxy stage through real loopback proxies (HTTP CONNECT and SOCKS5) to a fake Binance."""

from __future__ import annotations

import pytest

from binance_diag.model import StageName, StageStatus
from binance_diag.render.json import render_json
from binance_diag.simulate.certs import CertificateAuthority
from binance_diag.simulate.proxy_server import HttpConnectProxy, Socks5Proxy
from binance_diag.simulate.scenario import start_fault
from binance_diag.simulate.tcp import RefusingPort
from tests.probe.helpers import failure, make_config, probe

HOST = "stream.binance.com"


@pytest.mark.parametrize("kind", ["http", "socks5"])
def test_healthy_through_proxy_with_auth(certs: CertificateAuthority, kind: str) -> None:
    proxy_class = HttpConnectProxy if kind == "http" else Socks5Proxy
    with start_fault("healthy", certs=certs) as scenario, proxy_class(
        hosts={HOST: "127.0.0.1"}, username="alice", password="s3cret"
    ) as proxy:
        report = probe(make_config(scenario.url_base, ca_bundle=scenario.ca_bundle,
                                   proxy=proxy.url))
        assert proxy.requests == [f"{HOST}:{scenario.port}"]
    assert report.failed_stage is None
    statuses = {s.name: s.status for s in report.stages}
    assert statuses[StageName.PROXY] is StageStatus.OK
    assert statuses[StageName.DNS] is StageStatus.SKIPPED  # the proxy resolves the host
    assert statuses[StageName.TCP] is StageStatus.SKIPPED
    assert statuses[StageName.FIRST_MESSAGE] is StageStatus.OK
    text = render_json(report)
    assert "s3cret" not in text
    assert "***@" in text


@pytest.mark.parametrize("kind", ["http", "socks5"])
def test_missing_credentials_is_auth_required(kind: str) -> None:
    proxy_class = HttpConnectProxy if kind == "http" else Socks5Proxy
    with proxy_class(username="alice", password="s3cret") as proxy:
        url = proxy.url.replace("alice:s3cret@", "")
        report = probe(make_config(f"wss://{HOST}:9443", proxy=url))
    assert failure(report) == ("proxy", "auth_required")


@pytest.mark.parametrize("kind", ["http", "socks5"])
def test_wrong_password_is_auth_required(kind: str) -> None:
    proxy_class = HttpConnectProxy if kind == "http" else Socks5Proxy
    with proxy_class(username="alice", password="s3cret") as proxy:
        url = proxy.url.replace("s3cret", "wrong")
        report = probe(make_config(f"wss://{HOST}:9443", proxy=url))
    assert failure(report) == ("proxy", "auth_required")
    assert "wrong" not in render_json(report)


@pytest.mark.parametrize("kind", ["http", "socks5"])
def test_proxy_acl_refusal_is_rejected(kind: str) -> None:
    proxy_class = HttpConnectProxy if kind == "http" else Socks5Proxy
    with proxy_class() as proxy:  # no hosts table: stream.binance.com is not loopback
        report = probe(make_config(f"wss://{HOST}:9443", proxy=proxy.url))
    assert failure(report) == ("proxy", "rejected")


def test_proxy_down_is_refused() -> None:
    with RefusingPort() as closed:
        report = probe(make_config(f"wss://{HOST}:9443",
                                   proxy=f"http://127.0.0.1:{closed.port}"))
    assert failure(report) == ("proxy", "refused")


def test_stages_the_proxy_replaces_stay_not_applicable_when_it_fails() -> None:
    from binance_diag.render.nagios import render_nagios

    with RefusingPort() as closed:
        report = probe(make_config("wss://stream.binance.com:9443",
                                   proxy=f"http://127.0.0.1:{closed.port}"))
    assert failure(report) == ("proxy", "refused")
    for name in (StageName.DNS, StageName.TCP):
        skipped = report.stage(name)
        assert skipped is not None and skipped.status is StageStatus.SKIPPED
        assert str(skipped.details["reason"]).startswith("not applicable")
    perfdata = render_nagios(report).split(" | ", 1)[1]
    assert "'tcp'" not in perfdata and "'dns'" not in perfdata
