"""Binance's server time over the network: where a market's REST host is, and a few samples
of its time on one keep-alive connection, with the run's own trust and route.

The parsing and the arithmetic are pure (sansio/servertime.py); this shell only moves the
bytes and reads the clocks. It never asks DNS: the caller gives a `Route` (a `--resolve`
pin, the address the run found for the same host, or the run's proxy).
"""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass

from ..addresses import hostport, is_ip_literal
from ..config.endpoints import is_binance_host
from ..model import JSON, Target
from ..timing import Deadline
from .experiments.shell import Route, open_route
from .sansio.servertime import ClockOffset, TimeResponse, TimeSample, estimate_offset, time_request

SAMPLES = 4
"""Exchanges per measurement: the first may pay for a cold path, the best of the rest
counts."""
_REST_HOSTS = {
    "stream.binance.com": ("api.binance.com", "/api/v3/time"),
    "data-stream.binance.vision": ("data-api.binance.vision", "/api/v3/time"),
    "fstream.binance.com": ("fapi.binance.com", "/fapi/v1/time"),
    "dstream.binance.com": ("dapi.binance.com", "/dapi/v1/time"),
    "stream.testnet.binance.vision": ("testnet.binance.vision", "/api/v3/time"),
    "stream.binance.us": ("api.binance.us", "/api/v3/time"),
}
"""Each market's stream host -> the REST host and path of its server time (port 443)."""


@dataclass(frozen=True)
class RestTime:
    """Where the server time of the stream's market is asked."""

    host: str
    port: int
    path: str
    secure: bool = True

    @property
    def where(self) -> str:
        return hostport(self.host, self.port)


def rest_time_of(target: Target) -> RestTime | None:
    """The REST host of the target's market; for an endpoint that is not Binance's (a relay,
    the simulator), the same host and port as the stream. None for a Binance host whose
    REST host is not known."""
    known = _REST_HOSTS.get(target.host.lower().rstrip("."))
    if known is not None:
        return RestTime(known[0], 443, known[1])
    if is_binance_host(target.host):
        return None
    path = "/fapi/v1/time" if target.path.startswith("/market/") else "/api/v3/time"
    return RestTime(target.host, target.port, path, target.secure)


@dataclass(frozen=True)
class ClockMeasurement:
    """The offset of this machine's clock, or why it was not measured."""

    rest: RestTime
    offset: ClockOffset | None
    error: str = ""
    """Why there is no offset (or why there are fewer samples than asked)."""

    def to_dict(self) -> dict[str, JSON]:
        data: dict[str, JSON] = {"server": self.rest.where, "path": self.rest.path}
        if self.offset is not None:
            data.update(self.offset.to_dict())
        if self.error:
            data["error"] = self.error
        return data


async def measure_clock(route: Route, rest: RestTime, deadline: Deadline,
                        context: ssl.SSLContext | None, samples: int = SAMPLES,
                        user_agent: str = "binance-diag") -> ClockMeasurement:
    """`samples` server times on one connection to `route`, within `deadline`; the offset
    of the best. A failure after some samples keeps them (and says what failed)."""
    connection, opened = await open_route(route, deadline, user_agent=user_agent)
    if connection is None:
        return ClockMeasurement(rest, None, opened.detail if opened else "no connection")
    taken: list[TimeSample] = []
    error = ""
    try:
        if rest.secure:
            sni = None if is_ip_literal(rest.host) else rest.host
            await connection.handshake(context or ssl.create_default_context(), sni, deadline)
        request = time_request(rest.host, rest.port, rest.path, user_agent)
        for _ in range(samples):
            response = TimeResponse()
            sent_ms = time.time_ns() / 1e6
            started = time.perf_counter()
            await connection.send(request, deadline)
            while not response.done:
                response.feed(await connection.recv(deadline))
            rtt_ms = (time.perf_counter() - started) * 1000
            if response.server_time_ms is None:
                error = response.error or "no server time"
                break
            taken.append(TimeSample(sent_ms, rtt_ms, response.server_time_ms))
            if not response.keep_alive:
                break
    except TimeoutError:
        error = f"no answer from {rest.where} before the deadline"
    except ssl.SSLCertVerificationError as exc:
        error = f"TLS to {rest.where}: certificate rejected: {exc.verify_message}"
    except ssl.SSLError as exc:
        error = f"TLS to {rest.where}: {exc.reason or exc}"
    except OSError as exc:
        error = f"{rest.where}: {exc or type(exc).__name__}"
    finally:
        connection.close()
    return ClockMeasurement(rest, estimate_offset(taken), error)
