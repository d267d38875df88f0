"""`--ca-bundle`: a readable PEM file OpenSSL accepts, checked without ever blocking."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import ConfigError

MAX_CA_BUNDLE_BYTES = 10 * 1024 * 1024
"""certifi's bundle is ~0.3 MB; a file past 10 MiB is not a CA bundle (nor is /dev/zero)."""


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
