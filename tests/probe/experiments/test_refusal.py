"""probe/experiments/refusal.py: what the body of a refusal says, parsed from bytes."""

from __future__ import annotations

import asyncio

import pytest

from binance_diag.model import ErrorKind, StageError, StageName, StageResult, StageStatus
from binance_diag.probe.experiments.catalogue import REFUSAL, SPECS
from binance_diag.probe.experiments.refusal import QUOTE, decide, parse_response, plan
from binance_diag.probe.experiments.view import RunView
from binance_diag.timing import Deadline
from tests.probe.helpers import make_config


def answer(status: str, body: str, *headers: str) -> bytes:
    return ("\r\n".join([f"HTTP/1.1 {status}", *headers, "", body])).encode()


@pytest.mark.parametrize(("data", "category"), [
    (answer("451 Unavailable For Legal Reasons", '{"code":0,"msg":"Service unavailable '
            'from a restricted location according to \'b. Eligibility\'."}'),
     "restricted_location"),
    (answer("418 I'm a teapot", '{"msg":"IP banned until 1767516120000."}'), "ip_banned"),
    (answer("429 Too Many Requests", '{"msg":"Too many requests; current limit is 6000 '
            'request weight per 1 MINUTE."}', "Retry-After: 30"), "rate_limited"),
    (answer("403 Forbidden", "<html><title>Blocked</title><p>Access to this site is blocked "
            "by your organization. Category: Cryptocurrency.</p></html>"), "web_filter"),
    (answer("200 OK", "<h1>Guest Wi-Fi</h1><p>Accept the terms to continue</p>"),
     "captive_portal"),
    (answer("503 Service Unavailable", "<p>System maintenance in progress</p>"),
     "maintenance"),
    (answer("403 Forbidden", "<h1>403 ERROR</h1><h2>The request could not be satisfied."
            "</h2>Request blocked.", "X-Amz-Cf-Id: abcDEF123456=="), "waf_block"),
    (answer("502 Bad Gateway", ""), "status_only"),
])
def test_each_sign_is_recognised(data: bytes, category: str) -> None:
    verdict = decide(parse_response(data))
    assert verdict.outcome == category
    assert category in SPECS[REFUSAL].outcomes


def test_the_json_msg_is_what_the_body_says() -> None:
    refusal = parse_response(answer("429 Too Many Requests", '{"code":-1003,"msg":"slow '
                                    'down"}', "Retry-After: 7", "X-Private: no"))
    assert (refusal.status, refusal.reason, refusal.says) == (429, "Too Many Requests",
                                                              "slow down")
    assert refusal.headers == {"retry-after": "7"}  # only the relevant headers are kept


def test_an_html_page_is_read_as_text_without_its_script() -> None:
    refusal = parse_response(answer("403 Forbidden", "<html><script>var x='banned';</script>"
                                    "<p>Access&nbsp;denied &amp; logged</p>"
                                    "<!-- banned --></html>"))
    assert refusal.says == "Access denied & logged"  # &nbsp; is whitespace too
    assert refusal.category == "waf_block"


def test_a_chunked_body_is_reassembled() -> None:
    body = "7\r\nToo man\r\nb\r\ny requests\r\n0\r\n\r\n"
    refusal = parse_response(answer("429 x", body, "Transfer-Encoding: chunked"))
    assert refusal.says == "Too many requests" and refusal.category == "rate_limited"


def test_request_id_and_filter_category() -> None:
    page = ("<p>This page is blocked. Category: Cryptocurrency. Reference number: "
            "9f8e7d6c5b</p>")
    refusal = parse_response(answer("403 Forbidden", page))
    assert refusal.category == "web_filter"
    assert refusal.filter_category == "Cryptocurrency"
    assert refusal.request_id == "9f8e7d6c5b"
    verdict = decide(refusal)
    assert verdict.details["filter_category"] == "Cryptocurrency"
    assert "(request id 9f8e7d6c5b)" in verdict.result
    # A CDN's header id comes before one in the words.
    assert parse_response(answer("403 x", page, "CF-Ray: 8a1b2c3d4e5f-FRA")).request_id == \
        "8a1b2c3d4e5f-FRA"


def test_a_long_body_is_quoted_short_and_garbage_does_not_raise() -> None:
    verdict = decide(parse_response(answer("403 Forbidden", "x " * 500)))
    assert len(verdict.details["says"]) == QUOTE + 1 and verdict.details["says"].endswith("…")
    assert parse_response(b"\x00\xff garbage").status is None
    assert decide(parse_response(b"")).result.startswith("HTTP None")


def test_planned_for_an_http_refusal_from_the_report_alone() -> None:
    failed = StageResult(StageName.WS_UPGRADE, StageStatus.FAILED, 5.0, error=StageError(
        ErrorKind.HTTP_STATUS, "451", {"status": 451, "reason": "Unavailable",
                                       "body_excerpt": '{"msg":"restricted location"}'}))
    [planned] = plan(RunView(make_config("wss://stream.binance.com:9443"), (failed,)))
    assert planned.run is not None and "no packet sent" in planned.action
    verdict = asyncio.run(planned.run(Deadline(1.0)))
    assert verdict.outcome == "restricted_location" and verdict.details["status"] == 451
    tls = StageResult(StageName.TLS, StageStatus.FAILED, 5.0,
                      error=StageError(ErrorKind.HTTP_STATUS, "x"))
    assert plan(RunView(make_config("wss://stream.binance.com:9443"), (tls,))) == []
