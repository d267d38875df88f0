"""Turning what the user typed into a frozen, validated probe configuration.

Pure: no I/O except reading the CA bundle file. Every bad input raises
`ConfigError` with a one-line message; the CLI turns it into exit code 3.
"""

from __future__ import annotations

import ipaddress
import os
import re
import stat
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
_PORT_RE = re.compile(r"[0-9]{1,5}")
"""ASCII digits only: str.isdigit() and int() also take '²' and '٥٣' (Arabic-Indic 53)."""
_LABEL_RE = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
"""A host name label (RFC 1123 §2.1): letters, digits, inner hyphens, at most 63."""
_NUMERIC_RE = re.compile(r"[0-9]+")
_BASE_PATH_SUFFIXES = ("/ws", "/stream")
"""What Binance's documented base URLs end with; the probe appends them itself."""
MAX_CA_BUNDLE_BYTES = 10 * 1024 * 1024
"""certifi's bundle is ~0.3 MB; a file past 10 MiB is not a CA bundle (nor is /dev/zero)."""


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
    return "custom", parse_base_url(endpoint)


def parse_base_url(url: str) -> str:
    """A ws:// or wss:// base URL, checked and normalized before anything is resolved.

    The host must be an IP literal or a DNS name (a typo such as `127.0.0.1 ` would
    otherwise go to DNS); credentials and fragments are refused, not dropped. A trailing
    `/ws` or `/stream` (how Binance documents its base URLs) is removed: the probe appends
    `/ws/<stream>` or `/stream?streams=` itself. Other paths stay (USD-M's `/market`).
    """
    what = f"endpoint {url!r}"
    if any(ord(c) < 0x20 or c == "\x7f" for c in url):
        raise ConfigError(f"invalid {what}: control characters in the URL")
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # brackets: "Invalid IPv6 URL"; say which part is wrong
        authority = re.split(r"[/?#]", url.partition("://")[2], maxsplit=1)[0]
        parse_host_port(authority.rpartition("@")[2], what)
        raise ConfigError(f"invalid {what}: {exc}") from None
    if parts.scheme not in ("ws", "wss"):
        presets = ", ".join(ENDPOINTS)
        raise ConfigError(
            f"invalid {what}: expected a preset ({presets}) or a ws:// or wss:// URL"
        )
    if "@" in parts.netloc:
        raise ConfigError(f"invalid {what}: user:password@ is not supported (market streams "
                          "need no credentials)")
    if "#" in url:
        raise ConfigError(f"invalid {what}: give the base URL, without #fragment")
    if "?" in url:
        raise ConfigError(f"invalid {what}: give the base URL, without ?query (the stream "
                          "path comes from the symbols and --stream)")
    host, port = parse_host_port(parts.netloc, what)
    path = _base_path(parts.path, what)
    netloc = _bracket(host) + (f":{port}" if port is not None else "")
    return f"{parts.scheme}://{netloc}{path}"


def _base_path(path: str, what: str) -> str:
    if not path.isascii() or " " in path:
        raise ConfigError(f"invalid {what}: the path must be ASCII without spaces "
                          "(percent-encode the rest)")
    if "@" in path:
        raise ConfigError(f"invalid {what}: give the base URL, not a stream URL (the "
                          "/ws/<symbol>@<stream> part comes from the symbols and --stream)")
    path = path.rstrip("/")
    for suffix in _BASE_PATH_SUFFIXES:
        if path.endswith(suffix):
            return path.removesuffix(suffix).rstrip("/")
    return path


