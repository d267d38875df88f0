"""The modules file (`serve --config modules.toml`): how each module probes, validated at start.

A module is what blackbox_exporter calls one: everything about a probe except the target.
Keys are the `probe` command's options, dashes as underscores:

    [modules.spot]
    endpoint = "spot"            # a preset or a ws:// / wss:// base URL
    timeout = 8                  # the whole probe at most (the scrape timeout may cut it more)
    message_timeout = 5
    resolve = ["stream.binance.com:9443:127.0.0.1"]
    ca_bundle = "ca.pem"         # relative to the modules file
    experiments = true           # follow-up experiments after a failure (off by default)
    experiments_timeout = 2      # their budget (3 s by default), inside the scrape's

A `[watch.NAME]` table is a held stream (exporter/watching.py): its `symbols`, the stall
rule (`stall_factor`, `stall_floor`), `every` (seconds between fresh probes beside it), and
the probe options of a module - `module = "spot"` starts from that module's, and any module
key in the table overrides them.

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
from ..config.probe import DEFAULT_EXPERIMENTS_TIMEOUT, ProbeConfig
from ..config.proxies import parse_proxy_url, select_proxy
from ..config.timeouts import Timeouts, parse_timeout
from ..watch.config import DAY, StallRule

DEFAULT_MODULE = "default"
"""The module a scrape without `module=` uses; without --config it probes the spot preset."""

_TIMEOUT_KEYS = ("timeout", "dns_timeout", "connect_timeout", "tls_timeout",
                 "upgrade_timeout", "message_timeout")
KEYS = ("endpoint", "stream", *_TIMEOUT_KEYS, "resolvers", "resolve", "ca_bundle", "proxy",
        "no_proxy", "ip_version", "experiments", "experiments_timeout")
"""Every key a module may have."""
WATCH_KEYS = ("module", "symbols", "stall_factor", "stall_floor", "every", *KEYS)
"""Every key a watch target may have: its own, and a module's."""
_STAGE_FIELDS = {"dns_timeout": ("dns",), "connect_timeout": ("proxy", "tcp"),
                 "tls_timeout": ("tls",), "upgrade_timeout": ("ws_upgrade",),
                 "message_timeout": ("first_message",)}
"""Which `Timeouts` fields each timeout key sets (the probe command's flags do the same)."""
DEFAULT_EVERY = 60.0
"""Seconds between two fresh probes beside a held stream (`watch --every`)."""

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
    experiments: float | None = None
    """The follow-up experiments' budget; None: none run (the default in a module)."""

    def probe_config(self, symbols: Sequence[str], environ: Mapping[str, str]) -> ProbeConfig:
        """The probe of `symbols` (ConfigError for bad ones); the proxy as the CLI picks it."""
        target = build_target(symbols, self.stream, self.endpoint)
        proxy = select_proxy(target.host, target.port, target.secure, environ, self.proxy,
                             self.no_proxy)
        return ProbeConfig(target=target, timeouts=self.timeouts, nameservers=self.nameservers,
                           resolve=self.resolve, ca_bundle=self.ca_bundle,
                           families=self.families, proxy=proxy,
                           experiments=self.experiments)


@dataclass(frozen=True)
class WatchTarget:
    """One `[watch.NAME]` table: a held stream of `symbols`, probed as `module` says."""

    name: str
    module: Module
    symbols: tuple[str, ...]
    stall: StallRule = StallRule()
    every: float = DEFAULT_EVERY


@dataclass(frozen=True)
class Modules:
    """The modules in force, the watch targets, and where they came from (None: the
    built-in default)."""

    modules: Mapping[str, Module]
    source: Path | None = None
    watch: Mapping[str, WatchTarget] = field(default_factory=dict)

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
        if key not in ("modules", "watch"):
            raise where.error((key,), "unknown top-level key: expected [modules.NAME] and "
                              "[watch.NAME] tables")
    tables = document.get("modules", {})
    if not isinstance(tables, dict) or not tables:
        raise where.error(("modules",), "no module defined: add a [modules.NAME] table")
    modules = {}
    for name, table in tables.items():
        if not _NAME_RE.fullmatch(name):
            raise where.error(("modules", name), "a module name is 1-64 of A-Z a-z 0-9 _ . -")
        if not isinstance(table, dict):
            raise where.error(("modules", name), "must be a table: [modules.NAME]")
        modules[name] = _parse_module(Module(name), table, path.parent, where)
    watch = document.get("watch", {})
    if not isinstance(watch, dict):
        raise where.error(("watch",), "must be tables: [watch.NAME]")
    targets = {}
    for name, table in watch.items():
        if not _NAME_RE.fullmatch(name):
            raise where.error(("watch", name), "a watch target's name is 1-64 of A-Z a-z 0-9 "
                              "_ . -")
        if not isinstance(table, dict):
            raise where.error(("watch", name), "must be a table: [watch.NAME]")
        targets[name] = _parse_watch(name, table, modules, path.parent, where)
    return Modules(modules, path, targets)


