"""watch/run.py: a whole watch for the CLI against a loopback peer: the summary on stdout
(JSON or Markdown) and in --reports, the exit code."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from binance_diag.exitcodes import ExitCode
from binance_diag.simulate.certs import CertificateAuthority
from binance_diag.simulate.scenario import start_fault
from binance_diag.watch.config import StallRule, WatchConfig
from binance_diag.watch.run import run_watch_command
from tests.probe.helpers import config_for
from tests.utils import MS


@pytest.mark.timeout(30)
@pytest.mark.parametrize("as_json", [True, False])
def test_a_healthy_watch_reports_ok(certs: CertificateAuthority, tmp_path: Path,
                                    as_json: bool) -> None:
    out, err = io.StringIO(), io.StringIO()
    with start_fault("healthy", certs=certs) as scenario:
        config = WatchConfig(config_for(scenario), duration=1200 * MS, every=600 * MS,
                             stall=StallRule(floor=5.0), reports=tmp_path, command="watch")
        code = run_watch_command(config, as_json, stdout=out, stderr=err)
    assert code is ExitCode.OK
    written = json.loads((tmp_path / "summary.json").read_text())
    assert written["exit_code"] == 0 and written["held_stream"]["messages"] > 0
    if as_json:
        assert json.loads(out.getvalue())["schema"] == "binance-diag/watch/1"
    else:
        assert out.getvalue().startswith("# binance-diag watch: OK")
        assert out.getvalue() == (tmp_path / "summary.md").read_text()
    assert f"watch summary written to {tmp_path / 'summary.md'}" in err.getvalue()
    assert "held stream connected, first message received" in err.getvalue()
