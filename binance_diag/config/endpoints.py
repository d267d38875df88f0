"""Which stream URL to probe: symbols, stream type, endpoint presets and base URLs."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..addresses import bracketed
from ..model import Target
from .errors import ConfigError
from .hosts import parse_host_port


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


BINANCE_DOMAINS = ("binance.com", "binance.vision", "binance.us", "binancefuture.com")


def is_binance_host(host: str) -> bool:
    """A name under one of Binance's domains."""
    host = host.lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in BINANCE_DOMAINS)


DEFAULT_ENDPOINT = "spot"


STREAMS = ("aggTrade",)
"""Stream types the first-message stage knows how to validate."""


_SYMBOL_RE = re.compile(r"[A-Za-z0-9]{2,20}")


_BASE_PATH_SUFFIXES = ("/ws", "/stream")
"""What Binance's documented base URLs end with; the probe appends them itself."""


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
    netloc = bracketed(host) + (f":{port}" if port is not None else "")
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


MAX_REQUEST_LINE = 8192
"""Request lines longer than this are commonly refused (nginx's and websockets' 8 KiB)."""


def url_warnings(targets: Iterable[Target]) -> list[str]:
    """A combined-stream URL too long for common servers: a 414 would look like a refusal."""
    return [f"the stream URL is {len(t.path)} bytes: servers commonly refuse request lines "
            f"over {MAX_REQUEST_LINE // 1024} KiB (HTTP 414); for this many streams, connect "
            "to /ws and SUBSCRIBE instead" for t in targets if len(t.path) > MAX_REQUEST_LINE]
