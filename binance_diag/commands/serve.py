"""`binance-diag serve`: the Prometheus exporter (see docs/prometheus.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def serve(
    listen: Annotated[
        str, typer.Option("--listen", help="Address to listen on; anything but loopback "
                          "only when asked.", metavar="HOST:PORT"),
    ] = "127.0.0.1:9115",
    config: Annotated[
        Path | None, typer.Option("--config", help="Modules file (TOML); without it, one "
                                  "module, `default`, probes the spot preset.",
                                  metavar="FILE"),
    ] = None,
    max_concurrent: Annotated[
        int, typer.Option("--max-concurrent-probes", help="Probes running at once, at most; "
                          "scrapes beyond wait, then get 503.", metavar="N"),
    ] = 16,
    timeout_offset: Annotated[
        float, typer.Option("--timeout-offset", help="Seconds kept from Prometheus' scrape "
                            "timeout for the answer's way back (blackbox's flag).",
                            metavar="S"),
    ] = 0.5,
    history: Annotated[
        int, typer.Option("--history", help="Recent probes kept for the status page and "
                          "/report.", metavar="N"),
    ] = 100,
) -> None:
    """Serve probes to Prometheus: GET /probe?target=SYMBOLS&module=NAME, blackbox-style."""
    from ..exporter.service import serve as run_server

    code = run_server(listen, config, max_concurrent=max_concurrent,
                      timeout_offset=timeout_offset, history=history)
    raise typer.Exit(int(code))
