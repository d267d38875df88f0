"""The measurements of a report, as the rules ask about them.

Pure. `Facts` wraps a `ProbeReport` with the lookups rules keep needing (a stage's details,
whether the host is Binance's, the addresses tried) and the template values every rule can use.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..addresses import address_class, bracketed, is_ip_literal
from ..config.endpoints import is_binance_host
from ..model import JSON, Experiment, ProbeReport, StageName, StageResult, StageStatus
from ..safety.redact import MASK
from .describe import code, seconds, stage_time, took

SPOT_PORT = 9443


def address_kind(address: str) -> str | None:
    """Why an address cannot be a public service's ("loopback", "private"...), or None."""
    try:
        return address_class(address.strip("[]"))
    except ValueError:
        return None


def is_public_address(address: str) -> bool:
    return address_kind(address) is None


class Facts:
    def __init__(self, report: ProbeReport) -> None:
        self.report = report
        self.target = report.target
        self.failed = report.failed_stage
        self.binance = is_binance_host(report.target.host)
        self.healthy = self.failed is None
        self.experiments = {e.name: e for e in report.experiments}

    def experiment(self, name: str) -> Experiment | None:
        """The experiment of that name, if it ran (one not run says nothing)."""
        found = self.experiments.get(name)
        return found if found is not None and found.ran else None

    def outcome(self, name: str) -> str | None:
        found = self.experiment(name)
        return found.outcome if found is not None else None

    def stage(self, name: StageName) -> StageResult | None:
        return self.report.stage(name)

    def details(self, name: StageName) -> Mapping[str, JSON]:
        stage = self.stage(name)
        return stage.details if stage is not None else {}

    def passed(self, name: StageName) -> bool:
        stage = self.stage(name)
        return stage is not None and stage.status is StageStatus.OK

    def on_spot_port(self) -> bool:
        return self.binance and self.target.port == SPOT_PORT

    def values(self, subject: StageResult | None) -> dict[str, str]:
        """Template values every rule may use; rule-specific ones are added by the rule."""
        target = self.target
        values = {
            "symbols": " ".join(target.symbols),
            "symbol": target.symbols[0],
            "streams": ", ".join(f"{s.lower()}@{target.stream}" for s in target.symbols),
            "deliver": "delivers" if len(target.symbols) == 1 else "deliver",
            "stream": target.stream,
            "url": target.url,
            "host": target.host,
            "port": str(target.port),
            "hostport": f"{bracketed(target.host)}:{target.port}",
            "endpoint": target.endpoint,
            "path": target.path,
            # "Probe again": the command as the user ran it, options and all, when known.
            "again": Rerun(self.report.command, target.symbols),
            "attach": markdown_command(self.report.command, target.symbols),
            "worked": self.worked(subject),
            **self._by_hand(),
        }
        if subject is not None:
            values.update(
                stage=subject.name.value,
                stage_label=subject.name.label,
                timeout=seconds(subject.timeout_s),
                took=took(subject),
            )
            if subject.error is not None:
                values["message"] = subject.error.message
        return values

    def _by_hand(self) -> dict[str, str]:
        """How to reach what was probed from a shell: with `--resolve`, the pinned address
        (`openssl s_client -connect ADDR:PORT`, `curl --resolve`), not whatever DNS says;
        curl through the probe's proxy. (openssl's `-proxy` is HTTP-only: left out.)"""
        import shlex

        target, dns = self.target, self.details(StageName.DNS)
        hostport = f"{bracketed(target.host)}:{target.port}"
        trust = str(self.details(StageName.TLS).get("trust") or "")
        own_ca = bool(trust) and not is_certifi(trust)  # --ca-bundle FILE
        values = {"connect_to": hostport, "curl_options": "",
                  "s_client_sni": "-noservername" if is_ip_literal(target.host)
                  else f"-servername {target.host}",
                  "http_url": f"{'https' if target.secure else 'http'}://{hostport}{target.path}",
                  "s_client_options": f"-CAfile {shlex.quote(trust)} " if own_ca else ""}
        if own_ca:
            values["curl_options"] = f"--cacert {shlex.quote(trust)} "
        addresses = dns.get("addresses") if dns.get("source") == "--resolve" else None
        if isinstance(addresses, list) and addresses:
            connected = self.details(StageName.TCP).get("connected_to")
            address = str(connected).rsplit(":", 1)[0] if connected else \
                bracketed(str(addresses[0]))
            values["connect_to"] = f"{address}:{target.port}"
            values["curl_options"] += f"--resolve {hostport}:{address} "
        values["curl_options"] += self._curl_proxy()
        return values

    def _curl_proxy(self) -> str:
        """curl's proxy option for the path the probe took: its proxy (password to fill
        in), or none even if the environment names one (curl would use it; we did not)."""
        import shlex

        env = self.report.environment
        proxy = env.get("proxy")
        if proxy:
            return f"-x {shlex.quote(_password_to_fill(str(proxy)))} "
        return "--noproxy '*' " if env.get("proxy_environment") else ""

    def worked(self, subject: StageResult | None) -> str:
        """`DNS, TCP and TLS all worked`: the stages that passed before `subject` (all of them
        for a report-wide rule) and measured something - DNS only if it asked DNS."""
        names: list[str] = []
        for stage in self.report.stages:
            if stage is subject:
                break
            if stage.status is not StageStatus.OK:
                continue
            if stage.name is StageName.DNS and stage.details.get("source") != "dns":
                continue
            names.append(_WORKED_NAMES[stage.name])
        dns = self.details(StageName.DNS)
        given = _ADDRESS_GIVEN.get(str(dns.get("source")))
        if not names:
            text = given or "the address was known"
        else:
            listed = names[0] if len(names) == 1 else \
                f"{', '.join(names[:-1])} and {names[-1]} all"
            text = f"{listed} worked" + (f" ({given})" if given else "")
        return text[0].upper() + text[1:]

    def previous_line(self, subject: StageResult | None) -> list[str]:
        """The last stage that passed before `subject`: what is known to work."""
        if subject is None:
            return []
        last: StageResult | None = None
        for stage in self.report.stages:
            if stage is subject:
                break
            if stage.status is StageStatus.OK:
                last = stage
        if last is None:
            return []
        return [_short(last)]


