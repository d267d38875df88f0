"""The library: `binance_diag.probe(...)` and `await binance_diag.probe_async(...)`.

One probe with the options of `binance-diag probe` (checked by the same
`config.options.build_probe_setup`), run by the same stage runner, diagnosed by the same
rules, and returned as a `DiagnosedReport`: the typed report, plus `to_dict()` (the JSON
contract, valid against `binance-diag schema probe`), `exit_code` and `render(format)`.

What stays with the CLI: printing, files, and the hard deadline that ends the *process* when
the event loop is blocked (a library must not exit its caller). The stages are still
supervised from inside the loop, so a stage never outlives its timeout by more than a small
grace, and a `LoopWatchdog` measures the loop during the probe (`report.loop`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import os
from collections.abc import Callable, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any, ParamSpec, Self, TypeVar

from .config.errors import ConfigError
from .config.options import ProbeOptions, build_probe_setup
from .exitcodes import ExitCode, exit_code_for
from .model import OverallStatus, ProbeReport

LOGGER = logging.getLogger("binance_diag")
"""Options that will not act (a --resolve no endpoint uses...) are logged here as warnings."""

__all__ = ["ConfigError", "DiagnosedReport", "probe", "probe_async"]


@dataclasses.dataclass(frozen=True)
class DiagnosedReport(ProbeReport):
    """A probe's report with its findings filled in: every field of `ProbeReport`, and the
    ways out of it (`to_dict`, `to_json`, `render`)."""

    @classmethod
    def of(cls, report: ProbeReport) -> Self:
        return cls(**{f.name: getattr(report, f.name) for f in dataclasses.fields(report)})

    @property
    def exit_code(self) -> ExitCode:
        """What `binance-diag probe` would exit with (0 OK, 1 WARNING, 2 CRITICAL)."""
        return exit_code_for(self)

    @property
    def ok(self) -> bool:
        return self.status is OverallStatus.OK

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract (`binance-diag/probe/1`), as `--format json` prints it."""
        from .render.json import report_to_dict

        return report_to_dict(self)

    def to_json(self) -> str:
        from .render.json import render_json

        return render_json(self)

    def render(self, output_format: str = "markdown") -> str:
        """The report in one of `--format`'s formats: markdown, json, junit, nagios, rich."""
        from .render.formats import OutputFormat, formatter_for

        return formatter_for(OutputFormat(output_format)).format(self)


