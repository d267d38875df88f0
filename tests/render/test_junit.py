"""JUnit XML: valid against the Jenkins/Ant schema, one testcase per stage, the right outcome
counts, a classname per endpoint that Jenkins does not split, the machine that ran it."""

from __future__ import annotations

import platform
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from binance_diag.diagnose.matrix import build_matrix
from binance_diag.model import ErrorKind, StageName, Thresholds
from binance_diag.render.junit import JunitFormatter, classname, render_junit
from tests.render.cases import CASES, failed_matrix, mixed_matrix
from tests.reports import make_report

SCHEMA = Path(__file__).parent / "jenkins-junit.xsd"

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
    assert tuple(int(suite.get(k, "-1")) for k in
                 ("tests", "failures", "errors", "skipped")) == COUNTS[case]
    assert tuple(int(root.get(k, "-1")) for k in ("tests", "failures", "errors")) == \
        COUNTS[case][:3]
    assert root.get("skipped") is None  # not in the schema's <testsuites>


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
    assert props["dns.addresses"] == "52.199.12.133, 54.178.2.114"
    assert props["tls.timeout_s"] == "10"
    assert not suite.findall("testcase/properties")


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


def test_skipped_reason_is_the_elements_text() -> None:
    suite = ET.fromstring(render_junit(CASES["tls_hang"]())).find("testsuite")
    assert suite is not None
    skipped = suite.find("testcase[@name='ws_upgrade']/skipped")
    assert skipped is not None and skipped.attrib == {}
    assert skipped.text == "an earlier stage failed"


def test_each_testcase_says_what_its_stage_did() -> None:
    suite = ET.fromstring(render_junit(CASES["healthy"]())).find("testsuite")
    assert suite is not None
    assert (suite.findtext("testcase[@name='tcp']/system-out") or "").startswith(
        "TCP: connected to 52.199.12.133:9443 in 41.2 ms")


@pytest.mark.parametrize(("endpoint", "expected"), [
    ("spot", "binance_diag.spot"),
    ("spot-443", "binance_diag.spot_443"),
    ("data-stream", "binance_diag.data_stream"),
    ("ws://127.0.0.1:35695", "binance_diag.ws_127_0_0_1_35695"),
])
def test_classname_is_one_package_and_one_class_per_endpoint(endpoint: str,
                                                             expected: str) -> None:
    report = make_report(endpoint=endpoint)
    assert classname(report) == expected
    root = ET.fromstring(render_junit(report))
    names = {c.get("classname") for c in root.iter("testcase")}
    assert names == {expected}
    package, _, cls = expected.rpartition(".")  # how Jenkins reads it
    assert package == "binance_diag" and "." not in cls


def test_matrix_classnames_are_unique_per_endpoint() -> None:
    root = ET.fromstring(JunitFormatter().format_matrix(mixed_matrix()))
    per_suite = [{c.get("classname") for c in s.iter("testcase")}
                 for s in root.findall("testsuite")]
    assert per_suite == [{"binance_diag.spot"}, {"binance_diag.spot_443"}]


def test_hostname_is_the_machine_that_ran_the_probe() -> None:
    suite = ET.fromstring(render_junit(CASES["healthy"]())).find("testsuite")
    assert suite is not None
    assert suite.get("hostname") == platform.node()
    assert suite.get("hostname") != "stream.binance.com"


def _valid(document: str) -> None:
    etree = pytest.importorskip("lxml.etree", reason="lxml (a test extra) validates the XSD")
    schema = etree.XMLSchema(etree.parse(str(SCHEMA)))
    parsed = etree.fromstring(document.encode())
    assert schema.validate(parsed), schema.error_log


@pytest.mark.parametrize("case", list(CASES))
def test_probe_output_is_valid_against_the_jenkins_schema(case: str) -> None:
    _valid(render_junit(CASES[case]()))


def test_thresholds_and_wire_text_stay_valid_against_the_schema() -> None:
    _valid(render_junit(make_report(thresholds=Thresholds(warn={StageName.DNS: 10.0},
                                                          crit={StageName.TLS: 50.0}))))
    _valid(render_junit(make_report(fail=StageName.FIRST_MESSAGE,
                                    kind=ErrorKind.INVALID_PAYLOAD,
                                    message="not JSON: \x00\x1b[31m <b>&</b>")))


@pytest.mark.parametrize("matrix", [mixed_matrix, failed_matrix,
                                    lambda: build_matrix([make_report(endpoint="spot"),
                                                          make_report(endpoint="us")])])
def test_matrix_output_is_valid_against_the_jenkins_schema(matrix: object) -> None:
    _valid(JunitFormatter().format_matrix(matrix()))  # type: ignore[operator]


def test_the_schema_rejects_what_the_old_output_had() -> None:
    """The check can fail: the schema refuses `skipped=` on <testsuites> and testcase
    properties, which this format used to write."""
    etree = pytest.importorskip("lxml.etree", reason="lxml (a test extra) validates the XSD")
    schema = etree.XMLSchema(etree.parse(str(SCHEMA)))
    for bad in ('<testsuites skipped="0"><testsuite name="x" tests="0"/></testsuites>',
                '<testsuites><testsuite name="x" tests="1"><testcase name="dns">'
                '<properties><property name="a" value="b"/></properties>'
                '</testcase></testsuite></testsuites>',
                '<testsuites><testsuite name="x" tests="1"><testcase name="dns">'
                '<skipped message="m"/></testcase></testsuite></testsuites>'):
        assert not schema.validate(etree.fromstring(bad.encode()))
