"""The loop watchdog's and hard deadlines' settings (`--loop-interval`, ...)."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ConfigError

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
