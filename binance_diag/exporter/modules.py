"""The modules file (`serve --config modules.toml`): how each module probes, validated at start.

A module is what blackbox_exporter calls one: everything about a probe except the target.
Keys are the `probe` command's options, dashes as underscores:

    [modules.spot]
    endpoint = "spot"            # a preset or a ws:// / wss:// base URL
    timeout = 8                  # the whole probe at most (the scrape timeout may cut it more)
    message_timeout = 5
    resolve = ["stream.binance.com:9443:127.0.0.1"]
    ca_bundle = "ca.pem"         # relative to the modules file

Every error names the file and line (`modules.toml:7: modules.spot.timeout: ...`) and is a
`ConfigError` (exit 3 at start; a failed reload keeps the modules in force).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from ..config.endpoints import DEFAULT_ENDPOINT, build_target, parse_endpoints, parse_stream
from ..config.errors import ConfigError
from ..config.hosts import Nameserver, parse_nameserver, parse_resolve
from ..config.probe import ProbeConfig
from ..config.proxies import parse_proxy_url, select_proxy
from ..config.timeouts import Timeouts, build_timeouts, parse_timeout

DEFAULT_MODULE = "default"
"""The module a scrape without `module=` uses; without --config it probes the spot preset."""

_TIMEOUT_KEYS = ("timeout", "dns_timeout", "connect_timeout", "tls_timeout",
                 "upgrade_timeout", "message_timeout")
KEYS = ("endpoint", "stream", *_TIMEOUT_KEYS, "resolvers", "resolve", "ca_bundle", "proxy",
        "no_proxy", "ip_version")
"""Every key a module may have."""

_NAME_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}")


@dataclass(frozen=True)
class Module:
    """One validated module: a `ProbeConfig` waiting for its symbols."""

    name: str
    endpoint: str = DEFAULT_ENDPOINT
    stream: str = "aggTrade"
    timeouts: Timeouts = field(default_factory=Timeouts)
    timeout: float | None = None
    """The whole probe at most, like blackbox's module `timeout`; None: the scrape decides."""
    nameservers: tuple[Nameserver, ...] = ()
    resolve: Mapping[tuple[str, int], tuple[str, ...]] = field(default_factory=dict)
    ca_bundle: Path | None = None
    proxy: str | None = None
    no_proxy: bool = False
    families: tuple[int, ...] = ()

    def probe_config(self, symbols: Sequence[str], environ: Mapping[str, str]) -> ProbeConfig:
        """The probe of `symbols` (ConfigError for bad ones); the proxy as the CLI picks it."""
        target = build_target(symbols, self.stream, self.endpoint)
        proxy = select_proxy(target.host, target.port, target.secure, environ, self.proxy,
                             self.no_proxy)
        return ProbeConfig(target=target, timeouts=self.timeouts, nameservers=self.nameservers,
                           resolve=self.resolve, ca_bundle=self.ca_bundle,
                           families=self.families, proxy=proxy)


@dataclass(frozen=True)
class Modules:
    """The modules in force, and where they came from (None: the built-in default)."""

    modules: Mapping[str, Module]
    source: Path | None = None

    def get(self, name: str) -> Module | None:
        return self.modules.get(name)


def default_modules() -> Modules:
    return Modules({DEFAULT_MODULE: Module(DEFAULT_MODULE)})


def load_modules(path: Path | None) -> Modules:
    """The modules file at `path`, validated; the built-in default module without one."""
    if path is None:
        return default_modules()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read --config {path}: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 (byte {exc.start})") from None
    return parse_modules(text, path)


def parse_modules(text: str, path: Path) -> Modules:
    """Parse and validate a modules file's `text` (relative paths are from `path`'s folder)."""
    where = _Locator(text, str(path))
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    for key in document:
        if key == "watch":
            raise where.error(("watch",), "watch targets (held streams with live gauges) "
                              "need the `watch` command, which binance-diag does not have "
                              "yet: remove the table")
        if key != "modules":
            raise where.error((key,), "unknown top-level key: expected [modules.NAME] tables")
    tables = document.get("modules", {})
    if not isinstance(tables, dict) or not tables:
        raise where.error(("modules",), "no module defined: add a [modules.NAME] table")
    modules = {}
    for name, table in tables.items():
        if not _NAME_RE.fullmatch(name):
            raise where.error(("modules", name), "a module name is 1-64 of A-Z a-z 0-9 _ . -")
        if not isinstance(table, dict):
            raise where.error(("modules", name), "must be a table: [modules.NAME]")
        modules[name] = _parse_module(name, table, path.parent, where)
    return Modules(modules, path)


