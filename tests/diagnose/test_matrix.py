"""The endpoint matrix without I/O: `--endpoint` parsing and the verdict rules (each format's
rendering of it is tested beside that format, in tests/render/)."""

from __future__ import annotations

import pytest

from binance_diag.config.endpoints import ENDPOINTS, parse_endpoints
from binance_diag.config.errors import ConfigError
from binance_diag.diagnose.matrix import base_url, build_matrix, label, path_prefix
from binance_diag.exitcodes import ExitCode
from binance_diag.model import ErrorKind, OverallStatus, ProbeReport, StageName
from tests.reports import make_report

TCP, DNS, UPGRADE = StageName.TCP, StageName.DNS, StageName.WS_UPGRADE


def ok(endpoint: str) -> ProbeReport:
    return make_report(endpoint=endpoint)


def failing(endpoint: str, stage: StageName, kind: ErrorKind = ErrorKind.TIMEOUT
            ) -> ProbeReport:
    return make_report(endpoint=endpoint, fail=stage, kind=kind)


def test_all_expands_to_every_preset_in_order() -> None:
    assert parse_endpoints(["all"]) == tuple(ENDPOINTS)


def test_endpoints_split_on_commas_and_repeats_without_duplicates() -> None:
    url = "wss://stream.binance.com:443"
    assert parse_endpoints(["spot, usdm", url, "spot"]) == ("spot", "usdm", url)
    assert parse_endpoints(["all,spot"]) == tuple(ENDPOINTS)


@pytest.mark.parametrize("values", [[""], [","], ["spot,http://x"], ["nosuchpreset"]])
def test_bad_endpoint_lists(values: list[str]) -> None:
    with pytest.raises(ConfigError):
        parse_endpoints(values)


def test_base_url_spells_the_port_and_keeps_the_path_prefix() -> None:
    usdm = ok("usdm").target
    assert base_url(usdm) == "wss://fstream.binance.com:443/market"
    assert path_prefix(usdm) == "/market"
    assert label(usdm) == "usdm"
    custom = make_report(endpoint="ws://127.0.0.1:8080", symbols=("BTCUSDT", "ETHUSDT")).target
    assert base_url(custom) == label(custom) == "ws://127.0.0.1:8080"


def test_filtered_port_with_a_working_alternative_on_the_same_host() -> None:
    matrix = build_matrix([failing("spot", TCP), ok("spot-443"), ok("data-stream"),
                           failing("us", TCP)])
    verdict = matrix.verdict
    assert verdict.text == ("port 9443 is filtered here (spot, us); "
                            "wss://stream.binance.com:443 works")
    assert verdict.exit_code is ExitCode.WARNING
    assert verdict.status is OverallStatus.DEGRADED
    assert verdict.working == ("spot-443", "data-stream")
    assert verdict.failing == ("spot", "us")


def test_dns_failure_is_blamed_on_the_host_never_the_port() -> None:
    matrix = build_matrix([ok("spot-443"), failing("data-stream", DNS, ErrorKind.NXDOMAIN)])
    assert matrix.verdict.text == ("data-stream.binance.vision does not resolve (nxdomain) "
                                   "(data-stream); wss://stream.binance.com:443 works")


def test_path_difference_explains_an_upgrade_failure() -> None:
    matrix = build_matrix([ok("wss://fstream.binance.com/market"),
                           failing("wss://fstream.binance.com", UPGRADE, ErrorKind.HTTP_STATUS)])
    assert matrix.verdict.text == ("the path / fails at ws_upgrade (http_status); "
                                   "wss://fstream.binance.com:443/market works")


def test_two_failure_groups_are_explained_separately() -> None:
    matrix = build_matrix([failing("spot", TCP), ok("spot-443"),
                           failing("testnet", DNS, ErrorKind.NXDOMAIN)])
    assert matrix.verdict.text == (
        "port 9443 is filtered here (spot); stream.testnet.binance.vision does not resolve "
        "(nxdomain) (testnet); wss://stream.binance.com:443 works")


def test_nothing_distinguishes_the_failing_endpoint() -> None:
    matrix = build_matrix([ok("spot"), failing("wss://stream.binance.com:9443/x", UPGRADE,
                                               ErrorKind.HTTP_STATUS)])
    # Same host and port; the path differs but "/x" vs "/" is what the rule names.
    assert matrix.verdict.text.startswith("the path /x fails at ws_upgrade")
    same = build_matrix([ok("spot-443"), failing("spot", StageName.TLS,
                                                 ErrorKind.HANDSHAKE_FAILURE),
                         ok("spot-443")])
    assert same.verdict.text.startswith("port 9443 fails at tls (handshake_failure)")


