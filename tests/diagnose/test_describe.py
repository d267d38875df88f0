"""diagnose/describe.py: the sentences about measurements that findings and every format
share. Fed stage results and reports built by hand; no I/O."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from binance_diag.diagnose.describe import (
    EXPECTED_EVENTS,
    STAGE_ACTIONS,
    blockage_line,
    blocked_note,
    clock,
    code,
    codes,
    crossed_threshold,
    expected_event,
    failure_phrase,
    literal,
    network_ms,
    not_applicable,
    passed_summary,
    seconds,
    stage_line,
    stage_time,
    took,
    total_ms,
)
from binance_diag.model import (
    Blockage,
    ErrorKind,
    StageError,
    StageName,
    StageResult,
    StageStatus,
    Thresholds,
)
from binance_diag.render.markup import spans
from tests.reports import AT, make_report

DNS, PROXY, TCP, TLS = StageName.DNS, StageName.PROXY, StageName.TCP, StageName.TLS
UPGRADE, MESSAGE = StageName.WS_UPGRADE, StageName.FIRST_MESSAGE
OK, FAILED, TIMEOUT, SKIPPED = (StageStatus.OK, StageStatus.FAILED, StageStatus.TIMEOUT,
                                StageStatus.SKIPPED)


def passed(name: StageName, duration_ms: float = 12.5, **details: object) -> StageResult:
    return StageResult(name, OK, 5.0, AT, duration_ms, details=details)


def broken(name: StageName, kind: ErrorKind, message: str = "it broke",
           **extra: object) -> StageResult:
    status = TIMEOUT if kind is ErrorKind.TIMEOUT else FAILED
    return StageResult(name, status, 5.0, AT, 0.6, StageError(kind, message, extra))


def test_a_redacted_proxy_url_in_the_status_lines() -> None:
    message = "proxy http://***@127.0.0.1:1: refused"
    failed = StageResult(StageName.PROXY, StageStatus.FAILED, 5.0, duration_ms=0.6,
                         error=StageError(ErrorKind.REFUSED, message))
    assert spans(stage_line(failed)) == [("text", "Proxy: "), ("bold", message),
                                         ("text", " (after 0.6 ms)")]


def test_every_stage_has_an_action_and_an_expected_event() -> None:
    assert set(STAGE_ACTIONS) == set(EXPECTED_EVENTS) == set(StageName)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1.2.3.4:443", "`1.2.3.4:443`"), ("a`b", "`a'b`"), ("two\n  lines", "`two lines`"),
     ("", "`(empty)`"), ("   ", "`(empty)`"), (404, "`404`")],
)
def test_code_is_one_line_of_inline_code(value: object, expected: str) -> None:
    assert code(value) == expected
    assert spans(code(value)) == [("code", expected[1:-1])]


def test_literal_keeps_markers_as_characters() -> None:
    text = r"pass ***, `x` and a \ "
    assert literal(text) == r"pass \*\*\*, \`x\` and a \\ "
    assert "".join(part for _, part in spans(literal(text))) == text


def test_small_formats() -> None:
    assert codes(["a", 1]) == "`a`, `1`"
    assert codes([]) == ""
    assert seconds(10) == "10.00 s"
    assert took(passed(TCP, 41.25)) == "41.2 ms"
    assert took(StageResult(TCP, SKIPPED, 5.0)) == "-"


def test_the_expected_event_depends_on_what_already_arrived() -> None:
    assert expected_event(broken(TLS, ErrorKind.TIMEOUT)) == "ServerHello"
    half = StageResult(TLS, TIMEOUT, 5.0, details={"bytes_received": 1200})
    assert expected_event(half) == "end of the TLS handshake"
    head = StageResult(UPGRADE, TIMEOUT, 5.0, details={"bytes_received": 17})
    assert expected_event(head) == "rest of the HTTP response"
    flag = StageResult(UPGRADE, TIMEOUT, 5.0, details={"bytes_received": True})
    assert expected_event(flag) == "HTTP 101 response"  # a bool is not a byte count
    assert expected_event(broken(MESSAGE, ErrorKind.TIMEOUT)) == "first market event"


def test_stage_time_is_the_connect_of_the_winner_and_the_latest_first_event() -> None:
    assert stage_time(passed(TCP, 80.0, connect_ms=41.0)) == "41.0 ms"
    assert stage_time(passed(TCP, 80.0)) == "80.0 ms"
    streams = {"a": {"latency_ms": 120.0}, "b": {"latency_ms": 150.5}, "c": {}}
    assert stage_time(passed(MESSAGE, 300.0, streams=streams)) == "150.5 ms"
    assert stage_time(passed(MESSAGE, 300.0, streams={"a": {}})) == "300.0 ms"
    assert stage_time(passed(TLS, 88.6, connect_ms=1.0)) == "88.6 ms"


@pytest.mark.parametrize(
    ("stage", "summary"),
    [
        (passed(PROXY, proxy="http://***@proxy:3128", tunnel_to="stream.binance.com:9443"),
         "tunnel to `stream.binance.com:9443` through `http://***@proxy:3128` opened in 12.5 ms"),
        (passed(PROXY), "tunnel through `proxy` opened in 12.5 ms"),
        (passed(TCP, connected_to="1.2.3.4:443", attempts=[
            {"address": "1.2.3.4", "result": "ok"}, {"address": "::1", "result": "refused"}]),
         "connected to `1.2.3.4:443` in 12.5 ms; 1 other address(es) did not connect"),
        (passed(TLS, version="TLSv1.3", cipher="TLS_AES_128_GCM_SHA256",
                certificate={"subject": "CN=a", "issuer": "CN=b", "days_left": 9}),
         "TLSv1.3 (TLS_AES_128_GCM_SHA256) in 12.5 ms; certificate `CN=a` issued by `CN=b`, "
         "9 days left"),
        (passed(UPGRADE, status=101, reason="Switching Protocols"),
         "HTTP 101 Switching Protocols in 12.5 ms"),
        (passed(UPGRADE, status=101), "HTTP 101 in 12.5 ms"),
        (passed(MESSAGE, streams={"btcusdt@aggTrade": {"latency_ms": 150.0,
                                                       "event_time_lag_ms": -3.0}}),
         "`btcusdt@aggTrade` after 150.0 ms, event time lag 3.0 ms ahead of the local clock"),
        (passed(MESSAGE), "received in 12.5 ms"),
    ],
)
def test_passed_summary_of_each_stage(stage: StageResult, summary: str) -> None:
    assert passed_summary(stage) == summary


@pytest.mark.parametrize(
    ("details", "summary"),
    [
        ({"host": "h", "source": "--resolve", "addresses": ["1.2.3.4"]},
         "skipped: `--resolve` maps `h` to `1.2.3.4`"),
        ({"host": "1.2.3.4", "source": "ip-literal"}, "not needed: `1.2.3.4` is an IP address"),
        ({"host": "h", "source": "hosts-file", "addresses": ["127.0.0.1"],
          "hosts_file": {"path": "/etc/hosts"}},
         "`h` → `127.0.0.1` from /etc/hosts, as getaddrinfo answers it (DNS not used)"),
        ({"host": "h", "source": "dns", "addresses": ["1.2.3.4"], "resolver": "10.0.0.53",
          "answers": [{"type": "A", "address": "1.2.3.4"}]},
         "`h` → 1 address(es) (A 1.2.3.4) in 12.5 ms via 10.0.0.53"),
        ({"host": "h", "addresses": ["1.2.3.4", "5.6.7.8"]},
         "`h` → 2 address(es) (1.2.3.4, 5.6.7.8) in 12.5 ms"),
        ({"host": "h", "addresses": ["1.2.3.4"], "comparison": [{}], "lookup_ms": 3.0},
         "`h` → 1 address(es) (1.2.3.4) in 3.0 ms (the stage 12.5 ms, with the comparison "
         "resolvers)"),
    ],
)
def test_the_dns_summary_says_where_the_address_came_from(
        details: dict[str, object], summary: str) -> None:
    assert passed_summary(passed(DNS, **details)) == summary


def test_the_hold_is_summarised_after_the_streams() -> None:
    hold = {"duration_s": 60.0, "messages": 6, "rate_per_s": 0.1, "largest_gap_ms": 30000.0}
    stage = passed(MESSAGE, streams={"s": {"latency_ms": 1.0}}, hold=hold)
    assert passed_summary(stage) == ("`s` after 1.0 ms; held 60 s: 6 events (0.1/s), "
                                     "largest gap 30.00 s")


@pytest.mark.parametrize(
    ("stage", "phrase"),
    [
        (broken(TLS, ErrorKind.TIMEOUT), "timed out after 5.00 s"),
        (broken(UPGRADE, ErrorKind.HTTP_STATUS, status=451,
                reason="Unavailable For Legal Reasons"),
         "HTTP 451 Unavailable For Legal Reasons"),
        (broken(UPGRADE, ErrorKind.HTTP_STATUS), "HTTP ?"),
        (broken(MESSAGE, ErrorKind.CLOSED, code=1008), "closed by the server (1008)"),
        (broken(MESSAGE, ErrorKind.CLOSED), "closed by the server (no close code)"),
        (broken(TCP, ErrorKind.REFUSED), "connection refused"),
        (broken(DNS, ErrorKind.NXDOMAIN), "name does not exist (NXDOMAIN)"),
        (broken(PROXY, ErrorKind.AUTH_REQUIRED), "auth required"),  # no phrase: the kind
        (StageResult(TLS, FAILED, 5.0), "failed"),
    ],
)
def test_failure_phrase(stage: StageResult, phrase: str) -> None:
    assert failure_phrase(stage) == phrase


def test_stage_lines_for_every_status() -> None:
    assert stage_line(passed(UPGRADE, status=101)) == "WebSocket upgrade: HTTP 101 in 12.5 ms"
    assert stage_line(StageResult(TLS, SKIPPED, 5.0)) == "TLS: not reached"
    assert stage_line(StageResult(TLS, SKIPPED, 5.0), secure=False) == \
        "TLS: not used (ws:// endpoint)"
    skipped = StageResult(TCP, SKIPPED, 5.0, details={"reason": "not applicable: via proxy"})
    assert stage_line(skipped) == "TCP: not used (via proxy)"
    assert stage_line(broken(TLS, ErrorKind.TIMEOUT, "no *ServerHello*")) == \
        r"TLS: **no \*ServerHello\***"
    assert stage_line(broken(TCP, ErrorKind.RESET, "reset")) == "TCP: **reset** (after 0.6 ms)"


def test_time_the_loop_was_blocked_is_not_the_networks() -> None:
    blocked = StageResult(TLS, OK, 5.0, AT, 600.0, loop_blocked_ms=480.0)
    assert network_ms(blocked) == 120.0
    assert network_ms(StageResult(TLS, OK, 5.0, AT, 100.0, loop_blocked_ms=400.0)) == 0.0
    assert network_ms(StageResult(TLS, SKIPPED, 5.0)) is None
    assert blocked_note(blocked) == " — ⚠️ event loop blocked 480.0 ms of it"
    assert blocked_note(passed(TLS)) == ""
    assert stage_line(blocked).endswith(" — ⚠️ event loop blocked 480.0 ms of it")


def test_not_applicable_is_only_a_skip_that_would_never_run() -> None:
    assert not_applicable(StageResult(TLS, SKIPPED, 5.0), secure=False)
    assert not not_applicable(StageResult(TLS, SKIPPED, 5.0))
    assert not_applicable(StageResult(DNS, SKIPPED, 5.0,
                                      details={"reason": "not applicable: proxy resolves"}))
    assert not not_applicable(passed(TLS), secure=False)


def test_clock_is_utc_to_the_millisecond() -> None:
    assert clock(AT) == "08:41:59.784"
    tokyo = AT.astimezone(timezone(timedelta(hours=9)))
    assert clock(tokyo) == "08:41:59.784"


def test_a_blockage_line_names_when_during_what_and_where() -> None:
    started = datetime(2026, 1, 4, 8, 0, 0, 250000, tzinfo=UTC)
    with_where = Blockage(started, 480.0, TLS, ("a.py:1 in f", "b.py:2 in g"), where="bot.py:9")
    assert blockage_line(with_where) == ("event loop blocked 480.0 ms from 08:00:00.250 "
                                         "during tls at `bot.py:9`")
    from_stack = Blockage(started, 1500.0, None, ("a.py:1 in f", "b.py:2 in g"))
    assert blockage_line(from_stack) == ("event loop blocked 1.50 s from 08:00:00.250 at "
                                         "`b.py:2 in g`")
    assert blockage_line(Blockage(started, 1.0, None)).endswith("at `an unknown location`")


def test_thresholds_are_crossed_by_network_time_only() -> None:
    thresholds = Thresholds(warn={TLS: 100.0}, crit={TLS: 500.0})
    assert crossed_threshold(thresholds, passed(TLS, 600.0)) == ("crit", 500.0)
    assert crossed_threshold(thresholds, passed(TLS, 200.0)) == ("warn", 100.0)
    assert crossed_threshold(thresholds, passed(TLS, 100.0)) is None  # not over
    mostly_blocked = StageResult(TLS, OK, 5.0, AT, 600.0, loop_blocked_ms=550.0)
    assert crossed_threshold(thresholds, mostly_blocked) is None
    assert crossed_threshold(thresholds, passed(TCP, 9000.0)) is None  # no limit for TCP
    assert crossed_threshold(thresholds, broken(TLS, ErrorKind.TIMEOUT)) is None


def test_total_is_every_stage_that_took_time() -> None:
    report = make_report(fail=TLS, kind=ErrorKind.REFUSED, durations={TLS: 0.4},
                         diagnosed=False)
    assert total_ms(report) == pytest.approx(23.4 + 41.2 + 0.4)