def dns_name(text: str) -> str | None:
    """`text` as a lowercase ASCII host name (RFC 1123 labels; Unicode via IDNA), or None.

    A last label of digits only is refused (RFC 3696 §2): `127.1` or `1.2.3` is what
    getaddrinfo reads as an IPv4 address, not a name.
    """
    root = "." if text.endswith(".") else ""
    try:
        name = text.removesuffix(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    labels = name.split(".")
    if len(name) > 253 or not all(_LABEL_RE.fullmatch(label) for label in labels):
        return None
    if _NUMERIC_RE.fullmatch(labels[-1]):
        return None
    return name + root


def parse_host(text: str, what: str) -> str:
    """An IPv4 address or a DNS name, normalized; ConfigError (`invalid <what>`) otherwise."""
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        pass
    name = dns_name(text)
    if name is None:
        raise ConfigError(f"invalid {what}: host {text!r} is not an IP address or a DNS "
                          "name")
    return name


def parse_host_port(authority: str, what: str) -> tuple[str, int | None]:
    """`host[:port]` or `[IPv6][:port]` as in a URL (no user@): the host checked and
    normalized, the port 1-65535 in ASCII digits, None when absent."""
    if authority.startswith("["):
        inside, sep, rest = authority[1:].partition("]")
        if not sep or "[" in inside or (rest and not rest.startswith(":")):
            raise ConfigError(f"invalid {what}: unbalanced [ ] around the host")
        try:
            host = str(ipaddress.IPv6Address(inside)) if "%" not in inside else ""
        except ValueError:
            host = ""
        if not host:
            raise ConfigError(f"invalid {what}: {inside!r} in [ ] is not an IPv6 address")
        port_text = rest[1:] if rest else None
    else:
        name, sep, port_part = authority.partition(":")
        if ":" in port_part:
            raise ConfigError(f"invalid {what}: an IPv6 address goes in brackets, "
                              "e.g. [::1]:9443")
        if not name:
            raise ConfigError(f"invalid {what}: no host")
        host = parse_host(name, what)
        port_text = port_part if sep else None
    return host, None if port_text is None else _parse_port(port_text, what)


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host


ALL_ENDPOINTS = "all"
"""`--endpoint all`: every preset, probed side by side."""


def parse_endpoints(values: Iterable[str]) -> tuple[str, ...]:
    """Split repeated / comma-separated `--endpoint` values; `all` means every preset.

    Duplicates go, the first spelling kept (probing one URL twice says nothing more and
    costs Binance a connection); each entry is validated as a preset or a ws:// / wss:// URL.
    """
    result: list[str] = []
    bases: set[str] = set()
    for value in values:
        for entry in (e.strip() for e in value.split(",")):
            if not entry:
                continue
            expanded = list(ENDPOINTS) if entry == ALL_ENDPOINTS else [entry]
            for endpoint in expanded:
                base = resolve_endpoint(endpoint)[1]
                if base not in bases:
                    bases.add(base)
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
    return Target(
        url=f"{parts.scheme}://{parts.netloc}{path}",
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
    if not 0 < value <= MAX_TIMEOUT:  # NaN fails every comparison: refused too
        raise ConfigError(f"{flag} must be more than 0 and at most {MAX_TIMEOUT:g} seconds, "
                          f"got {value:g}")
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
    if not _PORT_RE.fullmatch(text) or not 0 < int(text) < 65536:
        raise ConfigError(f"invalid {what}: port {text!r} is not 1-65535")
    return int(text)


def parse_nameserver(text: str, flag: str = "--resolver") -> Nameserver:
    """`IP`, `IP:PORT`, `[IPv6]:PORT` or a bare IPv6 address."""
    text = text.strip()
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ConfigError(f"invalid {flag} {text!r}: expected IP[:PORT]")
        port = _parse_port(rest[1:], flag) if rest else 53
        return Nameserver(_parse_ip(host, flag), port)
    if text.count(":") == 1:
        host, _, port_text = text.partition(":")
        return Nameserver(_parse_ip(host, flag), _parse_port(port_text, flag))
    return Nameserver(_parse_ip(text, flag))


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
        result[(parse_host(host, f"--resolve {entry!r}"), port)] = addresses
    return result


def resolve_warnings(resolve: Mapping[tuple[str, int], tuple[str, ...]],
                     targets: Sequence[Target]) -> list[str]:
    """One line per --resolve entry no target connects to. curl ignores those silently,
    which hides a wrong port (443 for 9443); the CLI warns, and still runs."""
    wanted = {(t.host, t.port) for t in targets}
    probed = ", ".join(f"{_bracket(t.host)}:{t.port}" for t in targets)
    return [f"--resolve {_bracket(host)}:{port} matches no endpoint probed ({probed}): "
            "ignored, as curl does" for host, port in resolve if (host, port) not in wanted]


MAX_REQUEST_LINE = 8192
"""Request lines longer than this are commonly refused (nginx's and websockets' 8 KiB)."""


def url_warnings(targets: Iterable[Target]) -> list[str]:
    """A combined-stream URL too long for common servers: a 414 would look like a refusal."""
    return [f"the stream URL is {len(t.path)} bytes: servers commonly refuse request lines "
            f"over {MAX_REQUEST_LINE // 1024} KiB (HTTP 414); for this many streams, connect "
            "to /ws and SUBSCRIBE instead" for t in targets if len(t.path) > MAX_REQUEST_LINE]


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


def parse_families(ipv4: bool, ipv6: bool) -> tuple[int, ...]:
    if ipv4 and ipv6:
        raise ConfigError("-4 and -6 exclude each other; give neither to try both families")
    return (4,) if ipv4 else (6,) if ipv6 else ()


def parse_ca_bundle(path: str | None) -> Path | None:
    """A readable regular file of at most MAX_CA_BUNDLE_BYTES holding a PEM certificate.

    Checked before it is opened, and again on the open file (O_NONBLOCK, so that a FIFO
    swapped in meanwhile cannot block the open): a FIFO would hang and /dev/zero fill memory.
    """
    if path is None:
        return None
    if not path:
        raise ConfigError("--ca-bundle is empty: give a PEM file")
    bundle = Path(path)
    try:
        _check_bundle_file(path, os.stat(path))
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            _check_bundle_file(path, os.fstat(fd))
            data = handle.read(MAX_CA_BUNDLE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read --ca-bundle {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_CA_BUNDLE_BYTES:  # it grew after the check
        raise _too_big(path)
    if b"-----BEGIN CERTIFICATE-----" not in data:
        raise ConfigError(f"--ca-bundle {path} holds no PEM certificate")
    _check_bundle_loads(path)
    return bundle


def _check_bundle_loads(path: str) -> None:
    """OpenSSL must accept the certificates: a corrupt bundle is the user's input to fix,
    not a TLS failure to blame on the server."""
    import ssl

    try:
        # By path, as the tls stage loads it: comments in UTF-8 (Mozilla-derived bundles
        # name issuers in them) are fine there; `cadata` would want pure ASCII.
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cafile=path)
    except ssl.SSLError as exc:
        detail = str(exc).split(" (_ssl.c")[0].removeprefix("[X509] ")
        raise ConfigError(f"cannot load --ca-bundle {path}: OpenSSL rejects its certificates "
                          f"({detail})") from None


def _check_bundle_file(path: str, info: os.stat_result) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(f"--ca-bundle {path} is not a regular file")
    if info.st_size > MAX_CA_BUNDLE_BYTES:
        raise _too_big(path)


def _too_big(path: str) -> ConfigError:
    return ConfigError(f"--ca-bundle {path} is larger than "
                       f"{MAX_CA_BUNDLE_BYTES // (1024 * 1024)} MiB: not a CA bundle")


# -- the loop watchdog and hard deadlines (`--loop-interval`, ...) ----------------------

DEFAULT_INTERVAL = 0.05
DEFAULT_THRESHOLD = 0.1
DEFAULT_GRACE = 0.5
"""How long past its timeout a stage may run before the watchdog ends the run."""


@dataclass(frozen=True)
class GuardSettings:
    """`--loop-interval`, `--loop-threshold` (seconds here) and the hard deadlines' grace."""

    interval: float = DEFAULT_INTERVAL
    threshold: float = DEFAULT_THRESHOLD
    grace: float = DEFAULT_GRACE


DEFAULT_SETTINGS = GuardSettings()
MAX_MS = 60_000.0


def parse_guard_settings(interval_ms: float | None = None, threshold_ms: float | None = None,
                   grace_ms: float | None = None) -> GuardSettings:
    """Settings from the CLI's milliseconds; ConfigError (exit 3) for nonsense."""
    values = {}
    for flag, value, default in (("--loop-interval", interval_ms, DEFAULT_INTERVAL),
                                 ("--loop-threshold", threshold_ms, DEFAULT_THRESHOLD),
                                 ("--deadline-grace", grace_ms, DEFAULT_GRACE)):
        if value is not None and not 1 <= value <= MAX_MS:  # NaN fails it too
            raise ConfigError(f"{flag} must be between 1 and {MAX_MS:g} ms, got {value:g}")
        values[flag] = default if value is None else value / 1000
    return GuardSettings(values["--loop-interval"], values["--loop-threshold"],
                         values["--deadline-grace"])