def test_every_endpoint_failing_the_same_way_is_not_the_endpoint() -> None:
    matrix = build_matrix([failing(name, DNS, ErrorKind.TIMEOUT) for name in ENDPOINTS])
    assert matrix.verdict.text == ("every endpoint fails at dns (timeout): "
                                   "the problem is not the endpoint")
    assert matrix.verdict.exit_code is ExitCode.CRITICAL
    assert matrix.verdict.status is OverallStatus.FAILED


def test_every_endpoint_failing_differently() -> None:
    matrix = build_matrix([failing("spot", TCP), failing("usdm", DNS, ErrorKind.NXDOMAIN)])
    assert matrix.verdict.text == ("no endpoint works: spot is filtered here; "
                                   "usdm does not resolve (nxdomain)")
    assert matrix.verdict.exit_code is ExitCode.CRITICAL


def test_all_endpoints_work() -> None:
    matrix = build_matrix([ok("spot"), ok("spot-443")])
    assert matrix.verdict.text == "all endpoints work"
    assert matrix.verdict.exit_code is ExitCode.OK
    assert [c.text for c in matrix.rows[0].cells] == ["23.4", "41.2", "88.6", "45.3", "153"]


def test_a_warning_on_a_working_endpoint_is_exit_1() -> None:
    slow = make_report(endpoint="spot", durations={StageName.TLS: 2600.0})
    matrix = build_matrix([slow, ok("spot-443")])
    assert matrix.verdict.exit_code is ExitCode.WARNING, slow.findings[0]
    assert matrix.verdict.text == "all endpoints work, with warnings for spot"


def test_cells_show_error_kind_skipped_and_not_applicable() -> None:
    matrix = build_matrix([failing("spot", TCP, ErrorKind.REFUSED),
                           make_report(endpoint="ws://127.0.0.1:8080")])
    assert [c.text for c in matrix.rows[0].cells] == ["23.4", "refused", "-", "-", "-"]
    assert matrix.rows[1].cells[2].text == "n/a"
    assert matrix.verdict.text == "port 9443 is refused here (spot); ws://127.0.0.1:8080 works"


def test_a_port_does_not_explain_an_http_refusal() -> None:
    # spot (9443) answers 451 while spot-443 works: the port differs, but a port cannot
    # make Binance answer 451, so the endpoint is named with the status it got.
    refused = make_report(endpoint="spot", fail=UPGRADE, kind=ErrorKind.HTTP_STATUS,
                          extra={"status": 451})
    matrix = build_matrix([refused, ok("spot-443")])
    assert matrix.verdict.text == ("spot fails at ws_upgrade (HTTP 451); "
                                   "wss://stream.binance.com:443 works")
    assert [c.text for c in matrix.rows[0].cells if c.stage is UPGRADE] == ["HTTP 451"]


def test_a_pinned_address_is_not_shown_as_a_dns_time() -> None:
    pinned = make_report(endpoint="spot",
                         overrides={StageName.DNS: {"source": "--resolve"}})
    matrix = build_matrix([pinned, ok("spot-443")])
    dns = [c for c in matrix.rows[0].cells if c.stage is StageName.DNS][0]
    assert dns.text == "pinned" and dns.duration_ms is None
    assert [c for c in matrix.rows[1].cells if c.stage is StageName.DNS][0].duration_ms


def test_different_refusals_are_not_one_group() -> None:
    refusals = [make_report(endpoint="spot", fail=UPGRADE, kind=ErrorKind.HTTP_STATUS,
                            extra={"status": 451}),
                make_report(endpoint="spot-443", fail=UPGRADE, kind=ErrorKind.HTTP_STATUS,
                            extra={"status": 403})]
    text = build_matrix(refusals).verdict.text
    assert "HTTP 451" in text and "HTTP 403" in text
    assert "the problem is not the endpoint" not in text
    same = [make_report(endpoint=e, fail=UPGRADE, kind=ErrorKind.HTTP_STATUS,
                        extra={"status": 451}) for e in ("spot", "spot-443")]
    assert build_matrix(same).verdict.text == (
        "every endpoint fails at ws_upgrade (HTTP 451): the problem is not the endpoint")
