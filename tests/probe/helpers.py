"""Run the real probe against local peers and check every report against the schema."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from binance_diag.config.endpoints import build_target
from binance_diag.config.hosts import parse_nameserver, parse_resolve
from binance_diag.config.probe import ProbeConfig
from binance_diag.config.proxies import ProxyChoice, parse_proxy_url
from binance_diag.config.timeouts import Timeouts
from binance_diag.model import ProbeReport, StageName, StageResult
from binance_diag.probe.runner import STAGES, StagePlan, run_probe
from tests.schema_check import validated_json
from tests.utils import MS

FAST = Timeouts(dns=1000 * MS, proxy=1000 * MS, tcp=1000 * MS, tls=1000 * MS,
                ws_upgrade=1000 * MS, first_message=1500 * MS)
"""Short budgets for tests against loopback peers: a healthy stage takes milliseconds."""


def make_config(
    endpoint: str,
    symbols: Sequence[str] = ("BTCUSDT",),
    *,
    resolve: Sequence[str] = (),
    resolvers: Sequence[str] = (),
    ca_bundle: Path | None = None,
    timeouts: Timeouts = FAST,
    proxy: str | None = None,
) -> ProbeConfig:
    return ProbeConfig(
        target=build_target(symbols, "aggTrade", endpoint),
        timeouts=timeouts,
        nameservers=tuple(parse_nameserver(r) for r in resolvers),
        resolve=parse_resolve(resolve),
        ca_bundle=ca_bundle,
        proxy=ProxyChoice(parse_proxy_url(proxy), "--proxy") if proxy else None,
    )


def probe(config: ProbeConfig, stages: StagePlan = STAGES) -> ProbeReport:
    """Run the probe in a fresh event loop, as the CLI does, and validate its JSON."""
    report = asyncio.run(run_probe(config, stages=stages))
    validated_json(report)
    return report


def stage(report: ProbeReport, name: StageName) -> StageResult:
    result = report.stage(name)
    assert result is not None, f"no {name} stage in the report"
    return result


def failure(report: ProbeReport) -> tuple[str, str]:
    """(failed stage, error kind) — the one thing most tests assert."""
    failed = report.failed_stage
    assert failed is not None, "expected a failure, every stage passed"
    assert failed.error is not None
    return failed.name.value, failed.error.kind.value
