"""The endpoint matrix runner: its limits, and Ctrl-C / SIGTERM through the CLI (the partial
matrix, then 130 / 143). Its other loopback runs: tests/probe/test_paths.py."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from binance_diag.config.errors import ConfigError
from binance_diag.diagnose.matrix import build_matrix
from binance_diag.exitcodes import ExitCode
from binance_diag.model import ErrorKind, OverallStatus, ProbeReport, StageName, StageStatus
from binance_diag.run.matrix import MAX_ENDPOINTS, check_matrix_size
from binance_diag.simulate.certs import CertificateAuthority
from binance_diag.simulate.scenario import Scenario, start_fault
from tests.matrix_check import validated_matrix
from tests.reports import make_report
from tests.utils import MS


def test_matrix_size_is_bounded() -> None:
    check_matrix_size(MAX_ENDPOINTS)
    with pytest.raises(ConfigError, match="300 connection attempts"):
        check_matrix_size(MAX_ENDPOINTS + 1)


def interrupted(endpoint: str, at: StageName = StageName.TLS) -> ProbeReport:
    """A report as probe/runner.py `interrupted_report` makes it: `at` cut short by SIGINT,
    the stages after it not reached."""
    report = make_report(endpoint=endpoint)
    names = [stage.name for stage in report.stages]
    stages = tuple(
        stage if names.index(stage.name) < names.index(at) else dataclasses.replace(
            stage, status=StageStatus.SKIPPED, started_at=None, duration_ms=None,
            details={"interrupted": "SIGINT"} if stage.name is at else
            {"reason": "not reached: the run was interrupted by SIGINT"})
        for stage in report.stages)
    return dataclasses.replace(report, stages=stages)


@pytest.mark.timeout(10)
def test_an_interrupted_endpoint_neither_works_nor_fails_and_the_verdict_says_so() -> None:
    matrix = build_matrix([make_report(endpoint="spot"), interrupted("spot-443")])
    assert matrix.verdict.text == ("interrupted by SIGINT: spot-443 did not finish; of those "
                                   "that finished: all endpoints work")
    assert (matrix.verdict.working, matrix.verdict.failing) == (("spot",), ())
    assert (matrix.verdict.status, matrix.verdict.exit_code) == (OverallStatus.DEGRADED,
                                                                 ExitCode.WARNING)
    row = matrix.rows[1]
    assert not row.works and row.interrupted_by == "SIGINT"
    texts = {cell.stage: cell.text for cell in row.cells}
    assert [texts[StageName.TLS], texts[StageName.WS_UPGRADE], texts[StageName.FIRST_MESSAGE]
            ] == ["interrupted", "-", "-"]


@pytest.mark.timeout(10)
@pytest.mark.parametrize("failed_elsewhere", [(), (StageName.TCP,)])
def test_an_interrupted_matrix_with_nothing_seen_working_is_critical(
        failed_elsewhere: tuple[StageName, ...]) -> None:
    reports = [make_report(endpoint="spot", fail=stage, kind=ErrorKind.REFUSED)
               for stage in failed_elsewhere]
    matrix = build_matrix([*reports, interrupted("usdm", at=StageName.DNS)])
    assert matrix.verdict.text.startswith("interrupted by SIGINT: usdm did not finish")
    assert (matrix.verdict.status, matrix.verdict.exit_code) == (OverallStatus.FAILED,
                                                                 ExitCode.CRITICAL)
    assert matrix.verdict.working == ()
    assert matrix.verdict.failing == tuple(r.target.endpoint for r in reports)


# --- a signal while one endpoint hangs -------------------------------------------------

EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}
LAST_LINES = {signal.SIGINT: "binance-diag: interrupted",
              signal.SIGTERM: "binance-diag: terminated"}


@pytest.fixture(scope="module")
def certs() -> CertificateAuthority:
    return CertificateAuthority()


@pytest.fixture
def working_and_hanging(certs: CertificateAuthority) -> Iterator[tuple[Scenario, Scenario]]:
    """Two loopback peers sharing one CA: one healthy, one holding the TLS handshake open."""
    with start_fault("healthy", certs=certs) as good, \
            start_fault("tls-hang", certs=certs) as hang:
        yield good, hang


def cli_env() -> dict[str, str]:
    """No proxy variables (the probe goes direct) and no step summary."""
    return {k: v for k, v in os.environ.items()
            if "proxy" not in k.lower() and k != "GITHUB_STEP_SUMMARY"}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_prints_the_partial_matrix_then_exits_130_or_143(
        working_and_hanging: tuple[Scenario, Scenario], signum: signal.Signals) -> None:
    good, hang = working_and_hanging
    assert good.server is not None and hang.server is not None and good.ca_bundle is not None
    process = subprocess.Popen(
        [sys.executable, "-m", "binance_diag", "probe", "BTCUSDT",
         "--endpoint", good.url_base, "--endpoint", hang.url_base,
         "--resolve", good.resolve[0], "--resolve", hang.resolve[0],
         "--ca-bundle", str(good.ca_bundle), "--timeout", "30", "--format", "json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env())
    try:
        # Both probes under way: the good one upgraded, the other one hangs in TLS.
        assert good.server.wait_for(lambda s: bool(s.requests), 20_000 * MS)
        assert hang.server.wait_for(lambda s: bool(s.connections), 20_000 * MS)
        time.sleep(1000 * MS)  # the good probe reads its first message and ends
        signalled = time.monotonic()
        process.send_signal(signum)
        out, err = process.communicate(timeout=15_000 * MS)
        took = time.monotonic() - signalled
    finally:
        if process.poll() is None:
            process.kill()  # our own child, by its handle
            process.communicate()
    assert process.returncode == EXIT_CODES[signum], err
    assert "Traceback" not in err and "never retrieved" not in err, err
    assert err.strip().splitlines()[-1] == LAST_LINES[signum]
    assert took < 5000 * MS, f"{took:.2f} s from the signal to the exit"
    document = validated_matrix(out)
    assert document["verdict"].startswith(
        f"interrupted by {signum.name}: {hang.url_base} did not finish; "), document["verdict"]
    assert document["working"] == [good.url_base]
    assert document["failing"] == []
    assert document["status"] == "degraded"
    first, second = document["endpoints"]
    assert first["works"] is True
    assert first["cells"]["first_message"]["status"] == "ok"
    assert second["works"] is False and second["root_cause"] is None
    assert second["cells"]["tcp"]["status"] == "ok"
    assert second["cells"]["tls"] == {"status": "skipped", "duration_ms": None,
                                      "error_kind": None, "text": "interrupted"}
    stages = {s["name"]: s for s in document["reports"][1]["stages"]}
    assert stages["tls"]["details"]["interrupted"] == signum.name
    assert stages["first_message"]["details"]["reason"] == (
        f"not reached: the run was interrupted by {signum.name}")


# --- the publishing budget -------------------------------------------------------------

STUCK_RENDERER = """
import sys, time
from binance_diag.run import matrix
def stuck(self, formatter, stream):
    time.sleep(3600)  # a renderer that never returns
matrix.MatrixDelivery.show = stuck
sys.argv = ["binance-diag", "probe", "BTCUSDT", "--endpoint", "ws://127.0.0.1:{0}",
            "--endpoint", "ws://127.0.0.1:{1}", "--timeout", "0.2", "--no-experiments",
            "--format", "json"]
from binance_diag.entry import main
main()
"""


@pytest.mark.timeout(60)
def test_a_matrix_that_cannot_be_rendered_is_ended_by_the_backstop() -> None:
    from tests.commands.helpers import closed_loopback_port

    code = STUCK_RENDERER.format(closed_loopback_port(), closed_loopback_port())
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=40_000 * MS, check=False, env=cli_env())
    took = time.monotonic() - started
    # The budget: 5 stages of 0.2 s, the grace, the report allowance, the backstop margin.
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("Timeout ("), result.stderr
    assert "in stuck" in result.stderr
    assert took < 20_000 * MS, f"{took:.2f} s"
