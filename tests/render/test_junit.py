"""JUnit XML: well-formed, one testcase per stage, the right outcome counts."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from binance_diag.model import ErrorKind, StageName, Thresholds
from binance_diag.render.junit import JunitFormatter, render_junit
from tests.render.cases import CASES, mixed_matrix
from tests.reports import make_report

#                       tests, failures, errors, skipped
COUNTS = {
    "healthy": (5, 0, 0, 0),
    "tls_hang": (5, 0, 1, 2),
    "tcp_refused_local": (5, 0, 1, 3),
    "restricted_location": (5, 1, 0, 1),  # an answer that failed validation
    "silent_stream": (5, 0, 1, 0),
    "degraded": (5, 0, 0, 0),  # --warn is not a failure; --crit is
}


@pytest.mark.parametrize("case", list(CASES))
def test_counts_and_shape(case: str) -> None:
    root = ET.fromstring(render_junit(CASES[case]()))
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert len(suites) == 1
    suite = suites[0]
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == [
        "dns", "tcp", "tls", "ws_upgrade", "first_message"]
    counted = (len(cases), len(suite.findall("testcase/failure")),
               len(suite.findall("testcase/error")), len(suite.findall("testcase/skipped")))
    assert counted == COUNTS[case]
    for element in (root, suite):
        assert tuple(int(element.get(k, "-1")) for k in
                     ("tests", "failures", "errors", "skipped")) == COUNTS[case]


def test_error_carries_kind_message_and_diagnosis() -> None:
    suite = ET.fromstring(render_junit(CASES["tls_hang"]())).find("testsuite")
    assert suite is not None
    error = suite.find("testcase[@name='tls']/error")
    assert error is not None
    assert error.get("type") == "timeout"
    assert error.get("message") == "ClientHello sent; no ServerHello in 10.00 s"
    assert "tls.handshake_timeout (critical, blame: network)" in (error.text or "")
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["root_cause"] == "tls.handshake_timeout"
    assert props["addresses"] == "52.199.12.133, 54.178.2.114"


def test_crit_threshold_fails_the_testcase_and_warn_does_not() -> None:
    report = make_report(thresholds=Thresholds(warn={StageName.DNS: 10.0},
                                               crit={StageName.TLS: 50.0}))
    suite = ET.fromstring(render_junit(report)).find("testsuite")
    assert suite is not None
    failure = suite.find("testcase[@name='tls']/failure")
    assert failure is not None and failure.get("type") == "threshold"
    assert "over --crit tls=50" in (failure.get("message") or "")
    assert "warning" in (suite.findtext("testcase[@name='dns']/system-out") or "")
    assert suite.get("failures") == "1"


def test_control_characters_from_the_wire_stay_well_formed() -> None:
    report = make_report(fail=StageName.FIRST_MESSAGE, kind=ErrorKind.INVALID_PAYLOAD,
                         message="first message is not JSON: \x00\x1b[31m",
                         extra={"excerpt": "\x00\x01"})
    ET.fromstring(render_junit(report))


def test_matrix_has_one_testsuite_per_endpoint() -> None:
    root = ET.fromstring(JunitFormatter().format_matrix(mixed_matrix()))
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [
        "spot (wss://stream.binance.com:9443)", "spot-443 (wss://stream.binance.com:443)"]
    assert root.get("tests") == "10" and root.get("errors") == "1"
