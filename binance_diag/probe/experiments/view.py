"""What the experiments know of the run, and where they may go: pure.

The network rule of experiments: same target only. An experiment reuses the run's own
addresses (`--resolve` pins, the addresses the dns stage found, the hosts file) and its
proxy; it never asks DNS a question the run did not ask. Another port or host is reached
only when the run's configuration already says where it is (a pin, a proxy that resolves
names itself, or an address that does not depend on the port), and only for Binance hosts.
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from dataclasses import dataclass

from ...addresses import hostport, is_ip_literal
from ...config.endpoints import is_binance_host
from ...config.probe import ProbeConfig
from ...config.proxies import Proxy
from ...model import JSON, StageName, StageResult, StageStatus
from .shell import Route

MARKET_DATA = ("data-stream.binance.vision", 443)
"""Binance's market-data-only host (public streams, no account features)."""
OTHER_PORTS = {9443: 443, 443: 9443}
ATTEMPT_FLOOR_S = 1.0
"""The shortest wait for an attempt's answer, whatever the round-trip time."""
ROUND_TRIPS = 20
"""An attempt waits this many of the run's TCP round trips for an answer (at least the
floor): a server that answers does so in a few."""


class NoRoute(str):
    """Why an experiment cannot reach where it would go: its "not run" reason."""


@dataclass(frozen=True)
class RunView:
    """The finished stages, and what the run had in hand when they ended."""

    config: ProbeConfig
    stages: tuple[StageResult, ...]
    addresses: tuple[str, ...] = ()
    """The target's addresses as the dns stage left them (pins included)."""
    peer: tuple[str, int] | None = None
    """Where the main connection went (the proxy, when there is one)."""
    response: bytes = b""
    """Every byte the upgrade received, when it was refused."""
    tls_context: ssl.SSLContext | None = None

    @property
    def failed(self) -> StageResult | None:
        for stage in self.stages:
            if stage.status in (StageStatus.FAILED, StageStatus.TIMEOUT):
                return stage
        return None

    def stage(self, name: StageName) -> StageResult | None:
        return next((s for s in self.stages if s.name is name), None)

    def details(self, name: StageName) -> dict[str, JSON]:
        stage = self.stage(name)
        return dict(stage.details) if stage is not None else {}

    @property
    def proxy(self) -> Proxy | None:
        choice = self.config.proxy
        return choice.proxy if choice is not None else None

    @property
    def target_route(self) -> Route | NoRoute:
        """The target as the run reached it (through its proxy, if any)."""
        target = self.config.target
        return self.route_to(target.host, target.port)

    @property
    def binance(self) -> bool:
        return is_binance_host(self.config.target.host)

    def route_to(self, host: str, port: int, direct: bool = False) -> Route | NoRoute:
        """How to reach `host:port` the way the run would, or why not without asking DNS."""
        proxy = None if direct else self.proxy
        if proxy is not None and proxy.remote_dns:
            return Route(host, port, None, proxy)  # the proxy resolves, as for the run
        address = self.address_of(host, port)
        if isinstance(address, NoRoute):
            return address
        return Route(host, port, address, proxy)

    def address_of(self, host: str, port: int) -> str | NoRoute:
        target = self.config.target
        pinned = self.config.resolve.get((host.lower(), port)) or \
            self.config.resolve.get((host, port))
        if pinned:
            return pinned[0]
        if is_ip_literal(host):
            return host
        if host == target.host:
            known = self._target_address()
            source = self.details(StageName.DNS).get("source")
            # DNS and the hosts file answer for a name, whatever the port; a pin does not.
            if known and (port == target.port or source in ("dns", "hosts-file")):
                return known
        return NoRoute(f"not run: no address for {hostport(host, port)} without asking "
                       "DNS a question the run did not ask")

    def _target_address(self) -> str | None:
        if self.peer is not None and self.proxy is None:
            return self.peer[0]
        return self.addresses[0] if self.addresses else None

    def attempt_budget(self) -> float:
        """How long one attempt waits for an answer: ROUND_TRIPS x the run's TCP connect
        time (the proxy's, through one), at least ATTEMPT_FLOOR_S."""
        connect = self.details(StageName.TCP).get("connect_ms")
        if not isinstance(connect, int | float):
            proxy = self.stage(StageName.PROXY)
            connect = proxy.duration_ms if proxy is not None else None
        rtt_s = float(connect) / 1000 if isinstance(connect, int | float) else 0.0
        return max(ATTEMPT_FLOOR_S, ROUND_TRIPS * rtt_s)


def other_port(view: RunView) -> int | None:
    """The other Binance port of the target, when it is a Binance host on 443 or 9443."""
    target = view.config.target
    if not view.binance:
        return None
    return OTHER_PORTS.get(target.port)


def first_answered(attempts: Sequence[tuple[str, bool]]) -> str | None:
    """The label of the first attempt that was answered, from (label, answered) pairs."""
    return next((label for label, answered in attempts if answered), None)
