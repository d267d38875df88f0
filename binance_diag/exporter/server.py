"""The exporter's HTTP server: routes, and the state the routes share.

    GET  /probe?target=SYMBOLS&module=NAME   one probe, its metrics (blackbox's /probe)
    GET  /metrics                            the exporter's own metrics
    GET  /                                   status page: recent probes
    GET  /report?id=N&format=markdown|json   a recent probe's full report
    POST /-/reload                           reload the modules file (also SIGHUP)
    GET  /-/healthy                          200 while the server runs

One thread per request (`ThreadingHTTPServer`); a connection that sends nothing is dropped
after `REQUEST_TIMEOUT`, and a probe never holds its scrape past the budget (probing.py).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector, CollectorRegistry

from .. import __version__
from ..config.errors import ConfigError
from ..config.guard import DEFAULT_SETTINGS, GuardSettings
from .budget import DEFAULT_TIMEOUT_OFFSET, SCRAPE_TIMEOUT_HEADER, scrape_budget
from .history import DEFAULT_HISTORY, History
from .metrics import probe_registry
from .modules import DEFAULT_MODULE, Modules, load_modules
from .pages import status_page
from .probing import ProbeSlots, probe_within
from .selfmetrics import ExporterMetrics
from .watching import WatchTargets
from .watchmetrics import WatchCollector

DEFAULT_MAX_CONCURRENT = 16
REQUEST_TIMEOUT = 30.0
"""Seconds a client connection may stay silent before it is dropped (slow-loris)."""
MAX_TARGET_LENGTH = 2048


@dataclass(frozen=True)
class Response:
    status: HTTPStatus
    body: bytes
    content_type: str = "text/plain; charset=utf-8"


class Exporter:
    """What the routes share: the modules in force, the probe slots, history and metrics."""

    def __init__(
        self, modules: Modules, *, max_concurrent: int = DEFAULT_MAX_CONCURRENT,
        timeout_offset: float = DEFAULT_TIMEOUT_OFFSET, history: int = DEFAULT_HISTORY,
        environ: Mapping[str, str] | None = None, guard: GuardSettings = DEFAULT_SETTINGS,
    ) -> None:
        self._modules = modules
        self._lock = threading.Lock()
        self.slots = ProbeSlots(max_concurrent)
        self.timeout_offset = timeout_offset
        self.history = History(history)
        self.environ = dict(os.environ if environ is None else environ)
        self.guard = guard
        self.metrics = ExporterMetrics(self.slots)
        self.metrics.reloaded(True)
        for name in modules.modules:
            self.metrics.module_seen(name)
        self.watching = WatchTargets(self.environ)
        self.live_collectors: list[Collector] = [WatchCollector(self.watching.figures)]
        """Collectors read at each /metrics scrape, between probes: the held streams'."""
        self._started = False

    def start(self) -> None:
        """Start the modules file's watch targets (held streams)."""
        with self._lock:
            self._started = True
        self.watching.apply(self.modules.watch)

    def close(self) -> None:
        """Stop the held streams (the HTTP server is stopped by its owner)."""
        with self._lock:
            self._started = False
        self.watching.close()

    @property
    def modules(self) -> Modules:
        with self._lock:
            return self._modules

    def reload(self) -> str | None:
        """Load the modules file again; the error (old modules kept), or None."""
        source = self.modules.source
        try:
            modules = load_modules(source) if source is not None else self.modules
        except ConfigError as exc:
            self.metrics.reloaded(False)
            return str(exc)
        with self._lock:
            self._modules = modules
            started = self._started
        for name in modules.modules:
            self.metrics.module_seen(name)
        if started:
            self.watching.apply(modules.watch)
        self.metrics.reloaded(True)
        return None

    # -- routes --------------------------------------------------------------------------

    def probe(self, query: Mapping[str, list[str]], scrape_timeout: str | None = None
              ) -> Response:
        """One probe: 200 with its metrics whatever the stream did; 4xx/5xx when no probe
        could be run (Prometheus then records `up` 0 for the scrape, as with blackbox).
        `scrape_timeout` is the X-Prometheus-Scrape-Timeout-Seconds header."""
        module_name = _one(query, "module") or DEFAULT_MODULE
        target = _one(query, "target")
        if not target:
            return self._error("bad_request", HTTPStatus.BAD_REQUEST,
                               "Target parameter is missing")
        if len(target) > MAX_TARGET_LENGTH:
            return self._error("bad_request", HTTPStatus.BAD_REQUEST, "Target is too long")
        module = self.modules.get(module_name)
        if module is None:
            return self._error("unknown_module", HTTPStatus.BAD_REQUEST,
                               f"Unknown module {module_name!r}")
        symbols = [s for s in target.replace(" ", ",").split(",") if s]
        try:
            config = module.probe_config(symbols, self.environ)
            budget = scrape_budget(scrape_timeout, module.timeout,
                                   self.timeout_offset)
        except (ConfigError, ValueError) as exc:
            return self._error("bad_request", HTTPStatus.BAD_REQUEST, str(exc))
        # Waiting for a slot spends the scrape's budget: what is left is the probe's.
        started = time.monotonic()
        if not self.slots.acquire(budget / 2):
            return self._error("busy", HTTPStatus.SERVICE_UNAVAILABLE,
                               f"{self.slots.limit} probes already running "
                               "(--max-concurrent-probes)")
        budget -= time.monotonic() - started
        command = f"binance-diag serve: /probe?target={','.join(config.target.symbols)}" \
                  f"&module={module_name}"
        try:
            run = probe_within(config, budget, command=command, settings=self.guard,
                               slots=self.slots)
        except Exception as exc:  # noqa: BLE001 - a bug in one probe must not kill the server
            return self._error("internal", HTTPStatus.INTERNAL_SERVER_ERROR,
                               f"internal error: {type(exc).__name__}: {exc}")
        self.history.add(module_name, ",".join(config.target.symbols), run)
        self.metrics.probe_done(module_name, run.report.failed_stage is None, run.duration_s,
                                run.cut_short)
        return Response(HTTPStatus.OK,
                        generate_latest(probe_registry(run.report, run.duration_s)),
                        CONTENT_TYPE_LATEST)

    def exporter_metrics(self) -> Response:
        body = generate_latest(self.metrics.registry)
        for collector in self.live_collectors:
            live = CollectorRegistry(auto_describe=False)
            live.register(collector)
            body += generate_latest(live)
        return Response(HTTPStatus.OK, body, CONTENT_TYPE_LATEST)

    def status(self) -> Response:
        page = status_page(self.history.recent(), self.modules, __version__)
        return Response(HTTPStatus.OK, page.encode(), "text/html; charset=utf-8")

    def report(self, query: Mapping[str, list[str]]) -> Response:
        record = self.history.get(_one(query, "id") or "")
        if record is None:
            return Response(HTTPStatus.NOT_FOUND,
                            b"No such probe (the history keeps the most recent ones)\n")
        output_format = _one(query, "format") or "markdown"
        if output_format == "markdown":
            from ..render.markdown import MarkdownFormatter

            text = MarkdownFormatter().format(record.run.report)
            return Response(HTTPStatus.OK, text.encode(), "text/markdown; charset=utf-8")
        if output_format == "json":
            from ..render.json import JsonFormatter

            text = JsonFormatter().format(record.run.report)
            return Response(HTTPStatus.OK, text.encode(), "application/json")
        return Response(HTTPStatus.BAD_REQUEST, b"format must be markdown or json\n")

    def reload_route(self) -> Response:
        error = self.reload()
        if error is not None:
            return Response(HTTPStatus.INTERNAL_SERVER_ERROR,
                            f"failed to reload config: {error}\n".encode())
        return Response(HTTPStatus.OK, b"reloaded\n")

    def _error(self, reason: str, status: HTTPStatus, message: str) -> Response:
        self.metrics.errors.labels(reason).inc()
        return Response(status, (message + "\n").encode())


