"""`binance-diag simulate`: serve one catalogued fault until Ctrl-C, and say how to reach it.

The same `start_fault` the tests use, kept running in the foreground: a banner on stdout
(URL, fault, how to trust the CA, the exact probe line), then one line per connection and
request, so a bot author sees what their client did. SIGINT or SIGTERM stops it cleanly.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TextIO

from ..addresses import bracketed, hostport
from ..config.endpoints import build_target, parse_symbols
from ..config.errors import ConfigError
from ..config.hosts import parse_host
from ..config.timeouts import MAX_TIMEOUT
from ..simulate.catalogue import lookup_fault
from ..simulate.certs import CertificateAuthority, CertificateFiles
from ..simulate.faults import Fault
from ..simulate.peer import LOOPBACK_V4
from ..simulate.scenario import DEFAULT_HOSTNAME, Scenario, start_fault
from ..simulate.server import ServerOptions

BINANCE_PING_INTERVAL = 20.0
"""Binance pings every 20 s and drops a connection whose pong is a minute late."""
PONG_TIMEOUT_RATIO = 3.0
"""Pong timeout / ping interval: Binance's 60 s / 20 s, kept when --ping-interval scales."""
DEFAULT_SYMBOL = "BTCUSDT"
ACTIVITY_POLL = 0.2
"""Seconds between two looks at what the peers saw (the lines printed per connection)."""

_FAULT_OPTIONS = {
    "--delay": ("slow-first-message",),
    "--after": ("stall-after", "server-shutdown"),
    "--trickle-interval": ("trickle",),
}
"""Options that only change one fault's script: a note is printed when they cannot apply."""


_PEER_NOTES = {
    "server": "({tls})",
    "refused": "(nothing listens: connections are refused)",
    "blackhole": "(SYNs go unanswered)",
    "dns": "(nothing listens: a probe must stop at DNS)",
}


@dataclass(frozen=True)
class SimulateRequest:
    """What `binance-diag simulate` was asked, before validation."""

    fault: str
    host: str = LOOPBACK_V4
    port: int = 0
    symbols: tuple[str, ...] = ()
    """Symbols that trade (others are accepted and silent, like Binance); empty: any."""
    delay_ms: float | None = None
    after: int | None = None
    ping_interval: float | None = None
    trickle_interval: float | None = None
    tls: bool = True
    dns: bool = False
    cert: Path | None = None
    key: Path | None = None
    allow_external: bool = False
    hostname: str = DEFAULT_HOSTNAME
    path_prefix: str = ""
    """Serve streams under this path, e.g. `/market` as USD-M futures does since 2026-04."""


def split_symbols(values: list[str] | None) -> tuple[str, ...]:
    """`--symbols BTCUSDT,ETHUSDT` and repeated `--symbols X --symbols Y` alike; () when
    not given. Given but empty (`--symbols ''`, `,,`) is refused, not read as "any"."""
    if values is None:
        return ()
    raw = [part for value in values for part in value.split(",") if part.strip()]
    if not raw:
        raise ConfigError("--symbols is empty: give symbols, e.g. --symbols BTCUSDT,ETHUSDT")
    return parse_symbols(raw)