_WORKED_NAMES = {
    StageName.DNS: "DNS", StageName.PROXY: "the proxy", StageName.TCP: "TCP",
    StageName.TLS: "TLS", StageName.WS_UPGRADE: "the upgrade",
    StageName.FIRST_MESSAGE: "the first event",
}
_ADDRESS_GIVEN = {
    "--resolve": "`--resolve` gave the address",
    "ip-literal": "the host is an IP address",
    "hosts-file": "the hosts file gave the address",
}
"""How the address was known when DNS was not asked: no DNS result to claim."""


def _short(stage: StageResult) -> str:
    """A passed stage as evidence: `TCP connected to 1.2.3.4:9443 in 41.2 ms`."""
    d = stage.details
    time = took(stage)
    if stage.name is StageName.DNS:
        addresses = ", ".join(code(a) for a in d.get("addresses") or [])
        source = d.get("source")
        if source == "--resolve":
            return f"`--resolve` gave {addresses} (no DNS query)"
        if source == "ip-literal":
            return f"{code(d.get('host', '?'))} is an IP address (no DNS query)"
        if source == "hosts-file":
            return f"the hosts file gave {addresses} (as getaddrinfo would; DNS not used)"
        return f"DNS gave {addresses} in {time}"
    if stage.name is StageName.TCP:
        return f"TCP connected to {code(d.get('connected_to', '?'))} in {stage_time(stage)}"
    if stage.name is StageName.TLS:
        return f"TLS {d.get('version', '')} established in {time}".replace("  ", " ")
    if stage.name is StageName.WS_UPGRADE:
        return f"WebSocket upgrade answered HTTP {d.get('status')} in {time}"
    return f"{stage.name.label} passed in {time}"


def get(mapping: Any, *keys: str) -> Any:
    """Nested lookup that tolerates missing levels: get(d, "certificate", "issuer")."""
    for key in keys:
        if not isinstance(mapping, Mapping):
            return None
        mapping = mapping.get(key)
    return mapping


