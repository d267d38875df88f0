"""`serve --listen HOST:PORT`: where the exporter listens, loopback unless asked otherwise."""

from __future__ import annotations

import ipaddress

from ..config.errors import ConfigError
from ..config.hosts import parse_host_port

DEFAULT_LISTEN = "127.0.0.1:9115"
"""blackbox_exporter's port, on loopback: anything wider must be asked for."""


def parse_listen(text: str) -> tuple[str, int]:
    """`HOST:PORT` or `[IPv6]:PORT` (port 0: any free one); ConfigError otherwise."""
    if text.endswith(":0"):  # parse_host_port wants 1-65535; 0 asks the OS for a free port
        host, _ = parse_host_port(text[:-2] + ":1", "--listen")
        return host, 0
    host, port = parse_host_port(text, "--listen")
    if port is None:
        raise ConfigError(f"invalid --listen {text!r}: give HOST:PORT, e.g. {DEFAULT_LISTEN}")
    return host, port


def is_loopback(host: str) -> bool:
    """Only 127.0.0.0/8, ::1 and `localhost`: a name may resolve anywhere else."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
