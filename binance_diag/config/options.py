"""A probe's options as a user gives them - on the command line or to the library - checked
and turned into one `ProbeConfig` per endpoint, with the warnings about options that will
not act. One path, so `binance-diag probe` and `binance_diag.probe()` cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from .ca_bundle import parse_ca_bundle
from .endpoints import build_target, parse_endpoints, url_warnings
from .errors import ConfigError
from .hosts import parse_nameserver, parse_resolve
from .probe import ProbeConfig, remote_dns_warnings, resolve_warnings
from .proxies import select_proxy
from .timeouts import build_timeouts, parse_timeout


@dataclass(frozen=True)
class ProbeOptions:
    """What `binance-diag probe` takes, unparsed: strings as typed, None for "not given"."""

    symbols: Sequence[str]
    stream: str = "aggTrade"
    endpoints: Sequence[str] = ("spot",)
    """Presets or ws:// / wss:// base URLs; comma-separated lists and `all` allowed."""
    resolvers: Sequence[str] = ()
    compare_resolvers: Sequence[str] = ()
    resolve: Sequence[str] = ()
    ca_bundle: str | None = None
    timeout: float | None = None
    dns_timeout: float | None = None
    connect_timeout: float | None = None
    tls_timeout: float | None = None
    upgrade_timeout: float | None = None
    message_timeout: float | None = None
    duration: float | None = None
    families: Sequence[int] = ()
    """IP versions to connect over: (4,), (6,), or () for every family resolved."""
    proxy: str | None = None
    no_proxy: bool = False


@dataclass(frozen=True)
class ProbeSetup:
    """The checked options: one configuration per endpoint, and what to warn about."""

    configs: tuple[ProbeConfig, ...]
    warnings: tuple[str, ...]


def build_probe_setup(options: ProbeOptions, environ: Mapping[str, str]) -> ProbeSetup:
    """Check every option before the first packet (ConfigError: exit 3 for the CLI).

    `environ` gives the proxy variables (HTTPS_PROXY, ALL_PROXY, NO_PROXY).
    """
    families = tuple(options.families)
    if any(family not in (4, 6) for family in families) or len(set(families)) > 1:
        raise ConfigError(f"families must be (4,), (6,) or () for both, not {families!r}")
    endpoints = parse_endpoints(list(options.endpoints) or ["spot"])
    targets = [build_target(options.symbols, options.stream, e) for e in endpoints]
    config = ProbeConfig(
        target=targets[0],
        timeouts=build_timeouts(
            options.timeout, dns=options.dns_timeout, connect=options.connect_timeout,
            tls=options.tls_timeout, upgrade=options.upgrade_timeout,
            message=options.message_timeout,
        ),
        nameservers=tuple(parse_nameserver(r) for r in options.resolvers),
        compare_resolvers=tuple(parse_nameserver(r, "--compare-resolvers")
                                for r in options.compare_resolvers),
        resolve=parse_resolve(options.resolve),
        ca_bundle=parse_ca_bundle(options.ca_bundle),
        families=families,
        hold=parse_timeout(options.duration, "--duration"),
    )
    configs = tuple(replace(config, target=t, proxy=select_proxy(
        t.host, t.port, t.secure, environ, options.proxy, options.no_proxy)) for t in targets)
    warnings = (*resolve_warnings(config.resolve, targets), *remote_dns_warnings(configs),
                *url_warnings(targets[:1]))
    return ProbeSetup(configs, tuple(warnings))
