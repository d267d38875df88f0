"""What a watch was asked: frozen and checked before the first packet. Pure."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from ..config.errors import ConfigError
from ..config.probe import ProbeConfig

DAY = 86_400.0
_SPAN_RE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*", re.IGNORECASE)
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": DAY, None: 1.0}


def parse_span(text: str, flag: str) -> float:
    """"8h", "90m", "60s", "500ms", "1.5" (seconds) -> seconds; ConfigError otherwise."""
    match = _SPAN_RE.fullmatch(text)
    if match is None:
        raise ConfigError(f"{flag} {text!r}: expected a time such as 8h, 90m, 60s or 500ms")
    unit = match.group(2).lower() if match.group(2) else None
    seconds = float(match.group(1)) * _UNITS[unit]
    if not 0 < seconds <= 366 * DAY or not math.isfinite(seconds):
        raise ConfigError(f"{flag} {text!r}: must be more than 0 and at most a year")
    return seconds


@dataclass(frozen=True)
class StallRule:
    """A gap is a stall when it is `factor` times the stream's own median gap and at least
    `floor` seconds: a quiet pair and a busy one each get their own threshold."""

    factor: float = 20.0
    floor: float = 10.0

    def threshold(self, median_gap: float | None) -> float:
        if median_gap is None:
            return self.floor
        return max(self.floor, self.factor * median_gap)


@dataclass(frozen=True)
class WatchConfig:
    probe: ProbeConfig
    duration: float = 8 * 3600.0
    every: float = 60.0
    """Seconds between two fresh probes beside the held stream."""
    reports: Path | None = None
    stall: StallRule = StallRule()
    lifetime: float = DAY
    """Binance closes every connection after 24 hours: a close at that age is expected."""
    command: str = ""
    backoff_first: float = 0.2
    backoff_max: float = 30.0
    clock_every: float = 600.0
    """Seconds between two measurements of the clock offset (the first: at connect)."""

    def __post_init__(self) -> None:
        if self.stall.factor < 1 or not math.isfinite(self.stall.factor):
            raise ConfigError("--stall-factor must be 1 or more")
        if not 0 < self.stall.floor <= DAY:
            raise ConfigError("--stall-floor must be more than 0 s and at most a day")