def _one(query: Mapping[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


class _Handler(BaseHTTPRequestHandler):
    server: ExporterServer
    timeout = REQUEST_TIMEOUT
    server_version = f"binance-diag/{__version__}"

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        exporter = self.server.exporter
        if parts.path == "/probe":
            self._send(exporter.probe(query, self.headers.get(SCRAPE_TIMEOUT_HEADER)))
        elif parts.path == "/metrics":
            self._send(exporter.exporter_metrics())
        elif parts.path == "/":
            self._send(exporter.status())
        elif parts.path == "/report":
            self._send(exporter.report(query))
        elif parts.path == "/-/healthy":
            self._send(Response(HTTPStatus.OK, b"Healthy\n"))
        elif parts.path == "/-/reload":
            self._send(Response(HTTPStatus.METHOD_NOT_ALLOWED, b"use POST\n"))
        else:
            self._send(Response(HTTPStatus.NOT_FOUND, b"Not found\n"))

    def do_POST(self) -> None:  # noqa: N802
        if urlsplit(self.path).path == "/-/reload":
            self._send(self.server.exporter.reload_route())
        else:
            self._send(Response(HTTPStatus.NOT_FOUND, b"Not found\n"))

    def _send(self, response: Response) -> None:
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # Prometheus gave up on the scrape: nothing to tell it

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass  # the status page and /metrics say what happened; no log per scrape


class ExporterServer(ThreadingHTTPServer):
    daemon_threads = True
    """Request threads never hold the process at exit."""
    allow_reuse_address = True
    request_queue_size = 1024
    """socketserver's default backlog is 5: with more scrapes arriving at once, Linux drops
    the handshake's last ACK and the scraper waits on SYN-ACK retransmits (1 s, 3 s, 7 s...)."""

    def __init__(self, exporter: Exporter, host: str, port: int) -> None:
        self.exporter = exporter
        if ":" in host:
            self.address_family = socket.AF_INET6
        super().__init__((host, port), _Handler)

    @property
    def port(self) -> int:
        port: int = self.server_address[1]
        return port


@contextmanager
def running(exporter: Exporter, host: str = "127.0.0.1", port: int = 0
            ) -> Iterator[ExporterServer]:
    """Serve on a thread for the block, its watch targets held, then shut all down (tests,
    benchmarks)."""
    server = ExporterServer(exporter, host, port)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="exporter", daemon=True)
    thread.start()
    try:
        exporter.start()
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
        exporter.close()
