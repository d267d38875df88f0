"""One call to stage any catalogued fault: the right peers, certificates and probe arguments.

`start_fault("tls-hang")` yields a `Scenario` that says how to reach it the way a user
reaches Binance: a `wss://stream.binance.com:PORT` URL, made to land on loopback with
curl-style `--resolve` (or, with `dns=True`, a `--resolver` serving the Binance names),
and a `--ca-bundle` trusting the simulated CA.
"""

from __future__ import annotations

import contextlib
import ipaddress
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..addresses import hostport
from ..config.endpoints import build_target
from ..config.hosts import parse_nameserver, parse_resolve
from ..config.probe import ProbeConfig
from ..config.timeouts import Timeouts
from .certs import BINANCE_HOSTNAMES, DEFAULT_HOSTNAMES, CertificateAuthority, CertificateFiles
from .dns_server import DnsMode, DnsServer
from .faults import Fault, get_fault
from .middlebox import Middlebox
from .peer import LOOPBACK_V4, LOOPBACK_V6, check_loopback
from .proxy_server import HttpConnectProxy
from .server import BinanceStreamServer, ServerOptions
from .tcp import BlackholePeer, RefusingPort

DEFAULT_HOSTNAME = "stream.binance.com"


@dataclass(frozen=True)
class Scenario:
    """A running fault and how a probe gets to it. Valid inside `start_fault`'s block."""

    fault: Fault
    hostname: str
    """The name in the URL and the TLS SNI, e.g. stream.binance.com."""
    host: str
    """The address the peer listens on (loopback unless `allow_external`)."""
    port: int
    tls: bool
    path_prefix: str = ""
    ca_bundle: Path | None = None
    """PEM file trusting the simulated CA (`--ca-bundle`); None without TLS."""
    dns_port: int | None = None
    """Port of the DNS server on `host`, when the scenario has one."""
    server: BinanceStreamServer | None = None
    """The stream server (for faults it plays), to assert on what it saw."""
    dns: DnsServer | None = None
    proxy_url: str | None = None
    """`--proxy` for faults played through a proxy (proxy-dead-tunnel)."""
    middlebox: Middlebox | None = None

    @property
    def address(self) -> str:
        """Where a client on this machine connects: `host`, or loopback for 0.0.0.0 / ::."""
        return connect_address(self.host)

    @property
    def url_base(self) -> str:
        """The `--endpoint` to probe, e.g. "wss://stream.binance.com:41234"."""
        scheme = "wss" if self.tls else "ws"
        return f"{scheme}://{self.hostname}:{self.port}{self.path_prefix}"

    @property
    def resolve(self) -> tuple[str, ...]:
        """curl-style `HOST:PORT:ADDR` entries skipping DNS; empty when a resolver is used."""
        if self.dns_port is not None:
            return ()
        return (f"{self.hostname}:{self.port}:{self.address}",)

    @property
    def nameservers(self) -> tuple[str, ...]:
        """`--resolver` values (IP:PORT) reaching the scenario's DNS server, if any."""
        if self.dns_port is None:
            return ()
        return (hostport(self.address, self.dns_port),)

    @property
    def cli_args(self) -> tuple[str, ...]:
        """Arguments for `binance-diag probe SYMBOL ...` that reach this scenario."""
        args = ["--endpoint", self.url_base]
        if self.ca_bundle is not None:
            args += ["--ca-bundle", str(self.ca_bundle)]
        for entry in self.resolve:
            args += ["--resolve", entry]
        for nameserver in self.nameservers:
            args += ["--resolver", nameserver]
        if self.proxy_url is not None:
            args += ["--proxy", self.proxy_url]
        return tuple(args)


