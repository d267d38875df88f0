"""One probe's whole configuration, and the warnings about options that will not act."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..addresses import bracketed
from ..model import Target
from .errors import ConfigError
from .hosts import Nameserver
from .timeouts import Timeouts

if TYPE_CHECKING:
    from .proxies import ProxyChoice


USER_AGENT_PRODUCT = "binance-diag"


HOSTS_FILE = Path("/etc/hosts")
"""What getaddrinfo reads before DNS; dnspython does not, so the `dns` stage reports it."""


@dataclass(frozen=True)
class ProbeConfig:
    target: Target
    timeouts: Timeouts = field(default_factory=Timeouts)
    nameservers: tuple[Nameserver, ...] = ()
    """Empty means the system's resolver configuration."""
    compare_resolvers: tuple[Nameserver, ...] = ()
    """`--compare-resolvers`: also ask these, and compare their answers with the main one."""
    resolve: Mapping[tuple[str, int], tuple[str, ...]] = field(default_factory=dict)
    """curl-style `--resolve HOST:PORT:ADDR` overrides that skip DNS."""
    ca_bundle: Path | None = None
    user_agent: str = USER_AGENT_PRODUCT
    hold: float | None = None
    """`--duration S`: keep the stream open this long after the first message."""
    families: tuple[int, ...] = ()
    """IP versions to connect over (`-4` / `-6`); empty means every family resolved."""
    proxy: ProxyChoice | None = None
    """The proxy decision (`--proxy`, `--no-proxy` or the environment); None: not looked at."""
    hosts_file: Path = HOSTS_FILE
    """Where the `dns` stage looks for entries that override DNS for ordinary clients."""
    experiments: float | None = None
    """`--experiments-timeout S`: the budget of the follow-up experiments after a failure
    or a slow stage (probe/experiments/); None (`--no-experiments`, and the library's
    default) runs none."""


def resolve_warnings(resolve: Mapping[tuple[str, int], tuple[str, ...]],
                     targets: Sequence[Target]) -> list[str]:
    """One line per --resolve entry no target connects to. curl ignores those silently,
    which hides a wrong port (443 for 9443); the CLI warns, and still runs."""
    wanted = {(t.host, t.port) for t in targets}
    probed = ", ".join(f"{bracketed(t.host)}:{t.port}" for t in targets)
    return [f"--resolve {bracketed(host)}:{port} matches no endpoint probed ({probed}): "
            "ignored, as curl does" for host, port in resolve if (host, port) not in wanted]


def remote_dns_warnings(configs: Iterable[ProbeConfig]) -> list[str]:
    """`--resolve` and `--resolver` pins that a proxy which resolves names itself (HTTP
    CONNECT, socks5h) makes moot: the user must not believe the pinned address was probed."""
    warnings = []
    for config in configs:
        proxy = config.proxy.proxy if config.proxy else None
        if proxy is None or not proxy.remote_dns:
            continue
        target = config.target
        pinned = [f"--resolve {target.host}:{target.port}"] if \
            (target.host, target.port) in config.resolve else []
        pinned += ["--resolver"] if config.nameservers else []
        if pinned:
            verb = "have" if len(pinned) > 1 else "has"
            warnings.append(f"{' and '.join(pinned)} {verb} no effect through the "
                            f"{proxy.scheme} proxy: it resolves {target.host} itself "
                            "(--no-proxy to connect directly, or socks5:// to resolve here)")
    return warnings


DEFAULT_EXPERIMENTS_TIMEOUT = 3.0
"""Seconds the follow-up experiments may take after a failure (`--experiments-timeout`)."""


def parse_experiments(timeout: float | None, off: bool) -> float | None:
    """The experiments budget from `--experiments-timeout S` / `--no-experiments`."""
    from .timeouts import parse_timeout

    if off:
        if timeout is not None:
            raise ConfigError("--no-experiments and --experiments-timeout exclude each other")
        return None
    return parse_timeout(timeout, "--experiments-timeout") or DEFAULT_EXPERIMENTS_TIMEOUT


def parse_families(ipv4: bool, ipv6: bool) -> tuple[int, ...]:
    if ipv4 and ipv6:
        raise ConfigError("-4 and -6 exclude each other; give neither to try both families")
    return (4,) if ipv4 else (6,) if ipv6 else ()
