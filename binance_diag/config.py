"""Turning what the user typed into a frozen, validated probe configuration.

Pure: no I/O except checking that a CA bundle file is readable. Every bad input raises
`ConfigError` with a one-line message; the CLI turns it into exit code 3.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from .model import StageName, Target

if TYPE_CHECKING:
    from .proxies import ProxyChoice


class ConfigError(ValueError):
    """The probe cannot run as asked. The message is shown to the user as is."""


@dataclass(frozen=True)
class Endpoint:
    name: str
    base_url: str
    description: str


ENDPOINTS: Mapping[str, Endpoint] = {
    e.name: e
    for e in (
        Endpoint("spot", "wss://stream.binance.com:9443", "Spot market streams (port 9443)"),
        Endpoint("spot-443", "wss://stream.binance.com:443", "Spot market streams on port 443"),
        Endpoint(
            "data-stream",
            "wss://data-stream.binance.vision",
            "Spot market-data-only host (no user data streams)",
        ),
        Endpoint(
            "usdm",
            "wss://fstream.binance.com/market",
            "USD-M futures market streams (the /market path of the 2026 URL split)",
        ),
        Endpoint("coinm", "wss://dstream.binance.com", "COIN-M futures market streams"),
        Endpoint("testnet", "wss://stream.testnet.binance.vision", "Spot testnet streams"),
        Endpoint("us", "wss://stream.binance.us:9443", "Binance.US market streams"),
    )
}
DEFAULT_ENDPOINT = "spot"

STREAMS = ("aggTrade",)
"""Stream types the first-message stage knows how to validate."""

DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_MESSAGE_TIMEOUT = 10.0
MAX_TIMEOUT = 3600.0
USER_AGENT_PRODUCT = "binance-diag"

HOSTS_FILE = Path("/etc/hosts")
"""What getaddrinfo reads before DNS; dnspython does not, so the `dns` stage reports it."""

_SYMBOL_RE = re.compile(r"[A-Za-z0-9]{2,20}")


@dataclass(frozen=True)
class Timeouts:
    """Per-stage budgets in seconds. Each covers its whole stage, not one read or attempt."""

    dns: float = DEFAULT_CONNECT_TIMEOUT
    proxy: float = DEFAULT_CONNECT_TIMEOUT
    tcp: float = DEFAULT_CONNECT_TIMEOUT
    tls: float = DEFAULT_CONNECT_TIMEOUT
    ws_upgrade: float = DEFAULT_CONNECT_TIMEOUT
    first_message: float = DEFAULT_MESSAGE_TIMEOUT

    def for_stage(self, stage: StageName) -> float:
        value: float = getattr(self, stage.value)
        return value

    @property
    def total(self) -> float:
        """The most a run may take: every stage used to its limit (proxy only when used)."""
        return self.dns + self.tcp + self.tls + self.ws_upgrade + self.first_message


@dataclass(frozen=True)
class Nameserver:
    address: str
    port: int = 53

    def __str__(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{host}:{self.port}" if self.port != 53 else self.address


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


def parse_symbols(symbols: Iterable[str]) -> tuple[str, ...]:
    """Validate symbols and return them uppercased, without duplicates, in order."""
    result: list[str] = []
    for raw in symbols:
        symbol = raw.strip()
        if not _SYMBOL_RE.fullmatch(symbol):
            raise ConfigError(
                f"invalid symbol {raw!r}: expected 2-20 letters or digits, e.g. BTCUSDT"
            )
        if symbol.upper() not in result:
            result.append(symbol.upper())
    if not result:
        raise ConfigError("no symbol given: e.g. binance-diag probe BTCUSDT")
    if len(result) > 1024:
        raise ConfigError(f"{len(result)} streams: Binance allows at most 1024 per connection")
    return tuple(result)


def parse_stream(stream: str) -> str:
    for known in STREAMS:
        if stream.lower() == known.lower():
            return known
    raise ConfigError(f"unknown stream {stream!r}: supported: {', '.join(STREAMS)}")


def resolve_endpoint(endpoint: str) -> tuple[str, str]:
    """Return (name, base URL) for a preset name or a ws:// / wss:// URL."""
    if endpoint in ENDPOINTS:
        return endpoint, ENDPOINTS[endpoint].base_url
    parts = urlsplit(endpoint)
    if parts.scheme not in ("ws", "wss"):
        presets = ", ".join(ENDPOINTS)
        raise ConfigError(
            f"invalid endpoint {endpoint!r}: expected a preset ({presets}) or a ws:// or wss:// URL"
        )
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(f"invalid endpoint {endpoint!r}: bad port") from None
    if not parts.hostname:
        raise ConfigError(f"invalid endpoint {endpoint!r}: no host")
    if parts.query or parts.fragment:
        raise ConfigError(f"invalid endpoint {endpoint!r}: give the base URL, without ?query")
    if port == 0:
        raise ConfigError(f"invalid endpoint {endpoint!r}: port 0")
    return "custom", endpoint.rstrip("/")


ALL_ENDPOINTS = "all"
"""`--endpoint all`: every preset, probed side by side."""


def parse_endpoints(values: Iterable[str]) -> tuple[str, ...]:
    """Split repeated / comma-separated `--endpoint` values; `all` means every preset.

    Duplicates go (probing one URL twice says nothing more and costs Binance a connection);
    each entry is validated as a preset or a ws:// / wss:// URL.
    """
    result: list[str] = []
    for value in values:
        for entry in (e.strip() for e in value.split(",")):
            if not entry:
                continue
            expanded = list(ENDPOINTS) if entry == ALL_ENDPOINTS else [entry]
            for endpoint in expanded:
                resolve_endpoint(endpoint)
                if endpoint not in result:
                    result.append(endpoint)
    if not result:
        raise ConfigError("--endpoint is empty: give a preset, a URL, or all")
    return tuple(result)