async def probe_async(
    symbols: str | Sequence[str],
    *,
    endpoint: str = "spot",
    stream: str = "aggTrade",
    timeout: float | None = None,
    dns_timeout: float | None = None,
    connect_timeout: float | None = None,
    tls_timeout: float | None = None,
    upgrade_timeout: float | None = None,
    message_timeout: float | None = None,
    resolve: Sequence[str] = (),
    resolver: Sequence[str] = (),
    compare_resolvers: Sequence[str] = (),
    ca_bundle: str | Path | None = None,
    proxy: str | None = None,
    no_proxy: bool = False,
    families: Sequence[int] = (),
    duration: float | None = None,
    warn: Sequence[str] = (),
    crit: Sequence[str] = (),
    environ: Mapping[str, str] | None = None,
) -> DiagnosedReport:
    """Probe one endpoint from the running event loop; the diagnosed report.

    Options are those of `binance-diag probe`, in the CLI's syntax (`resolve=
    ["stream.binance.com:9443:127.0.0.1"]`, `resolver=["1.1.1.1"]`, `warn=["tls=500"]`,
    `families=(4,)` for `-4`). `environ` (default `os.environ`) gives the proxy variables.
    Bad options raise `ConfigError` (a `ValueError`) before any packet is sent; network
    failures never raise: they are the report.
    """
    from .diagnose import diagnose_report
    from .diagnose.thresholds import parse_thresholds
    from .probe.base import Tracer
    from .probe.runner import run_probe
    from .watchdog.loop import LoopWatchdog

    setup = build_probe_setup(ProbeOptions(
        symbols=[symbols] if isinstance(symbols, str) else list(symbols), stream=stream,
        endpoints=[endpoint], resolvers=resolver, compare_resolvers=compare_resolvers,
        resolve=resolve, ca_bundle=None if ca_bundle is None else str(ca_bundle),
        timeout=timeout, dns_timeout=dns_timeout, connect_timeout=connect_timeout,
        tls_timeout=tls_timeout, upgrade_timeout=upgrade_timeout,
        message_timeout=message_timeout, duration=duration, families=families, proxy=proxy,
        no_proxy=no_proxy,
    ), os.environ if environ is None else environ)
    if len(setup.configs) != 1:
        raise ConfigError(f"probe() takes one endpoint, not {len(setup.configs)}: call it "
                          "once per endpoint (asyncio.gather runs them side by side)")
    thresholds = parse_thresholds(warn, crit)
    for warning in setup.warnings:
        LOGGER.warning("%s", warning)
    async with LoopWatchdog(logger=None) as watchdog:
        report = await run_probe(setup.configs[0], Tracer(), _command_line(
            [symbols] if isinstance(symbols, str) else symbols,
            endpoint=endpoint, stream=stream, timeout=timeout, dns_timeout=dns_timeout,
            connect_timeout=connect_timeout, tls_timeout=tls_timeout,
            upgrade_timeout=upgrade_timeout, message_timeout=message_timeout, resolve=resolve,
            resolver=resolver, compare_resolvers=compare_resolvers, ca_bundle=ca_bundle,
            proxy=proxy, no_proxy=no_proxy, families=families, duration=duration, warn=warn,
            crit=crit), loop=watchdog.stats)
    return DiagnosedReport.of(diagnose_report(dataclasses.replace(report,
                                                                  thresholds=thresholds)))


P = ParamSpec("P")
T = TypeVar("T")


def _in_a_fresh_loop(function: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, T]:
    @functools.wraps(function)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        from .watchdog.supervise import run_abandoning

        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return run_abandoning(function(*args, **kwargs))
        raise RuntimeError("binance_diag.probe() cannot run inside a running event loop; "
                           "use `await binance_diag.probe_async(...)`")

    return run


probe = _in_a_fresh_loop(probe_async)
probe.__name__ = probe.__qualname__ = "probe"
probe.__doc__ = """`probe_async` in a fresh event loop, for code that has none; same options.

From inside a running loop, `await probe_async(...)` instead (RuntimeError here).
"""

_FLAGS = {"endpoint": "--endpoint", "stream": "--stream", "timeout": "--timeout",
          "dns_timeout": "--dns-timeout", "connect_timeout": "--connect-timeout",
          "tls_timeout": "--tls-timeout", "upgrade_timeout": "--upgrade-timeout",
          "message_timeout": "--message-timeout", "resolve": "--resolve",
          "resolver": "--resolver", "compare_resolvers": "--compare-resolvers",
          "ca_bundle": "--ca-bundle", "proxy": "--proxy", "duration": "--duration",
          "warn": "--warn", "crit": "--crit"}
_DEFAULTS = {"endpoint": "spot", "stream": "aggTrade"}


def _command_line(symbols: Sequence[str], *, no_proxy: bool, families: Sequence[int],
                  **options: Any) -> str:
    """The `binance-diag probe` line with the same options, as the report quotes it and
    builds its re-run actions from; credentials masked as the CLI masks them."""
    import shlex

    from .safety.redact import redact_text

    words = ["probe", *symbols]
    for name, value in options.items():
        values = value if isinstance(value, list | tuple) else [value]
        for one in values:
            if one is not None and one != _DEFAULTS.get(name):
                words += [_FLAGS[name], f"{one:g}" if isinstance(one, float) else str(one)]
    words += ["--no-proxy"] if no_proxy else []
    words += [f"-{family}" for family in families]
    return " ".join(["binance-diag", *(shlex.quote(redact_text(w)) for w in words)])
