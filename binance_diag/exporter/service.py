"""`binance-diag serve` once its options are parsed: load, bind, serve until a signal.

SIGHUP reloads the modules file (as Prometheus and blackbox do); SIGINT and SIGTERM stop the
server (the CLI turns them into exceptions that unwind through `serve_forever`).
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import TextIO

from ..addresses import hostport
from ..config.errors import ConfigError
from ..exitcodes import ExitCode
from .history import DEFAULT_HISTORY
from .listen import is_loopback, parse_listen
from .modules import load_modules
from .server import DEFAULT_MAX_CONCURRENT, Exporter, ExporterServer


def serve(
    listen: str, config: Path | None, *, max_concurrent: int = DEFAULT_MAX_CONCURRENT,
    timeout_offset: float = 0.5, history: int = DEFAULT_HISTORY, stderr: TextIO | None = None,
) -> ExitCode:
    """Serve until interrupted. Bad options, a bad modules file or a busy port: ConfigError
    (exit 3) before anything listens."""
    err = stderr or sys.stderr
    host, port = parse_listen(listen)
    if not 1 <= max_concurrent <= 10_000:
        raise ConfigError(f"--max-concurrent-probes must be 1-10000, got {max_concurrent}")
    if not 0 <= timeout_offset < 60:  # NaN fails too
        raise ConfigError(f"--timeout-offset must be 0-60 seconds, got {timeout_offset:g}")
    if not 0 <= history <= 100_000:
        raise ConfigError(f"--history must be 0-100000, got {history}")
    exporter = Exporter(load_modules(config), max_concurrent=max_concurrent,
                        timeout_offset=timeout_offset, history=history)
    try:
        server = ExporterServer(exporter, host, port)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {hostport(host, port)}: "
                          f"{exc.strerror or exc}") from None
    address = hostport(host, server.port)
    if not is_loopback(host):
        print(f"binance-diag: warning: listening on {address}: anyone who reaches it can "
              "make this host probe and read its reports", file=err)
    names = ", ".join(exporter.modules.modules)
    print(f"binance-diag serve: listening on http://{address}/ (modules: {names}); "
          "SIGHUP reloads, Ctrl-C stops", file=err, flush=True)

    def reload(signum: int, frame: object) -> None:
        threading.Thread(target=_reload, args=(exporter, err), daemon=True).start()

    previous = signal.signal(signal.SIGHUP, reload)
    try:
        exporter.start()
        if exporter.modules.watch:
            print(f"binance-diag serve: holding streams (watch: "
                  f"{', '.join(exporter.modules.watch)})", file=err, flush=True)
        server.serve_forever(poll_interval=0.2)
    finally:
        signal.signal(signal.SIGHUP, previous)
        server.server_close()
        exporter.close()
    return ExitCode.OK


def _reload(exporter: Exporter, err: TextIO) -> None:
    error = exporter.reload()
    if error is None:
        watch = ", ".join(exporter.modules.watch)
        print(f"binance-diag serve: reloaded (modules: {', '.join(exporter.modules.modules)}"
              f"{f'; watch: {watch}' if watch else ''})", file=err, flush=True)
    else:
        print(f"binance-diag serve: reload failed, modules kept: {error}", file=err,
              flush=True)