def _parse_watch(name: str, table: Mapping[str, Any], modules: Mapping[str, Module],
                 base: Path, where: _Locator) -> WatchTarget:
    at = ("watch", name)
    for key in table:
        if key not in WATCH_KEYS:
            raise where.error((*at, key), f"unknown key: expected one of {', '.join(WATCH_KEYS)}")
    value = _Values(table, at, where)
    start = Module(name)
    if "module" in table:
        found = modules.get(value("module", str, str))
        if found is None:
            raise where.error((*at, "module"), f"no module {table['module']!r}: one of "
                              f"{', '.join(modules)}")
        start = replace(found, name=name)
    module = _parse_module(start, {k: v for k, v in table.items() if k in KEYS}, base, where,
                           at)
    if "symbols" not in table:
        raise where.error(at, "symbols missing: symbols = [\"BTCUSDT\"]")
    symbols = value("symbols", (list, str), _symbols)
    try:
        build_target(symbols, module.stream, module.endpoint)
    except ConfigError as exc:
        raise where.error((*at, "symbols"), str(exc)) from None
    stall = StallRule()
    if "stall_factor" in table:
        stall = replace(stall, factor=value("stall_factor", (int, float), partial(
            _bounded, low=1.0, high=1e6, what="1 or more")))
    if "stall_floor" in table:
        stall = replace(stall, floor=value("stall_floor", (int, float), partial(
            _bounded, low=1e-3, high=DAY, what="more than 0 s and at most a day")))
    every = DEFAULT_EVERY
    if "every" in table:
        every = value("every", (int, float), partial(
            _bounded, low=1e-3, high=DAY, what="more than 0 s and at most a day"))
    return WatchTarget(name, module, symbols, stall, every)


def _symbols(raw: list[Any] | str) -> tuple[str, ...]:
    items = raw.split(",") if isinstance(raw, str) else [_text(s) for s in raw]
    symbols = tuple(s.strip() for s in items if s.strip())
    if not symbols:
        raise ConfigError("at least one symbol")
    return symbols


def _bounded(number: float, *, low: float, high: float, what: str) -> float:
    if not low <= number <= high:  # NaN fails too
        raise ConfigError(f"must be {what}, got {number:g}")
    return float(number)


class _Values:
    """A table's values, type-checked and validated; errors name the key's line."""

    def __init__(self, table: Mapping[str, Any], at: tuple[str, ...], where: _Locator
                 ) -> None:
        self.table, self.at, self.where = table, at, where

    def __call__(self, key: str, kind: type | tuple[type, ...], check: Callable[[Any], Any]
                 ) -> Any:
        raw = self.table[key]
        if not isinstance(raw, kind) or isinstance(raw, bool) and kind is not bool:
            raise self.where.error((*self.at, key), f"wrong type: {type(raw).__name__}")
        try:
            return check(raw)
        except ConfigError as exc:
            raise self.where.error((*self.at, key), str(exc)) from None


def _parse_module(module: Module, table: Mapping[str, Any], base: Path, where: _Locator,
                  at: tuple[str, ...] | None = None) -> Module:
    """`module` with the keys of `table` applied (a new module starts from the defaults)."""
    at = at or ("modules", module.name)
    for key in table:
        if key not in KEYS:
            raise where.error((*at, key), f"unknown key: expected one of {', '.join(KEYS)}")
    value = _Values(table, at, where)
    number = (int, float)
    if "endpoint" in table:
        module = replace(module, endpoint=value("endpoint", str,
                                                lambda v: parse_endpoints([v])[0]))
    if "stream" in table:
        module = replace(module, stream=value("stream", str, parse_stream))
    timeouts = {key: value(key, number, partial(_timeout, key))
                for key in _TIMEOUT_KEYS if key in table}
    if "timeout" in timeouts:
        module = replace(module, timeout=timeouts.pop("timeout"))
    module = replace(module, timeouts=replace(module.timeouts, **{
        stage: seconds for key, seconds in timeouts.items() for stage in _STAGE_FIELDS[key]}))
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
            raise where.error((*at, "no_proxy"),
                              "proxy and no_proxy exclude each other: give one of them")
    if "ip_version" in table:
        module = replace(module, families=value("ip_version", int, _families))
    module = _with_experiments(module, table, value, where, at)
    # Everything a probe needs is checked now, not at the first scrape: a symbol-free target.
    try:
        build_target(["BTCUSDT"], module.stream, module.endpoint)
    except ConfigError as exc:
        raise where.error(at, str(exc)) from None
    return module


def _with_experiments(module: Module, table: Mapping[str, Any], value: _Values,
                      where: _Locator, at: tuple[str, ...]) -> Module:
    """`experiments = true/false` and `experiments_timeout = S`, as the probe command's
    `--no-experiments` and `--experiments-timeout` (a timeout alone turns them on)."""
    on = value("experiments", bool, bool) if "experiments" in table else None
    seconds = value("experiments_timeout", (int, float), partial(
        _timeout, "experiments_timeout")) if "experiments_timeout" in table else None
    if on is False and seconds is not None:
        raise where.error((*at, "experiments_timeout"), "experiments = false and "
                          "experiments_timeout exclude each other: give one of them")
    if on is False:
        return replace(module, experiments=None)
    if seconds is not None or on:
        return replace(module, experiments=seconds or module.experiments
                       or DEFAULT_EXPERIMENTS_TIMEOUT)
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
