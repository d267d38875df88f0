"""docs/prometheus: the alert rules pass promtool, the dashboard is JSON that graphs metrics
the exporter really exports, and the docs name every metric."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from prometheus_client.registry import CollectorRegistry

from binance_diag.exporter.metrics import probe_registry
from binance_diag.exporter.probing import ProbeSlots
from binance_diag.exporter.selfmetrics import ExporterMetrics
from binance_diag.exporter.watching import HeldFigures
from binance_diag.exporter.watchmetrics import WatchCollector
from binance_diag.model import ErrorKind, LoopStats, StageName
from tests.reports import make_report
from tests.utils import ROOT

pytestmark = pytest.mark.timeout(30)
DOCS = ROOT / "docs" / "prometheus"
PROMQL_BUILTINS = {"sum", "by", "count", "or", "vector", "min", "max", "time", "rate",
                   "avg_over_time", "max_over_time", "label_values", "up", "humanizeDuration",
                   "increase"}


def exported_names() -> set[str]:
    names = set()
    for report in (make_report(loop=LoopStats(max_lag_ms=1, monitored=True)),
                   make_report(fail=StageName.TLS, kind=ErrorKind.TIMEOUT)):
        text = generate_latest(probe_registry(report, 1.0)).decode()
        names |= set(re.findall(r"^# TYPE (\S+)", text, re.M))
    own = generate_latest(ExporterMetrics(ProbeSlots(1)).registry).decode()
    held = HeldFigures("btc", ("BTCUSDT",), "wss://x", True, 1, 0.1, 10.0, 0, 0, {})
    live = CollectorRegistry(auto_describe=False)
    live.register(WatchCollector(lambda: [held]))
    own += generate_latest(live).decode()
    names |= {n.removesuffix("_total") + ("_total" if t == "counter" else "")
              for n, t in re.findall(r"^# TYPE (\S+) (\S+)", own, re.M)}
    return names


def metric_names(expression: str) -> set[str]:
    return {name for name in re.findall(r"\b([a-z_]+(?:_[a-z]+)+|up)\b(?=\s*[{\[)=<>-]|$)",
                                        expression)
            if name not in PROMQL_BUILTINS and not name.startswith("__")}


@pytest.mark.skipif(shutil.which("promtool") is None,
                    reason="no promtool binary (apt-get install prometheus)")
def test_promtool_checks_the_alert_rules() -> None:
    checked = subprocess.run(["promtool", "check", "rules", str(DOCS / "alerts.yml")],
                             capture_output=True, text=True, timeout=30, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 8 rules found" in checked.stdout


def test_the_dashboard_graphs_exported_metrics() -> None:
    dashboard = json.loads((DOCS / "dashboard.json").read_text())
    exported = exported_names()
    used = set()
    for panel in dashboard["panels"]:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            used |= metric_names(target["expr"])
    assert used and used <= exported, used - exported
    assert {"probe_success", "probe_binance_stage_duration_seconds",
            "probe_binance_failure", "binance_watch_stalls_total",
            "binance_watch_last_message_age_seconds"} <= used


def test_the_alerts_use_exported_metrics() -> None:
    text = (DOCS / "alerts.yml").read_text()
    used = {n for line in re.findall(r"expr: (.*)", text) for n in metric_names(line)}
    assert used - {"up"} <= exported_names(), used - exported_names()
    assert "binance_watch_stalls_total" in used


def test_the_guide_names_every_metric() -> None:
    guide = (ROOT / "docs" / "prometheus.md").read_text()
    missing = {n for n in exported_names()
               if n.startswith(("probe_", "binance_watch_")) and n not in guide}
    assert not missing


@pytest.mark.skipif(shutil.which("promtool") is None,
                    reason="no promtool binary (apt-get install prometheus)")
def test_promtool_checks_the_guides_scrape_config(tmp_path: Path) -> None:
    guide = (ROOT / "docs" / "prometheus.md").read_text()
    [config] = [block for block in re.findall(r"```yaml\n(.*?)```", guide, re.S)
                if "scrape_configs" in block]
    path = tmp_path / "prometheus.yml"
    path.write_text(config)
    checked = subprocess.run(["promtool", "check", "config", str(path)], capture_output=True,
                             text=True, timeout=30, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
