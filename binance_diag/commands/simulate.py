"""`binance-diag simulate` (a fake Binance with one named fault) and `binance-diag demo`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..render.formats import OutputFormat


def simulate(
    fault: Annotated[
        str | None, typer.Option("--fault", help="The fault to serve (see --list).", metavar="NAME")
    ] = None,
    list_faults: Annotated[
        bool, typer.Option("--list", help="List the faults and what a probe concludes.")
    ] = False,
    host: Annotated[
        str, typer.Option(help="IP address to listen on (loopback unless --allow-external).",
                          metavar="IP")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="Port to listen on; 0 picks a free one.",
                          metavar="PORT")
    ] = 0,
    symbols: Annotated[
        list[str] | None,
        typer.Option("--symbols", help="Symbols that trade, e.g. BTCUSDT,ETHUSDT (others "
                     "stay silent, like Binance); all go in the printed probe line.",
                     metavar="SYMBOLS"),
    ] = None,
    delay: Annotated[
        float | None, typer.Option("--delay", help="slow-first-message: ms before the "
                                   "first event (default 1000).", metavar="MS")
    ] = None,
    after: Annotated[
        int | None,
        typer.Option("--after", help="stall-after / server-shutdown: events per stream "
                     "sent first (default 3 / 0).", metavar="N"),
    ] = None,
    ping_interval: Annotated[
        float | None,
        typer.Option("--ping-interval", help="Seconds between server pings (Binance: 20); "
                     "a pong is due within 3x that.", metavar="S"),
    ] = None,
    trickle_interval: Annotated[
        float | None,
        typer.Option("--trickle-interval", help="trickle: seconds between two bytes "
                     "(default 1).", metavar="S"),
    ] = None,
    no_tls: Annotated[
        bool, typer.Option("--no-tls", help="Serve ws:// instead of wss://.")
    ] = False,
    dns: Annotated[
        bool, typer.Option("--dns", help="Also serve DNS (UDP) answering the Binance host "
                           "names.")
    ] = False,
    cert: Annotated[
        Path | None, typer.Option("--cert", help="Serve this certificate (PEM) instead of one "
                                  "from a CA made for this run.", metavar="FILE")
    ] = None,
    key: Annotated[Path | None, typer.Option("--key", help="The private key of --cert.",
                                             metavar="FILE")] = None,
    hostname: Annotated[
        str, typer.Option(help="Host name in the URL and in TLS (SNI).", metavar="NAME")
    ] = "stream.binance.com",
    path_prefix: Annotated[
        str, typer.Option("--path-prefix", help="Serve streams under this path, e.g. /market "
                          "(USD-M futures since 2026-04, with futures payloads).",
                          metavar="PATH")
    ] = "",
    allow_external: Annotated[
        bool, typer.Option("--allow-external", help="Allow a non-loopback --host.")
    ] = False,
) -> None:
    """Serve a fake Binance stream endpoint with one named fault, until Ctrl-C (exit 0)."""
    if list_faults:
        from ..simulate.catalogue import catalogue_lines

        if fault is not None:
            import sys

            print("binance-diag: note: --fault is ignored with --list", file=sys.stderr)
        print("\n".join(catalogue_lines()))
        return
    from ..config.errors import ConfigError

    if fault is None:
        raise ConfigError("simulate needs --fault NAME (or --list to see them)")
    _check_fault_given(fault)
    from ..run.simulate import SimulateRequest, serve, split_symbols

    request = SimulateRequest(
        fault=fault, host=host, port=port, symbols=split_symbols(symbols), delay_ms=delay,
        after=after, ping_interval=ping_interval, trickle_interval=trickle_interval,
        tls=not no_tls, dns=dns, cert=cert, key=key, allow_external=allow_external,
        hostname=hostname, path_prefix=path_prefix,
    )
    raise typer.Exit(serve(request))


def demo(
    fault: Annotated[
        str | None,
        typer.Option("--fault", help="The fault to simulate (default: tls-hang, the seed "
                     "incident; see `simulate --list`).", metavar="NAME"),
    ] = None,
    all_faults: Annotated[
        bool, typer.Option("--all", help="Run every fault; a table; exit 0 when each is "
                           "diagnosed as catalogued.")
    ] = False,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="Report format, as for probe.")
    ] = OutputFormat.RICH,
    output: Annotated[
        Path | None, typer.Option("--output", help="Also write the report to this file.",
                                  metavar="FILE")
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option("--timeout", help="Seconds for every stage of the probe (default 2).",
                     metavar="S"),
    ] = None,
) -> None:
    """Offline: probe a simulated fault on loopback and show the full report."""
    if fault is not None:
        _check_fault_given(fault)
    if all_faults:
        from ..run.demo import check_all_arguments, run_demo_all

        check_all_arguments(fault, output_format, output)
        raise typer.Exit(int(run_demo_all(timeout)))
    from ..run.demo import DEFAULT_FAULT, run_demo

    code = run_demo(DEFAULT_FAULT if fault is None else fault, output_format, output,
                    timeout)
    raise typer.Exit(int(code))


def _check_fault_given(fault: str) -> None:
    """`--fault ''` names nothing: refused, never read as the default fault."""
    from ..config.errors import ConfigError

    if not fault.strip():
        raise ConfigError("--fault is empty: name a fault (binance-diag simulate --list)")