def build_target(symbols: Sequence[str], stream: str, endpoint: str) -> Target:
    """The stream URL Binance expects: /ws/<sym>@<stream>, or /stream?streams=a/b for several.

    Binance only matches lowercase symbols in stream names; the stream type keeps its case.
    """
    names = parse_symbols(symbols)
    stream = parse_stream(stream)
    endpoint_name, base = resolve_endpoint(endpoint)
    parts = urlsplit(base)
    secure = parts.scheme == "wss"
    host = parts.hostname or ""
    port = parts.port or (443 if secure else 80)
    prefix = parts.path.rstrip("/")
    streams = [f"{s.lower()}@{stream}" for s in names]
    if len(streams) == 1:
        path = f"{prefix}/ws/{streams[0]}"
    else:
        path = f"{prefix}/stream?streams={'/'.join(streams)}"
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return Target(
        url=f"{parts.scheme}://{netloc}{path}",
        host=host,
        port=port,
        secure=secure,
        path=path,
        symbols=names,
        stream=stream,
        endpoint=endpoint_name,
    )


def parse_timeout(value: float | None, flag: str) -> float | None:
    if value is None:
        return None
    if not 0 < value <= MAX_TIMEOUT:
        raise ConfigError(f"{flag} must be between 0 and {MAX_TIMEOUT:g} seconds, got {value:g}")
    return value


def build_timeouts(
    all_stages: float | None = None,
    *,
    dns: float | None = None,
    connect: float | None = None,
    tls: float | None = None,
    upgrade: float | None = None,
    message: float | None = None,
) -> Timeouts:
    """A stage's own flag wins over --timeout, whatever order they were given in."""
    base = parse_timeout(all_stages, "--timeout")

    def pick(own: float | None, flag: str, default: float) -> float:
        chosen = parse_timeout(own, flag)
        if chosen is not None:
            return chosen
        return base if base is not None else default

    return Timeouts(
        dns=pick(dns, "--dns-timeout", DEFAULT_CONNECT_TIMEOUT),
        proxy=pick(connect, "--connect-timeout", DEFAULT_CONNECT_TIMEOUT),
        tcp=pick(connect, "--connect-timeout", DEFAULT_CONNECT_TIMEOUT),
        tls=pick(tls, "--tls-timeout", DEFAULT_CONNECT_TIMEOUT),
        ws_upgrade=pick(upgrade, "--upgrade-timeout", DEFAULT_CONNECT_TIMEOUT),
        first_message=pick(message, "--message-timeout", DEFAULT_MESSAGE_TIMEOUT),
    )


def _parse_ip(text: str, what: str) -> str:
    try:
        return str(ipaddress.ip_address(text.strip("[]")))
    except ValueError:
        raise ConfigError(f"invalid {what} {text!r}: expected an IP address") from None


def _parse_port(text: str, what: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ConfigError(f"invalid {what}: port {text!r} is not 1-65535")
    return int(text)


def parse_nameserver(text: str) -> Nameserver:
    """`IP`, `IP:PORT`, `[IPv6]:PORT` or a bare IPv6 address."""
    text = text.strip()
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ConfigError(f"invalid --resolver {text!r}: expected IP[:PORT]")
        port = _parse_port(rest[1:], "--resolver") if rest else 53
        return Nameserver(_parse_ip(host, "--resolver"), port)
    if text.count(":") == 1:
        host, _, port_text = text.partition(":")
        return Nameserver(_parse_ip(host, "--resolver"), _parse_port(port_text, "--resolver"))
    return Nameserver(_parse_ip(text, "--resolver"))


def parse_resolve(entries: Iterable[str]) -> dict[tuple[str, int], tuple[str, ...]]:
    """curl's `--resolve HOST:PORT:ADDR[,ADDR...]`; IPv6 addresses may be bracketed."""
    result: dict[tuple[str, int], tuple[str, ...]] = {}
    for entry in entries:
        host, sep1, rest = entry.partition(":")
        port_text, sep2, addrs = rest.partition(":")
        if not (host and sep1 and sep2 and addrs):
            raise ConfigError(f"invalid --resolve {entry!r}: expected HOST:PORT:ADDR")
        port = _parse_port(port_text, "--resolve")
        addresses = tuple(_parse_ip(a, "--resolve address") for a in addrs.split(","))
        result[(host.lower(), port)] = addresses
    return result


def parse_families(ipv4: bool, ipv6: bool) -> tuple[int, ...]:
    if ipv4 and ipv6:
        raise ConfigError("-4 and -6 exclude each other; give neither to try both families")
    return (4,) if ipv4 else (6,) if ipv6 else ()


def parse_ca_bundle(path: str | None) -> Path | None:
    if path is None:
        return None
    bundle = Path(path)
    try:
        text = bundle.read_text(encoding="ascii", errors="replace")
    except OSError as exc:
        raise ConfigError(f"cannot read --ca-bundle {path}: {exc.strerror or exc}") from None
    if "-----BEGIN CERTIFICATE-----" not in text:
        raise ConfigError(f"--ca-bundle {path} holds no PEM certificate")
    return bundle