def check_host(host: str, allow_external: bool) -> str:
    """Loopback only, unless the user asked otherwise in so many words (ConfigError)."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        raise ConfigError(f"--host must be an IP address, got {host!r}") from None
    if not address.is_loopback and not allow_external:
        raise ConfigError(
            f"refusing to listen on non-loopback address {address}: the simulator would be "
            "reachable from other machines; pass --allow-external if that is what you want"
        )
    return str(address)


def check_hostname(hostname: str) -> str:
    """A DNS name (or IPv4 literal) for the URL, SNI and certificate: ConfigError otherwise."""
    try:
        return parse_host(hostname.strip().rstrip("."), "--hostname")
    except ConfigError:
        raise ConfigError(f"--hostname must be a host name like stream.binance.com, "
                          f"got {hostname!r}") from None


def server_options(request: SimulateRequest, fault: Fault) -> ServerOptions:
    """Map the command's options onto the fault knobs; ConfigError for impossible values.

    Pings follow Binance's cadence (every 20 s, pong within 60 s) unless --ping-interval
    scales them; `ping-timeout` keeps its catalogued quick cadence so that the printed
    probe line concludes what the catalogue says.
    """
    options = ServerOptions()
    if request.delay_ms is not None:
        delay_ms = _checked(request.delay_ms, "--delay", "milliseconds", zero_ok=True)
        options = replace(options, delay=delay_ms / 1000)
    if request.after is not None:
        if request.after < 0:
            raise ConfigError("--after must be 0 or more messages")
        options = replace(options, message_count=request.after, shutdown_after=request.after)
    if request.trickle_interval is not None:
        interval = _checked(request.trickle_interval, "--trickle-interval", "seconds")
        options = replace(options, trickle_interval=interval)
    ping_interval = request.ping_interval
    if ping_interval is not None:
        _checked(ping_interval, "--ping-interval", "seconds")
    if ping_interval is None and fault.name not in ("ping-timeout", "pong-lost"):
        ping_interval = BINANCE_PING_INTERVAL
    if ping_interval is not None:
        options = replace(options, ping_interval=ping_interval,
                          pong_timeout=ping_interval * PONG_TIMEOUT_RATIO)
    if request.symbols:
        options = replace(options, known_symbols=frozenset(request.symbols))
    if request.path_prefix:
        prefix = "/" + request.path_prefix.strip("/")
        if not re.fullmatch(r"(/[A-Za-z0-9._-]+)+", prefix):
            raise ConfigError(f"--path-prefix {request.path_prefix!r}: expected a path "
                              "such as /market")
        # USD-M serves its market streams under /market, with futures payloads.
        options = replace(options, path_prefix=prefix, futures=prefix == "/market")
    return options


def _checked(value: float, flag: str, unit: str, zero_ok: bool = False) -> float:
    """`value` in (0, max] ([0, max] with `zero_ok`), max being an hour; NaN, inf refused."""
    maximum = MAX_TIMEOUT * (1000 if unit == "milliseconds" else 1)
    if (0 <= value if zero_ok else 0 < value) and value <= maximum:  # NaN fails both
        return value
    bounds = f"0 to {maximum:.0f}" if zero_ok else f"more than 0 and at most {maximum:.0f}"
    raise ConfigError(f"{flag} must be {bounds} {unit}, got {value:g}")


def ignored_options(request: SimulateRequest, fault: Fault) -> list[str]:
    """Notes for options given that the fault's script never reads."""
    given = {
        "--delay": request.delay_ms is not None,
        "--after": request.after is not None,
        "--trickle-interval": request.trickle_interval is not None,
        "--ping-interval": request.ping_interval is not None,
    }
    notes = []
    for option, faults in _FAULT_OPTIONS.items():
        if given[option] and fault.name not in faults:
            notes.append(f"{option} has no effect on {fault.name} (only on {', '.join(faults)})")
    if given["--ping-interval"] and fault.peer != "server":
        notes.append(f"--ping-interval has no effect on {fault.name} (no WebSocket is served)")
    return notes


