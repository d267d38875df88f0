"""Which proxy a connection to the stream takes, and why: `--proxy`, or the environment.

Pure. Two clients matter: curl (HTTPS_PROXY, ALL_PROXY) and the `websockets` library, which
since version 14 picks a proxy up from the environment by itself — WSS_PROXY, SOCKS_PROXY,
HTTPS_PROXY for wss:// (WS_PROXY, SOCKS_PROXY, HTTPS_PROXY, HTTP_PROXY for ws://), through
`urllib.request.getproxies()`, which ignores ALL_PROXY. Users are often surprised by either.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from ..addresses import hostport
from ..safety.redact import MASK
from .errors import ConfigError
from .hosts import parse_host_port

PROXY_SCHEMES = {"http": 8080, "socks5": 1080, "socks5h": 1080}


@dataclass(frozen=True)
class Proxy:
    scheme: str
    """`http` (CONNECT), `socks5` (we resolve the target) or `socks5h` (the proxy resolves)."""
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    source: str = "--proxy"
    """Where it came from: `--proxy` or the environment variable's name."""

    @property
    def url(self) -> str:
        """The proxy URL with the password redacted: safe for every output."""
        creds = f"{MASK}@" if self.username is not None or self.password is not None else ""
        return f"{self.scheme}://{creds}{hostport(self.host, self.port)}"

    @property
    def remote_dns(self) -> bool:
        return self.scheme in ("http", "socks5h")


def parse_proxy_url(url: str, source: str = "--proxy") -> Proxy:
    """`http://[user:pass@]host[:port]`, `socks5://...` or `socks5h://...`.

    Messages never quote the URL: it may hold a password.
    """
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        raise ConfigError(f"invalid proxy in {source}: bad URL") from None
    scheme = parts.scheme.lower()
    if scheme == "https":
        raise ConfigError(f"unsupported proxy in {source}: https:// proxies (TLS to the proxy) "
                          "are not supported; use http:// or socks5://")
    if scheme not in PROXY_SCHEMES:
        raise ConfigError(f"invalid proxy in {source}: expected http://, socks5:// or socks5h://")
    host, port = parse_host_port(parts.netloc.rpartition("@")[2], f"proxy in {source}")
    username = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    if scheme.startswith("socks5"):
        _check_socks5_credentials(username, password, source)
    return Proxy(
        scheme=scheme,
        host=host,
        port=port or PROXY_SCHEMES[scheme],
        username=username,
        password=password,
        source=source,
    )


SOCKS5_CREDENTIAL_BYTES = 255
"""RFC 1929 §2: the SOCKS5 user name and password are each sent with a one-byte length."""


def _check_socks5_credentials(username: str | None, password: str | None, source: str) -> None:
    """Refuse what a SOCKS5 proxy cannot be sent, naming neither value (secrets)."""
    for what, value in (("user name", username), ("password", password)):
        size = len(value.encode()) if value is not None else 0
        if size > SOCKS5_CREDENTIAL_BYTES:
            raise ConfigError(f"invalid proxy in {source}: the SOCKS5 {what} is {size} bytes; "
                              f"SOCKS5 allows at most {SOCKS5_CREDENTIAL_BYTES} bytes "
                              "(RFC 1929)")


def _env(environ: Mapping[str, str], name: str) -> tuple[str, str] | None:
    """Lowercase wins over uppercase, as in urllib and curl."""
    for key in (name.lower(), name.upper()):
        value = environ.get(key)
        if value:
            return key, value
    return None


def no_proxy_matches(host: str, port: int, no_proxy: str) -> bool:
    """curl's NO_PROXY rules: `*`, host names and domain suffixes, IPs and CIDRs, `host:port`."""
    host = host.lower().strip("[]").rstrip(".")
    for raw in no_proxy.split(","):
        entry = raw.strip().lower()
        if not entry:
            continue
        if entry == "*":
            return True
        entry_host, entry_port = entry, None
        if entry.count(":") == 1:
            entry_host, _, port_text = entry.partition(":")
            ascii_digits = port_text.isascii() and port_text.isdigit()  # not '²' or '٥٣'
            entry_port = int(port_text) if ascii_digits else None
        if entry_port is not None and entry_port != port:
            continue
        entry_host = entry_host.strip("[]").lstrip(".").rstrip(".")
        try:
            network = ipaddress.ip_network(entry_host, strict=False)
            if ipaddress.ip_address(host) in network:
                return True
            continue
        except ValueError:
            pass
        if host == entry_host or host.endswith("." + entry_host):
            return True
    return False


@dataclass(frozen=True)
class ProxyChoice:
    proxy: Proxy | None
    reason: str
    """One line for the report: what chose the proxy, or why there is none."""
    websockets_would_use: str | None = None
    """The proxy URL (redacted) the `websockets` library would pick from this environment."""


def select_proxy(
    host: str,
    port: int,
    secure: bool,
    environ: Mapping[str, str],
    explicit: str | None = None,
    disabled: bool = False,
) -> ProxyChoice:
    """`--proxy` (explicit), else `--no-proxy` (disabled), else the environment's choice.

    Both flags, or an empty --proxy, are refused rather than one silently dropped.
    """
    if explicit is not None and disabled:
        raise ConfigError("--proxy and --no-proxy exclude each other: give one of them")
    if explicit is not None and not explicit.strip():
        raise ConfigError("--proxy is empty: give a proxy URL (http://host:3128, "
                          "socks5h://host:1080), or --no-proxy to connect directly")
    websockets_choice = websockets_proxy(host, port, secure, environ)
    if disabled:
        return ProxyChoice(None, "proxy disabled by --no-proxy", websockets_choice)
    if explicit is not None:
        return ProxyChoice(parse_proxy_url(explicit), "--proxy", websockets_choice)
    names = ("HTTPS_PROXY", "ALL_PROXY") if secure else ("HTTP_PROXY", "ALL_PROXY")
    for name in names:
        found = _env(environ, name)
        if found is None:
            continue
        key, value = found
        no_proxy = _env(environ, "NO_PROXY")
        if no_proxy and no_proxy_matches(host, port, no_proxy[1]):
            return ProxyChoice(None, f"{key} is set but {no_proxy[0]} excludes {host}",
                               websockets_choice)
        return ProxyChoice(parse_proxy_url(value, key), key, websockets_choice)
    return ProxyChoice(None, f"no proxy ({' / '.join(names)} not set)", websockets_choice)


def websockets_proxy(
    host: str, port: int, secure: bool, environ: Mapping[str, str]
) -> str | None:
    """What `websockets.connect` (≥ 14) would use here: its own order, no ALL_PROXY."""
    no_proxy = _env(environ, "NO_PROXY")
    if no_proxy and no_proxy_matches(host, port, no_proxy[1]):
        return None
    names = ("WSS_PROXY", "SOCKS_PROXY", "HTTPS_PROXY") if secure else (
        "WS_PROXY", "SOCKS_PROXY", "HTTPS_PROXY", "HTTP_PROXY")
    for name in names:
        found = _env(environ, name)
        if found is not None:
            value = found[1]
            if name == "SOCKS_PROXY" and value.startswith("http://"):
                value = "socks5h://" + value[len("http://"):]
            try:
                return parse_proxy_url(value, found[0]).url
            except ConfigError:
                return "<invalid>"
    return None
