"""The reports every format is rendered from in the golden tests: healthy and several failures;
and the endpoint matrices the formats' matrix tests render."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from binance_diag.diagnose.matrix import EndpointMatrix, build_matrix
from binance_diag.model import (
    Blockage,
    ErrorKind,
    LoopStats,
    ProbeReport,
    StageName,
    Thresholds,
)
from tests.reports import AT, make_report

TLS, TCP, UPGRADE = StageName.TLS, StageName.TCP, StageName.WS_UPGRADE


def healthy() -> ProbeReport:
    return make_report()


def tls_hang() -> ProbeReport:
    """The seed incident: the ClientHello is never answered."""
    return make_report(fail=TLS, kind=ErrorKind.TIMEOUT, timeouts={TLS: 10.0},
                       message="ClientHello sent; no ServerHello in 10.00 s",
                       extra={"bytes_received": 0}, details={"bytes_received": 0},
                       command="binance-diag probe BTCUSDT --tls-timeout 10")


def tcp_refused_local() -> ProbeReport:
    return make_report(
        endpoint="ws://127.0.0.1:35695", fail=TCP, kind=ErrorKind.REFUSED,
        message="127.0.0.1:35695: Connection refused (1 address(es) tried)",
        extra={"address": "127.0.0.1", "port": 35695},
        details={"attempts": [{"family": "IPv4", "address": "127.0.0.1", "port": 35695,
                               "result": "refused", "time_ms": 0.2,
                               "message": "127.0.0.1:35695: Connection refused"}]},
        overrides={StageName.DNS: {"source": "ip-literal", "addresses": ["127.0.0.1"],
                                   "host": "127.0.0.1"}},
        durations={StageName.DNS: 0.1}, loop=LoopStats(),
        command="binance-diag probe BTCUSDT --endpoint ws://127.0.0.1:35695")


def restricted_location() -> ProbeReport:
    return make_report(
        fail=UPGRADE, kind=ErrorKind.HTTP_STATUS, message="HTTP 451 Unavailable For Legal Reasons",
        extra={"status": 451, "reason": "Unavailable For Legal Reasons",
               "body_excerpt": '{"code":0,"msg":"Service unavailable from a restricted '
                               'location according to \'b. Eligibility\' in '
                               'https://www.binance.com/en/terms. | <b>*</b>"}'},
        details={"status": 451, "reason": "Unavailable For Legal Reasons",
                 "headers": {"server": "CloudFront", "x-amz-cf-pop": "IAD89-P1",
                             "x-cache": "Error from cloudfront",
                             "content-type": "application/json"}},
        durations={UPGRADE: 61.8})


def silent_stream() -> ProbeReport:
    return make_report(
        symbols=("BTCUSDT", "LUNAUSDT"), fail=StageName.FIRST_MESSAGE, kind=ErrorKind.TIMEOUT,
        command="binance-diag probe BTCUSDT LUNAUSDT",
        message="no aggTrade message for LUNAUSDT in 10.00 s; the link is alive "
                "(LIST_SUBSCRIPTIONS answered ['btcusdt@aggTrade', 'lunausdt@aggTrade'])",
        extra={"missing": ["LUNAUSDT"], "link_alive": True},
        details={"streams": {"btcusdt@aggTrade": {"latency_ms": 120.4,
                                                  "event_time": 1767516120000,
                                                  "event_time_lag_ms": 35.0}},
                 "pings_seen": 0,
                 "list_subscriptions": {"sent": True, "answered": True,
                                        "result": ["btcusdt@aggTrade", "lunausdt@aggTrade"],
                                        "error": None},
                 "waiting_for": ["LUNAUSDT"]})


def degraded() -> ProbeReport:
    blockage = Blockage(AT + timedelta(milliseconds=90), 640.0, TLS,
                        ("/srv/bot/main.py:12 in <module>", "/srv/bot/feed.py:88 in refit"))
    return make_report(durations={TLS: 1480.0},
                       loop=LoopStats(640.0, 2.1, (blockage,)),
                       thresholds=Thresholds(warn={TLS: 1000.0}, crit={TLS: 3000.0}),
                       command="binance-diag probe BTCUSDT --warn tls=1000 --crit tls=3000")


CASES: dict[str, Callable[[], ProbeReport]] = {
    "healthy": healthy,
    "tls_hang": tls_hang,
    "tcp_refused_local": tcp_refused_local,
    "restricted_location": restricted_location,
    "silent_stream": silent_stream,
    "degraded": degraded,
}


def failing(endpoint: str, stage: StageName = TCP, kind: ErrorKind = ErrorKind.TIMEOUT
            ) -> ProbeReport:
    return make_report(endpoint=endpoint, fail=stage, kind=kind)


def mixed_matrix() -> EndpointMatrix:
    """spot's port 9443 filtered, spot-443 working: a WARNING with one root cause."""
    return build_matrix([failing("spot"), make_report(endpoint="spot-443")])


def failed_matrix() -> EndpointMatrix:
    """Every endpoint filtered the same way: CRITICAL, and not the endpoint's fault."""
    return build_matrix([failing("spot"), failing("us")])