@contextlib.contextmanager
def start_fault(
    name: str,
    *,
    tls: bool = True,
    dns: bool = False,
    hostname: str = DEFAULT_HOSTNAME,
    options: ServerOptions | None = None,
    certs: CertificateAuthority | CertificateFiles | None = None,
    host: str = LOOPBACK_V4,
    port: int = 0,
    allow_external: bool = False,
    workdir: Path | None = None,
) -> Iterator[Scenario]:
    """Start the peers for fault `name` (KeyError if unknown) and stop them on exit.

    The CA bundle goes in a fresh directory inside `workdir` (default: the system's temp
    directory): a caller running many scenarios removes them all at once, even on Ctrl-C.

    `dns=True` adds a DNS server answering `hostname` and every Binance preset host with
    `host`, and the scenario gives `--resolver` instead of `--resolve`; `dns-*` faults
    always have one. `certs` lets several scenarios share one CA (certificate generation is
    the slow part); without it, a CA made here also covers `hostname`. With the user's own
    `CertificateFiles` there is no CA bundle to hand out. `port` 0 picks a free one (for
    `dns-*` faults it is the refusing port a probe would wrongly reach).
    """
    fault = get_fault(name)
    host = check_loopback(host, allow_external=allow_external)
    options = options or ServerOptions()
    if fault.requires_tls and not tls:
        raise ValueError(f"fault {name!r} needs tls=True")
    with contextlib.ExitStack() as stack:
        ca_bundle = None
        if tls:
            # Our own CA covers `hostname` too: `--hostname` must not mean a mismatch.
            certs = certs or CertificateAuthority(_unique((hostname, *DEFAULT_HOSTNAMES)))
            if isinstance(certs, CertificateAuthority):
                directory = stack.enter_context(
                    tempfile.TemporaryDirectory(prefix="bdiag-", dir=workdir))
                ca_bundle = certs.write_ca_bundle(Path(directory) / "ca.pem")
        server = None
        box: Middlebox | None = None
        proxy_url: str | None = None
        if fault.peer in ("middlebox", "proxy"):
            # A healthy server behind the middlebox (or the proxy); the probe sees the port
            # of what is in front, as a user would.
            server = stack.enter_context(BinanceStreamServer(
                "healthy", certs=certs if tls else None, options=options, host=host,
                port=0 if fault.peer == "middlebox" else port,
                allow_external=allow_external))
            port = server.port
            if fault.peer == "middlebox":
                policy = {"path-mtu-blackhole": "mtu", "sni-reset": "sni-reset"}.get(
                    name, "sni-silent")
                box = stack.enter_context(Middlebox(policy, server.port, host=host))  # type: ignore[arg-type]
                port = box.port
            else:
                proxy = stack.enter_context(HttpConnectProxy(
                    host, hosts={hostname: connect_address(host)}, dead_tunnels=True))
                proxy_url = proxy.url
        elif fault.peer == "server":
            server = stack.enter_context(
                BinanceStreamServer(
                    name, certs=certs if tls else None, options=options, host=host, port=port,
                    allow_external=allow_external,
                )
            )
            port = server.port
        elif fault.peer == "blackhole":
            port = stack.enter_context(
                BlackholePeer(host, port, allow_external=allow_external)).port
        else:  # "refused", and "dns": a probe that wrongly gets past DNS is refused
            port = stack.enter_context(
                RefusingPort(host, port, allow_external=allow_external)).port
        dns_server = None
        if dns or fault.peer == "dns":
            mode = DnsMode(fault.dns_mode) if fault.dns_mode else DnsMode.ANSWER
            answer = [connect_address(host)]
            dns_server = stack.enter_context(DnsServer(
                {name: answer for name in _unique((hostname, *BINANCE_HOSTNAMES))},
                mode=mode, host=host,
                allow_external=allow_external,
            ))
        yield Scenario(
            fault=fault,
            hostname=hostname,
            host=host,
            port=port,
            tls=tls,
            path_prefix=options.path_prefix.rstrip("/"),
            ca_bundle=ca_bundle,
            dns_port=dns_server.port if dns_server is not None else None,
            server=server,
            dns=dns_server,
            proxy_url=proxy_url,
            middlebox=box,
        )


def _unique(names: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(name.lower().rstrip(".") for name in names))


def connect_address(host: str) -> str:
    """The address to connect to for a listener on `host`: loopback for a wildcard bind."""
    address = ipaddress.ip_address(host.strip("[]"))
    if address.is_unspecified:
        return LOOPBACK_V6 if address.version == 6 else LOOPBACK_V4
    return str(address)


def probe_config(
    scenario: Scenario, timeouts: Timeouts, symbols: Sequence[str] = ("BTCUSDT",),
    stream: str = "aggTrade",
) -> ProbeConfig:
    """The probe configuration `binance-diag probe SYMBOL *scenario.cli_args` builds:
    the endpoint, --resolve or --resolver, --ca-bundle, and --proxy when it has one."""
    proxy = None
    if scenario.proxy_url is not None:
        from ..config.proxies import ProxyChoice, parse_proxy_url

        proxy = ProxyChoice(parse_proxy_url(scenario.proxy_url), "--proxy")
    return ProbeConfig(
        proxy=proxy,
        target=build_target(symbols, stream, scenario.url_base),
        timeouts=timeouts,
        nameservers=tuple(parse_nameserver(r) for r in scenario.nameservers),
        resolve=parse_resolve(scenario.resolve),
        ca_bundle=scenario.ca_bundle,
    )
