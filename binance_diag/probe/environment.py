"""What the report says about the machine: versions, resolver, proxy settings seen.

Proxy URLs are shown with their credentials redacted.
"""

from __future__ import annotations

import os
import platform
import ssl
import sys

from .. import __version__
from ..config.proxies import ProxyChoice
from ..model import JSON
from ..safety.redact import redact_url

PROXY_VARIABLES = tuple(
    name
    for base in ("HTTPS_PROXY", "ALL_PROXY", "HTTP_PROXY", "WSS_PROXY", "WS_PROXY",
                 "SOCKS_PROXY", "NO_PROXY")
    for name in (base, base.lower())
)


def _versions() -> tuple[str, str]:
    """websockets' and dnspython's versions from the modules themselves: importlib.metadata
    costs ~30 ms of every run's start, for two strings."""
    import dns.version
    import websockets.version

    return websockets.version.version, dns.version.version


def collect_environment(
    resolver: str | None = None, proxy: ProxyChoice | None = None
) -> dict[str, JSON]:
    proxies = {name: redact_url(value) for name in PROXY_VARIABLES
               if (value := os.environ.get(name))}
    websockets_version, dnspython_version = _versions()
    return {
        "tool": __version__,
        "python": platform.python_version(),
        "implementation": sys.implementation.name,
        "websockets": websockets_version,
        "dnspython": dnspython_version,
        "openssl": ssl.OPENSSL_VERSION,
        "platform": f"{platform.system()} {platform.machine()}",
        "resolver": resolver,
        "proxy": proxy.proxy.url if proxy and proxy.proxy else None,
        "proxy_reason": proxy.reason if proxy else None,
        "websockets_proxy": proxy.websockets_would_use if proxy else None,
        "proxy_environment": proxies,
    }
