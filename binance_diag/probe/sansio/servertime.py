"""Binance's server time (`GET /api/v3/time`) as bytes in and out, and the NTP-style clock
offset from a few samples. Pure: the I/O shell is probe/servertime.py.

Theory of operation: the request goes out at local time t0, the answer `{"serverTime": S}`
is back at t1. The server read its clock somewhere in between, so, as NTP does (RFC 5905
§8, with one server time instead of two), offset = S - (t0 + t1) / 2 with an error of at
most half the round trip, plus the 1 ms resolution of S. Of several samples the one with
the smallest round trip has the tightest bound, so it is the one that counts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ...addresses import bracketed
from ...safety.sanitize import peer_text
from .payload import MAX_EVENT_TIME_MS

TIME_RESOLUTION_MS = 1.0
"""`serverTime` counts whole milliseconds."""
SKEW_SUSPECT_MS = 2000.0
"""An event time further than this from the local clock is more than network latency
explains: the clock is off, or delivery is late. Only then is the server time asked."""
CLOCK_OFF_MS = 1000.0
"""An offset surely beyond this (its size minus its bound) is a clock off: Binance's signed
requests already fail at 1 s ahead (-1021), and latencies read on it are wrong."""
LATE_MS = 1000.0
"""An event-to-receipt latency surely beyond this (minus the bound) is late delivery."""
MAX_RESPONSE_BYTES = 16 * 1024
"""`{"serverTime":...}` is 30 bytes; a response past this is not Binance's time."""


def time_request(host: str, port: int, path: str, user_agent: str = "binance-diag") -> bytes:
    """One keep-alive GET: several samples share a connection, so only the first pays for
    TCP and TLS and the round trips measured are the HTTP exchange's own."""
    authority = bracketed(host) if port in (80, 443) else f"{bracketed(host)}:{port}"
    return (f"GET {path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: {user_agent}\r\n"
            "Accept: application/json\r\nConnection: keep-alive\r\n\r\n").encode("ascii")


