"""binance_diag/api.py: `probe` / `probe_async` as a library user calls them, against the
loopback simulator; the report's dict against the shipped schema; docs/library.md's example."""

from __future__ import annotations

import asyncio
import logging
import re

import pytest

from binance_diag import ConfigError, DiagnosedReport, probe, probe_async
from binance_diag.model import ErrorKind, OverallStatus, StageName
from binance_diag.simulate.scenario import Scenario, start_fault
from tests.schema_check import VALIDATOR
from tests.utils import ROOT, run_python


def reach(fake: Scenario) -> dict[str, object]:
    return {"endpoint": fake.url_base, "resolve": fake.resolve, "ca_bundle": fake.ca_bundle}


@pytest.mark.timeout(30)
def test_probe_returns_a_diagnosed_report_valid_against_the_schema() -> None:
    with start_fault("http-451") as fake:
        report = probe("BTCUSDT", timeout=2, **reach(fake))  # type: ignore[arg-type]
    assert isinstance(report, DiagnosedReport)
    assert report.status is OverallStatus.FAILED and report.exit_code == 2 and not report.ok
    failed = report.failed_stage
    assert failed is not None and failed.name is StageName.WS_UPGRADE
    assert failed.error is not None and failed.error.kind is ErrorKind.HTTP_STATUS
    assert report.findings[0].id == "upgrade.restricted_location"
    document = report.to_dict()
    VALIDATOR.validate(document)
    assert document["failed_stage"] == "ws_upgrade"
    assert report.render("nagios").startswith("BINANCE-DIAG CRITICAL: ")
    # The report quotes the CLI line that reproduces it (for its re-run actions).
    assert report.command.startswith("binance-diag probe BTCUSDT --endpoint wss://")
    assert "--timeout 2 --resolve stream.binance.com:" in report.command


@pytest.mark.timeout(30)
def test_probe_async_runs_in_the_callers_loop_and_measures_it() -> None:
    async def main() -> DiagnosedReport:
        with start_fault("healthy") as fake:
            return await probe_async(["BTCUSDT", "ETHUSDT"], timeout=2,
                                     warn=["first_message=5000"],
                                     **reach(fake))  # type: ignore[arg-type]

    report = asyncio.run(main())
    assert report.failed_stage is None
    assert report.target.symbols == ("BTCUSDT", "ETHUSDT")
    assert report.loop.monitored and report.loop.heartbeats >= 1
    assert report.thresholds.warn == {StageName.FIRST_MESSAGE: 5000.0}
    VALIDATOR.validate(report.to_dict())


@pytest.mark.timeout(30)
def test_sync_probe_inside_a_running_loop_says_to_await_probe_async() -> None:
    async def main() -> None:
        with pytest.raises(RuntimeError, match="await binance_diag.probe_async"):
            probe("BTCUSDT", endpoint="ws://127.0.0.1:9")

    asyncio.run(main())


@pytest.mark.parametrize(("options", "message"), [
    ({"endpoint": "spot,usdm"}, "takes one endpoint, not 2"),
    ({"endpoint": "ws://127.0.0.1:9", "families": (4, 6)}, "families must be"),
    ({"endpoint": "ws://127.0.0.1:9", "warn": ["tls"]}, "STAGE=MS"),
    ({"endpoint": "ws://127.0.0.1:9", "timeout": -1}, "timeout"),
])
def test_bad_options_raise_config_error_before_any_packet(options: dict[str, object],
                                                          message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        probe("BTCUSDT", **options)  # type: ignore[arg-type]


@pytest.mark.timeout(30)
def test_options_that_will_not_act_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    with start_fault("healthy") as fake, caplog.at_level(logging.WARNING, "binance_diag"):
        probe("BTCUSDT", endpoint=fake.url_base, ca_bundle=fake.ca_bundle, timeout=1,
              resolve=[*fake.resolve, "stream.binance.com:1:127.0.0.1"])
    assert any("matches no endpoint probed" in r.getMessage() for r in caplog.records)


def test_package_attribute_stays_the_function_after_the_subpackage_loads() -> None:
    import binance_diag.probe.runner  # noqa: F401 - the subpackage, loaded

    assert binance_diag.probe is probe and probe.__name__ == "probe"
    assert callable(binance_diag.probe)


@pytest.mark.timeout(30)
def test_importing_the_package_and_naming_the_api_loads_nothing_heavy() -> None:
    process, _ = run_python("""
        import sys
        import binance_diag
        heavy = {"asyncio", "websockets", "typer", "binance_diag.api"} & set(sys.modules)
        assert not heavy, heavy
        from binance_diag import probe
        assert probe.__name__ == "probe"
        assert "typer" not in sys.modules
    """, timeout=30)
    assert process.returncode == 0, process.stderr


@pytest.mark.timeout(60)
def test_the_library_doc_example_runs_as_documented() -> None:
    text = (ROOT / "docs" / "library.md").read_text(encoding="utf-8")
    (example,) = [block for block in re.findall(r"```python\n(.*?)```", text, re.S)
                  if "start_fault" in block]
    process, _ = run_python(example, timeout=50)
    assert process.returncode == 0, process.stderr
    expected = [line.split("  # ")[-1] for line in example.splitlines()
                if line.startswith("print(") or line.startswith("asyncio.run(")]
    expected = [e.replace(" / ", "\n") for e in expected if "#" not in e]
    assert process.stdout.splitlines() == "\n".join(expected).splitlines()
