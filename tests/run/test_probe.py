"""run/probe.py: one probe run as the CLI runs it - under the guard, diagnosed, delivered
with its exit code - against the loopback simulator (`simulate.scenario`), and `publish` /
`ReportDelivery` on reports built by hand.

The scenarios pin the host name to loopback (`--resolve`): no test asks a DNS resolver.
"""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path

import pytest

from binance_diag.config.errors import ConfigError
from binance_diag.config.timeouts import Timeouts
from binance_diag.exitcodes import ExitCode
from binance_diag.model import StageName, Thresholds
from binance_diag.probe.base import Tracer
from binance_diag.render.formats import OutputFormat, formatter_for
from binance_diag.run.probe import ReportDelivery, publish, run_probe_command
from binance_diag.simulate.scenario import probe_config, start_fault
from binance_diag.simulate.tcp import RefusingPort
from tests.probe.helpers import make_config
from tests.render.cases import CASES
from tests.schema_check import VALIDATOR
from tests.utils import MS

BUDGET = 1000 * MS
TIMEOUTS = Timeouts(dns=BUDGET, proxy=BUDGET, tcp=BUDGET, tls=BUDGET, ws_upgrade=BUDGET,
                    first_message=1500 * MS)

pytestmark = pytest.mark.timeout(20)


@pytest.fixture(autouse=True)
def no_proxy_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The probe goes straight to the loopback peer, whatever the machine's proxy settings."""
    import os

    for name in [n for n in os.environ if "proxy" in n.lower()]:
        monkeypatch.delenv(name)


def test_a_healthy_probe_publishes_its_report_and_exits_ok(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.json"
    tracer = Tracer()
    with start_fault("healthy", tls=False) as scenario:
        code = run_probe_command(probe_config(scenario, TIMEOUTS), OutputFormat.JSON, out,
                                 "binance-diag probe BTCUSDT", tracer=tracer)
        assert scenario.server is not None and len(scenario.server.requests) == 1
    assert code is ExitCode.OK
    printed = json.loads(capsys.readouterr().out)  # stdout is no terminal: the format itself
    VALIDATOR.validate(printed)
    assert json.loads(out.read_text(encoding="utf-8")) == printed
    assert printed["status"] == "ok"
    assert printed["command"] == "binance-diag probe BTCUSDT"
    assert [f["id"] for f in printed["findings"]] == ["probe.healthy"]
    assert printed["loop"]["monitored"] is True  # the run was under the guard's watchdog
    assert {event.stage for event in tracer.events} >= {StageName.TCP,
                                                        StageName.FIRST_MESSAGE}


def test_thresholds_are_applied_to_the_report_before_it_is_diagnosed(
        capsys: pytest.CaptureFixture[str]) -> None:
    with start_fault("healthy", tls=False) as scenario:
        code = run_probe_command(probe_config(scenario, TIMEOUTS), OutputFormat.JSON, None,
                                 "test", thresholds=Thresholds(crit={StageName.TCP: 0.0}))
    assert code is ExitCode.CRITICAL
    printed = json.loads(capsys.readouterr().out)
    assert printed["findings"][0]["id"] == "threshold.critical"


def test_a_refused_connection_is_a_critical_exit(capsys: pytest.CaptureFixture[str]) -> None:
    with RefusingPort() as closed:
        config = make_config(f"ws://127.0.0.1:{closed.port}", timeouts=TIMEOUTS)
        code = run_probe_command(config, OutputFormat.NAGIOS, None, "test")
    assert code is ExitCode.CRITICAL
    line = capsys.readouterr().out
    assert line.startswith("BINANCE-DIAG CRITICAL")
    assert "tcp" in line.lower()


def test_an_output_that_cannot_be_written_stops_the_run_before_any_connection(
        tmp_path: Path) -> None:
    with start_fault("healthy", tls=False) as scenario:
        with pytest.raises(ConfigError, match="--output"):
            run_probe_command(probe_config(scenario, TIMEOUTS), OutputFormat.JSON, tmp_path,
                              "test")
        assert scenario.server is not None and scenario.server.accepted == 0


def test_publish_diagnoses_the_report_it_delivers() -> None:
    undiagnosed = dataclasses.replace(CASES["tls_hang"](), findings=(), analysis=())
    stdout = io.StringIO()
    code = publish(undiagnosed, OutputFormat.JSON, None, stdout, io.StringIO(), environ={})
    assert code is ExitCode.CRITICAL
    document = json.loads(stdout.getvalue())
    assert document["findings"][0]["id"] == "tls.handshake_timeout"
    assert document["analysis"]


def test_a_report_delivery_renders_shows_and_annotates_its_report() -> None:
    failed = ReportDelivery(CASES["restricted_location"]())
    healthy = ReportDelivery(CASES["healthy"]())
    assert (failed.what, failed.exit_code, healthy.exit_code) == \
        ("report", ExitCode.CRITICAL, ExitCode.OK)
    nagios = formatter_for(OutputFormat.NAGIOS)
    assert failed.render(nagios) == nagios.format(failed.report)
    stream = io.StringIO()
    failed.show(nagios, stream)
    assert stream.getvalue() == nagios.format(failed.report)
    annotation = failed.annotation()
    assert annotation is not None and annotation.startswith("::error ")
    assert healthy.annotation() is None
