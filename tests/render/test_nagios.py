"""The Nagios line: format, state word matching the exit code, perfdata with thresholds."""

from __future__ import annotations

import re

import pytest

from binance_diag.exitcodes import exit_code_for
from binance_diag.model import StageName, Thresholds
from binance_diag.render.nagios import STATES, NagiosFormatter, render_nagios
from tests.render.cases import CASES, failed_matrix, mixed_matrix
from tests.reports import make_report

LINE = re.compile(
    r"^BINANCE-DIAG (OK|WARNING|CRITICAL|UNKNOWN): [^|\n]+ \| "
    r"('[a-z_]+'=(U|\d+(\.\d+)?ms);(\d+(\.\d+)?)?;(\d+(\.\d+)?)?;0;\d+(\.\d+)? )+"
    r"'total'=\d+(\.\d+)?ms\n$")


@pytest.mark.parametrize("case", list(CASES))
def test_one_line_with_state_of_the_exit_code(case: str) -> None:
    report = CASES[case]()
    line = render_nagios(report)
    match = LINE.match(line)
    assert match, line
    assert match.group(1) == STATES[exit_code_for(report)]


def test_the_seed_line() -> None:
    line = render_nagios(CASES["tls_hang"]())
    assert line.startswith("BINANCE-DIAG CRITICAL: tls handshake timed out after 10.00s "
                           "[tls.handshake_timeout] | 'dns'=23.4ms;;;0;5000 ")
    assert "'ws_upgrade'=U;;;0;5000" in line


def test_thresholds_go_into_perfdata() -> None:
    report = make_report(thresholds=Thresholds(warn={StageName.TLS: 60.0},
                                               crit={StageName.TLS: 80.0}))
    line = render_nagios(report)
    assert "'tls'=88.6ms;60;80;0;5000" in line
    assert line.startswith("BINANCE-DIAG CRITICAL: TLS took 88.6 ms, over the critical "
                           "threshold 80.0 ms [threshold.critical] |")


def test_ws_endpoint_has_no_tls_perfdata_and_no_pipe_in_text() -> None:
    line = render_nagios(CASES["tcp_refused_local"]())
    assert "'tls'" not in line
    assert line.count("|") == 1


def test_perfdata_numbers_are_plain_decimals() -> None:
    hour = 3600.0
    line = render_nagios(make_report(durations={StageName.DNS: 0.04, StageName.TCP: 123456.7},
                                     timeouts={StageName.FIRST_MESSAGE: hour}))
    perf = line.split(" | ", 1)[1]
    assert "'dns'=0.04ms;" in perf
    assert "'tcp'=123456.7ms;" in perf
    assert f";0;{int(hour * 1000)}" in perf
    assert "e+" not in perf and "e-" not in perf


def test_several_streams_deliver() -> None:
    line = render_nagios(make_report(symbols=("BTCUSDT", "ETHUSDT")))
    assert line.startswith("BINANCE-DIAG OK: btcusdt@aggTrade, ethusdt@aggTrade deliver data;")


def test_matrix_state_is_the_matrix_exit_code() -> None:
    line = NagiosFormatter().format_matrix(mixed_matrix())
    assert line.startswith("BINANCE-DIAG WARNING: port 9443 is filtered here (spot); ")
    assert line.count("\n") == 1
    assert "'spot'=U;;;0;30000 'spot-443'=351.2ms;;;0;30000" in line
    none = NagiosFormatter().format_matrix(failed_matrix())
    assert none.startswith("BINANCE-DIAG CRITICAL: every endpoint fails at tcp (timeout)")