def load_certificates(request: SimulateRequest, fault: Fault) -> CertificateFiles | None:
    """The user's --cert/--key, checked against the fault; None: a CA made for this run."""
    if request.cert is None:
        if request.key is not None:
            raise ConfigError("--key needs --cert")
        return None
    if not request.tls:
        raise ConfigError("--cert/--key serve TLS: drop --no-tls")
    if fault.name in ("tls-untrusted", "tls-expired", "tls-not-yet-valid", "tls-wrong-host"):
        raise ConfigError(f"fault {fault.name} presents a certificate issued by the "
                          "simulator's own CA: drop --cert/--key")
    try:
        return CertificateFiles(request.cert, request.key)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def serve(request: SimulateRequest, stdout: TextIO | None = None,
          stderr: TextIO | None = None, stop: threading.Event | None = None) -> int:
    """Run until SIGINT/SIGTERM (or `stop` is set): exit code 0, or ConfigError for input."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    fault = lookup_fault(request.fault)
    host = check_host(request.host, request.allow_external)
    request = replace(request, hostname=check_hostname(request.hostname))
    if fault.requires_tls and not request.tls:
        raise ConfigError(f"fault {fault.name} happens during TLS: drop --no-tls")
    options = server_options(request, fault)
    certs: CertificateAuthority | CertificateFiles | None = load_certificates(request, fault)
    for note in ignored_options(request, fault):
        print(f"binance-diag: note: {note}", file=stderr)
    stop = stop or threading.Event()
    try:
        with _stop_on_signals(), _listening(request, fault, host, options, certs) as scenario:
            stdout.write(banner(scenario, request))
            stdout.flush()
            _report_activity(scenario, stop, stdout)
    except KeyboardInterrupt:
        pass
    print("binance-diag: simulator stopped", file=stderr, flush=True)
    return 0


@contextmanager
def _listening(request: SimulateRequest, fault: Fault, host: str, options: ServerOptions,
               certs: CertificateAuthority | CertificateFiles | None) -> Iterator[Scenario]:
    try:
        scenario_cm = start_fault(
            fault.name, tls=request.tls, dns=request.dns, hostname=request.hostname,
            options=options, certs=certs, host=host, port=request.port,
            allow_external=request.allow_external,
        )
        scenario = scenario_cm.__enter__()
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host} port {request.port}: "
                          f"{exc.strerror or exc}") from None
    try:
        yield scenario
    finally:
        # A second Ctrl-C (or SIGTERM) while the peers close would only leave a traceback.
        with _ignoring_stop_signals():
            scenario_cm.__exit__(None, None, None)


def banner(scenario: Scenario, request: SimulateRequest) -> str:
    """What the user needs to reach the fault: URL, trust, DNS, the probe line."""
    fault = scenario.fault
    symbols = request.symbols or (DEFAULT_SYMBOL,)
    target = build_target(symbols, "aggTrade", scenario.url_base)
    lines = [
        f"binance-diag simulate: fault {fault.name} - {fault.description}",
        f"  a probe concludes: {fault.expectation}" + (f" ({fault.note})" if fault.note else ""),
        f"  address   {hostport(scenario.host, scenario.port)} {_PEER_NOTES[fault.peer]}"
        .replace("{tls}", "TLS" if scenario.tls else "plain TCP, ws://"),
        f"  url       {target.url}",
        f"            ({scenario.hostname} must lead to {scenario.address}: the probe line "
        "below sees to it)",
    ]
    if scenario.ca_bundle is not None:
        lines.append(f"  trust     {scenario.ca_bundle} (the CA made for this run; removed "
                     "when the simulator stops)")
    elif request.cert is not None:
        lines.append(f"  trust     your certificate {request.cert}: add --ca-bundle with its "
                     "issuer to the probe line unless that issuer is publicly trusted")
    if scenario.dns_port is not None:
        answer = (f"answers {scenario.hostname} and the other Binance hosts with "
                  f"{scenario.address}" if fault.peer != "dns" else f"plays {fault.name}")
        lines.append(f"  dns       {hostport(scenario.address, scenario.dns_port)} (UDP) "
                     f"{answer}")
        if fault.peer != "dns":
            lines.append("            (a probe through it flags that loopback answer first, "
                         "dns.private_address, as it must for a real resolver)")
    if fault.peer == "server" and request.cert is None:
        client_url = target.url.replace(
            f"//{scenario.hostname}:", f"//{bracketed(scenario.address)}:", 1)
        trust = (f" with ssl=ssl.create_default_context(cafile='{scenario.ca_bundle}')"
                 if scenario.ca_bundle else "")
        lines.append(f"  client    {client_url}{trust} (docs/simulate.md)")
    probe = ["binance-diag", "probe", *symbols, *scenario.cli_args]
    lines += [
        "",
        "Probe it from another terminal:",
        f"  {shlex.join(probe)}",
        "",
        "Ctrl-C stops the simulator.",
        "",
    ]
    return "\n".join(lines)


def _report_activity(scenario: Scenario, stop: threading.Event, out: TextIO) -> None:
    """One line per accepted connection and per HTTP request, until stopped.

    The last look happens on the way out (Ctrl-C included): a client that came and went
    within one poll still gets its lines.
    """
    server = scenario.server
    if server is None:  # nothing to report; wait in slices, so signals get through
        while not stop.wait(ACTIVITY_POLL):
            pass
        return
    connections = requests = 0

    def report() -> None:
        nonlocal connections, requests
        seen_connections, seen_requests = server.connections, server.requests
        lines = [f"{_clock(c.at)} connection from {hostport(*c.client)}"
                 for c in seen_connections[connections:]]
        lines += [f"{_clock(r.at)} GET {r.path} ({r.header('User-Agent') or 'no User-Agent'})"
                  for r in seen_requests[requests:]]
        connections, requests = len(seen_connections), len(seen_requests)
        if lines:
            out.write("".join(f"{line}\n" for line in lines))
            out.flush()

    try:
        while not stop.wait(ACTIVITY_POLL):
            report()
    finally:
        report()


@contextmanager
def _stop_on_signals() -> Iterator[None]:
    """SIGTERM stops like Ctrl-C (a KeyboardInterrupt in the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def _ignoring_stop_signals() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, signal.SIG_IGN)
                for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)




def _clock(at: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(at)) + f".{int(at * 1000) % 1000:03d}"