def _words(command: str) -> list[str]:
    import shlex

    try:
        return shlex.split(command)
    except ValueError:
        return []


def _without_output(words: list[str]) -> list[str]:
    """The words without --format/--output and their values."""
    kept: list[str] = []
    skip = False
    for word in words:
        if skip:
            skip = False
        elif word in ("--format", "--output"):
            skip = True
        elif not word.startswith(("--format=", "--output=")):
            kept.append(word)
    return kept


VALUED_OPTIONS = frozenset({
    "--stream", "--endpoint", "--resolver", "--compare-resolvers", "--resolve", "--ca-bundle",
    "--timeout", "--dns-timeout", "--connect-timeout", "--tls-timeout", "--upgrade-timeout",
    "--message-timeout", "--duration", "--proxy", "--format", "--output", "--warn", "--crit",
    "--loop-interval", "--loop-threshold", "--deadline-grace", "--experiments-timeout",
})
"""`probe` options that take a value: how to skip one when editing a command line."""
_SAME = {"--ipv4": "-4", "--ipv6": "-6"}
_EXCLUDES = {"--proxy": {"--no-proxy"}, "--no-proxy": {"--proxy"}, "-4": {"-6"}, "-6": {"-4"}}


def _rerun(command: str, symbols: tuple[str, ...], changes: Sequence[str] = ()) -> str:
    """The probe command to repeat: the one recorded (a bare `binance-diag probe SYMBOLS`
    otherwise), without --format/--output (a re-run should print, not overwrite), with
    `changes`: `--endpoint spot-443` replaces every --endpoint, `!-4` drops -4."""
    import shlex

    words = _words(command)
    if words[:2] != ["binance-diag", "probe"]:
        words = ["binance-diag", "probe", *symbols]
    drop: set[str] = set()
    add: list[str] = []
    changes = list(changes)
    while changes:
        word = changes.pop(0)
        if word.startswith("!"):
            drop.add(_SAME.get(word[1:], word[1:]))
            continue
        flag = _SAME.get(word, word)
        drop.add(flag)
        add.append(word)
        if word in VALUED_OPTIONS and changes:
            add.append(changes.pop(0))
    for flag in list(drop):
        drop |= _EXCLUDES.get(flag, set())
    kept: list[str] = []
    skip = False
    for word in _without_output(words):
        name = _SAME.get(word.split("=", 1)[0], word.split("=", 1)[0])
        if skip:
            skip = False
        elif name in drop and word.startswith("-"):
            skip = name in VALUED_OPTIONS and "=" not in word
        else:
            kept.append(word)
    # The recorded command masks passwords: say what to put back, not `***`.
    return shlex.join([_password_to_fill(word) for word in [*kept, *add]])


class Rerun(str):
    """`{again}`: the probe command as it was run; `{again:--endpoint spot-443}` the same
    command with that change (see `_rerun`), so that advice keeps the user's options."""

    command: str
    symbols: tuple[str, ...]

    def __new__(cls, command: str, symbols: tuple[str, ...]) -> Rerun:
        made = super().__new__(cls, _rerun(command, symbols))
        made.command, made.symbols = command, symbols
        return made

    def __format__(self, spec: str) -> str:
        if not spec:
            return str(self)
        import shlex

        return _rerun(self.command, self.symbols, shlex.split(spec))


def markdown_command(command: str, symbols: tuple[str, ...] = ()) -> str:
    """The same run (options and all), writing Markdown to report.md instead."""
    import shlex

    words = _words(command) or ["binance-diag", "probe", *symbols]
    words = [_password_to_fill(word) for word in _without_output(words)]
    return shlex.join([*words, "--format", "markdown", "--output", "report.md"])


def _password_to_fill(text: str) -> str:
    """A recorded URL has its user-info masked (`://***@`): a command to run says what to put
    there instead of sending `***`."""
    return text.replace(f"://{MASK}@", "://USER:PASSWORD@")


def is_certifi(trust: str) -> bool:
    """The tls stage's `trust` says `certifi <version>` for the built-in store."""
    return re.fullmatch(r"certifi \S+", trust) is not None