def _parse_module(name: str, table: Mapping[str, Any], base: Path, where: _Locator) -> Module:
    for key in table:
        if key not in KEYS:
            raise where.error(("modules", name, key),
                              f"unknown key: expected one of {', '.join(KEYS)}")

    def value(key: str, kind: type | tuple[type, ...], check: Callable[[Any], Any]) -> Any:
        raw = table[key]
        if not isinstance(raw, kind) or isinstance(raw, bool) and kind is not bool:
            raise where.error(("modules", name, key), f"wrong type: {type(raw).__name__}")
        try:
            return check(raw)
        except ConfigError as exc:
            raise where.error(("modules", name, key), str(exc)) from None

    module = Module(name)
    number = (int, float)
    if "endpoint" in table:
        module = replace(module, endpoint=value("endpoint", str,
                                                lambda v: parse_endpoints([v])[0]))
    if "stream" in table:
        module = replace(module, stream=value("stream", str, parse_stream))
    timeouts = {key: value(key, number, partial(_timeout, key))
                for key in _TIMEOUT_KEYS if key in table}
    module = replace(module, timeout=timeouts.pop("timeout", None), timeouts=build_timeouts(
        dns=timeouts.get("dns_timeout"), connect=timeouts.get("connect_timeout"),
        tls=timeouts.get("tls_timeout"), upgrade=timeouts.get("upgrade_timeout"),
        message=timeouts.get("message_timeout")))
    if "resolvers" in table:
        module = replace(module, nameservers=value(
            "resolvers", list, lambda v: tuple(parse_nameserver(_text(s)) for s in v)))
    if "resolve" in table:
        module = replace(module, resolve=value(
            "resolve", list, lambda v: parse_resolve([_text(s) for s in v])))
    if "ca_bundle" in table:
        from ..config.ca_bundle import parse_ca_bundle

        module = replace(module, ca_bundle=value(
            "ca_bundle", str, lambda v: parse_ca_bundle(str(base / Path(v).expanduser()))))
    if "proxy" in table:
        module = replace(module, proxy=value("proxy", str, _checked_proxy))
    if "no_proxy" in table:
        module = replace(module, no_proxy=value("no_proxy", bool, bool))
        if module.no_proxy and module.proxy is not None:
            raise where.error(("modules", name, "no_proxy"),
                              "proxy and no_proxy exclude each other: give one of them")
    if "ip_version" in table:
        module = replace(module, families=value("ip_version", int, _families))
    # Everything a probe needs is checked now, not at the first scrape: a symbol-free target.
    try:
        build_target(["BTCUSDT"], module.stream, module.endpoint)
    except ConfigError as exc:
        raise where.error(("modules", name), str(exc)) from None
    return module


def _timeout(key: str, seconds: float) -> float | None:
    return parse_timeout(float(seconds), key)


def _text(item: object) -> str:
    if not isinstance(item, str):
        raise ConfigError(f"expected strings, got {type(item).__name__}")
    return item


def _checked_proxy(url: str) -> str:
    parse_proxy_url(url, "proxy")
    return url


def _families(version: int) -> tuple[int, ...]:
    if version not in (4, 6):
        raise ConfigError(f"must be 4 or 6, got {version}")
    return (version,)


class _Locator:
    """Finds the line of a table or key in the file's text, for messages (tomllib gives
    positions only for syntax errors)."""

    def __init__(self, text: str, source: str) -> None:
        self.lines = text.splitlines()
        self.source = source

    def error(self, path: tuple[str, ...], message: str) -> ConfigError:
        line = self.line_of(path)
        at = f"{self.source}:{line}" if line else self.source
        return ConfigError(f"{at}: {'.'.join(path)}: {message}")

    def line_of(self, path: tuple[str, ...]) -> int | None:
        """1-based line of `[a.b]` for a table path, of `key =` inside its table for a key."""
        for size in range(len(path), 0, -1):
            header = re.compile(r"\s*\[\[?\s*" + r"\s*\.\s*".join(
                rf"(?:{re.escape(p)}|\"{re.escape(p)}\")" for p in path[:size]) + r"\s*[\].]")
            for number, line in enumerate(self.lines, 1):
                if header.match(line):
                    if size == len(path):
                        return number
                    return self._key_line(number, path[size]) or number
        if len(path) == 1:
            return self._key_line(0, path[0])
        return None

    def _key_line(self, after: int, key: str) -> int | None:
        pattern = re.compile(rf"\s*(?:{re.escape(key)}|\"{re.escape(key)}\")\s*[=.]")
        for number in range(after + 1, len(self.lines) + 1):
            line = self.lines[number - 1]
            if after and line.lstrip().startswith("["):
                return None
            if pattern.match(line):
                return number
        return None
