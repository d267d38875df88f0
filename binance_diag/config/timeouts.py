"""Per-stage budgets: `--timeout` and each stage's own flag, checked and combined."""

from __future__ import annotations

from dataclasses import dataclass

from ..model import StageName
from .errors import ConfigError

DEFAULT_CONNECT_TIMEOUT = 5.0


DEFAULT_MESSAGE_TIMEOUT = 10.0


MAX_TIMEOUT = 3600.0


@dataclass(frozen=True)
class Timeouts:
    """Per-stage budgets in seconds. Each covers its whole stage, not one read or attempt."""

    dns: float = DEFAULT_CONNECT_TIMEOUT
    proxy: float = DEFAULT_CONNECT_TIMEOUT
    tcp: float = DEFAULT_CONNECT_TIMEOUT
    tls: float = DEFAULT_CONNECT_TIMEOUT
    ws_upgrade: float = DEFAULT_CONNECT_TIMEOUT
    first_message: float = DEFAULT_MESSAGE_TIMEOUT

    def for_stage(self, stage: StageName) -> float:
        value: float = getattr(self, stage.value)
        return value

    @property
    def total(self) -> float:
        """The most a run may take: every stage used to its limit (proxy only when used)."""
        return self.dns + self.tcp + self.tls + self.ws_upgrade + self.first_message


def parse_timeout(value: float | None, flag: str) -> float | None:
    if value is None:
        return None
    if not 0 < value <= MAX_TIMEOUT:  # NaN fails every comparison: refused too
        raise ConfigError(f"{flag} must be more than 0 and at most {MAX_TIMEOUT:g} seconds, "
                          f"got {value:g}")
    return value


def build_timeouts(
    all_stages: float | None = None,
    *,
    dns: float | None = None,
    connect: float | None = None,
    tls: float | None = None,
    upgrade: float | None = None,
    message: float | None = None,
) -> Timeouts:
    """A stage's own flag wins over --timeout, whatever order they were given in."""
    base = parse_timeout(all_stages, "--timeout")

    def pick(own: float | None, flag: str, default: float) -> float:
        chosen = parse_timeout(own, flag)
        if chosen is not None:
            return chosen
        return base if base is not None else default

    return Timeouts(
        dns=pick(dns, "--dns-timeout", DEFAULT_CONNECT_TIMEOUT),
        proxy=pick(connect, "--connect-timeout", DEFAULT_CONNECT_TIMEOUT),
        tcp=pick(connect, "--connect-timeout", DEFAULT_CONNECT_TIMEOUT),
        tls=pick(tls, "--tls-timeout", DEFAULT_CONNECT_TIMEOUT),
        ws_upgrade=pick(upgrade, "--upgrade-timeout", DEFAULT_CONNECT_TIMEOUT),
        first_message=pick(message, "--message-timeout", DEFAULT_MESSAGE_TIMEOUT),
    )