class TimeResponse:
    """One HTTP/1.1 response to `time_request`, fed as it arrives.

    `done` once the body is complete; then `server_time_ms` holds the time or `error` says
    why there is none (status, headers, body - peer text, escaped and bounded).
    """

    def __init__(self) -> None:
        self._buffer = b""
        self._eof = False
        self.server_time_ms: int | None = None
        self.error: str | None = None
        self.status: int | None = None
        self.keep_alive = True

    @property
    def done(self) -> bool:
        return self.server_time_ms is not None or self.error is not None

    def feed(self, data: bytes) -> None:
        if self.done:
            return
        if not data:
            self._eof = True
        self._buffer += data
        if len(self._buffer) > MAX_RESPONSE_BYTES:
            self.error = f"the response is over {MAX_RESPONSE_BYTES} bytes"
            return
        self._parse()

    def _parse(self) -> None:
        head, found, rest = self._buffer.partition(b"\r\n\r\n")
        if not found:
            if self._eof:
                self.error = "the connection closed before a complete response"
            return
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            self.error = f"not an HTTP response: {peer_text(lines[0], 80)}"
            return
        self.status = int(parts[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        self.keep_alive = headers.get("connection", "").lower() != "close" \
            and parts[0] == "HTTP/1.1"
        body = self._body(headers, rest)
        if body is None:
            return
        if self.status != 200:
            reason = parts[2] if len(parts) > 2 else ""
            self.error = (f"HTTP {self.status} {peer_text(reason, 80)}".rstrip()
                          + f": {peer_text(body, 120)}")
            return
        self._read_time(body)

    def _body(self, headers: dict[str, str], rest: bytes) -> bytes | None:
        """The whole body, or None while more is due (or when an error was set)."""
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return self._dechunk(rest)
        length = headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                self.error = f"Content-Length is not a number: {peer_text(length, 40)}"
                return None
            if len(rest) < int(length):
                if self._eof:
                    self.error = "the connection closed in the middle of the body"
                return None
            return rest[:int(length)]
        self.keep_alive = False  # the body ends with the connection (RFC 9112 §6.3)
        return rest if self._eof else None

    def _dechunk(self, data: bytes) -> bytes | None:
        body = b""
        while True:
            size_line, found, data = data.partition(b"\r\n")
            if not found:
                break
            size_text = size_line.split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                self.error = f"a bad chunk size: {peer_text(size_text, 40)}"
                return None
            if size == 0:
                return body
            if len(data) < size + 2:
                break
            body, data = body + data[:size], data[size + 2:]
        if self._eof:
            self.error = "the connection closed in the middle of the body"
        return None

    def _read_time(self, body: bytes) -> None:
        try:
            message = json.loads(body)
        except (ValueError, RecursionError):
            self.error = f"the body is not JSON: {peer_text(body, 120)}"
            return
        value = message.get("serverTime") if isinstance(message, dict) else None
        if not isinstance(value, int) or isinstance(value, bool) \
                or not 0 <= value <= MAX_EVENT_TIME_MS:
            self.error = f"no serverTime in milliseconds: {peer_text(body, 120)}"
            return
        self.server_time_ms = value


def event_lags(streams: object) -> dict[str, float]:
    """Each stream's raw lag (local receipt - event time E) from the first_message stage's
    `streams` details; streams without one are left out."""
    if not isinstance(streams, Mapping):
        return {}
    lags = {}
    for name, info in streams.items():
        lag = info.get("event_time_lag_ms") if isinstance(info, Mapping) else None
        if isinstance(lag, int | float) and not isinstance(lag, bool):
            lags[str(name)] = float(lag)
    return lags


@dataclass(frozen=True)
class TimeSample:
    """One exchange: local wall-clock ms when the request left, its round trip, and the
    server's answer."""

    sent_ms: float
    rtt_ms: float
    server_ms: int

    @property
    def offset_ms(self) -> float:
        return self.server_ms - (self.sent_ms + self.rtt_ms / 2)


@dataclass(frozen=True)
class ClockOffset:
    """Binance's clock minus this machine's: positive when the local clock is behind.
    The true offset lies within `offset_ms` ± `bound_ms`."""

    offset_ms: float
    bound_ms: float
    rtt_ms: float
    samples: int

    def latency_ms(self, lag_ms: float) -> float:
        """Event-to-receipt latency from a raw lag (local receipt - event time E): the
        lag read on Binance's clock, ± `bound_ms`."""
        return lag_ms + self.offset_ms

    def to_dict(self) -> dict[str, float | int]:
        return {"offset_ms": round(self.offset_ms, 1), "bound_ms": round(self.bound_ms, 1),
                "rtt_ms": round(self.rtt_ms, 3), "samples": self.samples}


def estimate_offset(samples: Sequence[TimeSample]) -> ClockOffset | None:
    """The offset of the sample with the smallest round trip, its bound rtt/2 plus the
    server time's resolution; None without samples."""
    if not samples:
        return None
    best = min(samples, key=lambda s: s.rtt_ms)
    return ClockOffset(best.offset_ms, best.rtt_ms / 2 + TIME_RESOLUTION_MS, best.rtt_ms,
                       len(samples))


def judge_lag(offset: ClockOffset, lag_ms: float) -> str:
    """What a raw lag is made of, given the offset: `clock_off`, `late_delivery`,
    `clock_off_and_late`, or `not_separated` (neither is surely past its threshold)."""
    clock_off = abs(offset.offset_ms) - offset.bound_ms > CLOCK_OFF_MS
    late = offset.latency_ms(lag_ms) - offset.bound_ms > LATE_MS
    if clock_off and late:
        return "clock_off_and_late"
    if clock_off:
        return "clock_off"
    return "late_delivery" if late else "not_separated"
