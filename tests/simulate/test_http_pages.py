"""simulate/http_pages.py: the HTTP answers that replace a refused WebSocket upgrade.

Each page is checked as data, then served from a loopback peer and read back by the
standard library's HTTP client, which must parse it as a browser or a bot would.
"""

from __future__ import annotations

import asyncio
import email.utils
import http.client
import json
import time

import pytest
from websockets.http11 import Response

from binance_diag.simulate.http_pages import (
    RESTRICTED_LOCATION_MSG,
    STATUS_FAULTS,
    not_found,
    status_response,
)
from binance_diag.simulate.peer import StreamPeer
from tests.utils import MS

STATUSES = {"http-451": 451, "http-403": 403, "http-429": 429, "http-418": 418,
            "http-503": 503, "captive-portal": 200}


class PagePeer(StreamPeer):
    """Answers every connection with one page, whatever was asked."""

    def __init__(self, response: Response) -> None:
        super().__init__()
        self.response = response

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(self.response.serialize())
        await writer.drain()


def fetch(response: Response) -> tuple[http.client.HTTPResponse, bytes]:
    with PagePeer(response) as peer:
        connection = http.client.HTTPConnection(peer.host, peer.port, timeout=2000 * MS)
        try:
            connection.request("GET", "/ws/btcusdt@aggTrade")
            answer = connection.getresponse()
            return answer, answer.read()
        finally:
            connection.close()


def test_every_status_fault_has_a_page_and_none_is_a_101() -> None:
    assert set(STATUSES) <= set(STATUS_FAULTS)
    for fault, status in STATUSES.items():
        assert status_response(fault).status_code == status
    assert all(status_response(fault).status_code != 101 for fault in STATUS_FAULTS)


@pytest.mark.parametrize("fault", ["healthy", "tls-hang", "http-404", ""])
def test_other_faults_have_no_page(fault: str) -> None:
    with pytest.raises(ValueError, match="not answered with an HTTP status page"):
        status_response(fault)


@pytest.mark.parametrize("fault", STATUS_FAULTS)
def test_each_page_is_well_formed_http(fault: str) -> None:
    response = status_response(fault)
    assert int(response.headers["Content-Length"]) == len(response.body)
    assert response.headers["Connection"] == "close"
    assert email.utils.parsedate_to_datetime(response.headers["Date"]).tzinfo is not None
    assert "Sec-WebSocket-Accept" not in response.headers  # never a 101 in disguise


def test_restricted_location_is_binances_json() -> None:
    response = status_response("http-451")
    assert response.reason_phrase == "Unavailable For Legal Reasons"
    assert response.headers["Content-Type"] == "application/json;charset=UTF-8"
    assert json.loads(response.body) == {"code": 0, "msg": RESTRICTED_LOCATION_MSG}


def test_rate_limits_name_the_client_and_when_to_retry() -> None:
    limited = status_response("http-429", retry_after=17, client_ip="127.0.0.9")
    assert limited.headers["Retry-After"] == "17"
    body = json.loads(limited.body)
    assert body["code"] == -1003 and "IP(127.0.0.9)" in body["msg"]
    before = time.time()
    banned = json.loads(status_response("http-418", retry_after=60).body)
    until = int(banned["msg"].split("banned until ")[1].split(".")[0])
    assert (before + 59) * 1000 <= until <= (time.time() + 61) * 1000


def test_the_cloudfront_block_and_the_captive_portal_look_like_theirs() -> None:
    blocked = status_response("http-403")
    assert (blocked.headers["Server"], blocked.headers["X-Cache"]) == \
        ("CloudFront", "Error from cloudfront")
    assert b"Request blocked." in blocked.body
    portal = status_response("captive-portal")
    assert portal.reason_phrase == "OK" and portal.headers["Cache-Control"] == "no-store"
    assert b"<form" in portal.body


@pytest.mark.timeout(10)
@pytest.mark.parametrize("fault", ["http-451", "http-429", "captive-portal"])
def test_a_page_served_on_loopback_parses_as_http(fault: str) -> None:
    answer, body = fetch(status_response(fault, retry_after=5))
    assert answer.status == STATUSES[fault]
    assert body == status_response(fault).body or fault == "http-429"
    assert answer.getheader("Content-Type") == status_response(fault).headers["Content-Type"]


@pytest.mark.timeout(10)
def test_not_found_is_a_plain_404() -> None:
    answer, body = fetch(not_found())
    assert (answer.status, answer.reason, body) == (404, "Not Found", b"Not Found")
    assert answer.getheader("Content-Type") == "text/plain; charset=utf-8"
