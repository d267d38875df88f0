"""`--warn STAGE=MS` and `--crit STAGE=MS`: parsing and validation.

Pure. Bad input raises `ConfigError`, which the CLI turns into exit code 3.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from ..config.errors import ConfigError
from ..model import StageName, Thresholds

ALIASES = {"upgrade": StageName.WS_UPGRADE, "message": StageName.FIRST_MESSAGE,
           "connect": StageName.TCP}


def parse_stage(text: str, flag: str) -> StageName:
    name = text.strip().lower().replace("-", "_")
    if name in ALIASES:
        return ALIASES[name]
    try:
        return StageName(name)
    except ValueError:
        names = ", ".join(s.value for s in StageName)
        raise ConfigError(f"invalid {flag} stage {text!r}: expected one of {names}") from None


def parse_limits(entries: Iterable[str], flag: str) -> dict[StageName, float]:
    """`["tls=500", "dns=100"]` -> {TLS: 500.0, DNS: 100.0}; the last one for a stage wins."""
    limits: dict[StageName, float] = {}
    for entry in entries:
        stage_text, sep, ms_text = entry.partition("=")
        if not sep:
            raise ConfigError(f"invalid {flag} {entry!r}: expected STAGE=MS, e.g. tls=500")
        stage = parse_stage(stage_text, flag)
        try:
            if not ms_text.isascii():  # float() would read '١٠٠' (Arabic-Indic) as 100
                raise ValueError(ms_text)
            ms = float(ms_text.strip().removesuffix("ms"))
        except ValueError:
            raise ConfigError(f"invalid {flag} {entry!r}: {ms_text!r} is not a number of "
                              "milliseconds") from None
        if not math.isfinite(ms) or ms <= 0:
            raise ConfigError(f"invalid {flag} {entry!r}: milliseconds must be a finite "
                              "number above 0")
        limits[stage] = ms
    return limits


def parse_thresholds(warn: Iterable[str] = (), crit: Iterable[str] = ()) -> Thresholds:
    warn_limits = parse_limits(warn, "--warn")
    crit_limits = parse_limits(crit, "--crit")
    for stage, limit in warn_limits.items():
        if stage in crit_limits and crit_limits[stage] < limit:
            raise ConfigError(f"--warn {stage.value}={limit:g} is above --crit "
                              f"{stage.value}={crit_limits[stage]:g}")
    return Thresholds(warn=warn_limits, crit=crit_limits)
