"""Run the real probe against local peers and check every report against the schema."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from binance_diag.config.endpoints import build_target
from binance_diag.config.hosts import parse_nameserver, parse_resolve
from binance_diag.config.probe import ProbeConfig
from binance_diag.config.proxies import ProxyChoice, parse_proxy_url
from binance_diag.config.timeouts import Timeouts
from binance_diag.model import JSON, ProbeReport, StageName, StageResult, StageStatus
from binance_diag.probe.base import ProbeState, StageOutcome, Tracer
from binance_diag.probe.runner import STAGES, StageFunction, StagePlan, run_probe
from binance_diag.simulate.scenario import Scenario
from binance_diag.timing import Deadline
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


def config_for(scenario: Scenario, symbols: Sequence[str] = ("BTCUSDT",)) -> ProbeConfig:
    """The configuration that reaches `scenario` the way a user reaches Binance."""
    return make_config(
        scenario.url_base, symbols, resolve=scenario.resolve, resolvers=scenario.nameservers,
        ca_bundle=scenario.ca_bundle, proxy=scenario.proxy_url,
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


@dataclass
class Chain:
    """What `run_stages` saw: each stage's own outcome, the timeline's texts, `then`'s result."""

    outcomes: list[StageOutcome]
    events: list[str]
    state: ProbeState
    then: dict[str, JSON] | None = None

    @property
    def last(self) -> StageOutcome:
        return self.outcomes[-1]


def run_stages(config: ProbeConfig, functions: Sequence[StageFunction],
               then: Callable[[ProbeState], Awaitable[dict[str, JSON]]] | None = None) -> Chain:
    """Call stage functions directly, in order, each under its own budget from the config,
    without the runner's supervision: what one stage's module does, not the whole probe.
    Stops at the first stage that does not pass; `then` runs on the open connection after
    the last stage passed (e.g. `hold_stream`)."""
    names = {function: name for name, function in STAGES}

    async def chain() -> Chain:
        state, tracer = ProbeState(), Tracer()
        result = Chain([], [], state)
        try:
            for function in functions:
                tracer.stage = names[function]
                budget = getattr(config.timeouts, names[function].value)
                outcome = await function(config, state, tracer, Deadline(budget))
                result.outcomes.append(outcome)
                if outcome.status is not StageStatus.OK:
                    break
            else:
                if then is not None:
                    result.then = await then(state)
        finally:
            state.close()
        result.events = [event.event for event in tracer.events]
        return result

    return asyncio.run(chain())
