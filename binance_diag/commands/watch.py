"""`binance-diag watch`: hold the stream for hours, probe beside it, catch the stall."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def watch(
    symbols: Annotated[list[str], typer.Argument(help="Symbols, e.g. BTCUSDT ETHUSDT.",
                                                 metavar="SYMBOL")],
    duration: Annotated[str, typer.Option(
        "--duration", help="How long to watch: 8h, 90m, 60s (Ctrl-C ends it sooner, with "
        "the summary).", metavar="SPAN")] = "8h",
    every: Annotated[str, typer.Option(
        "--every", help="A fresh full probe beside the held stream this often.",
        metavar="SPAN")] = "60s",
    reports: Annotated[Path | None, typer.Option(
        "--reports", help="Write an incident report (Markdown and JSON) here for every "
        "stall, close and failed probe, and the summary at the end.", metavar="DIR")] = None,
    stall_factor: Annotated[float, typer.Option(
        "--stall-factor", help="A gap this many times the stream's median gap is a stall...",
        metavar="N")] = 20.0,
    stall_floor: Annotated[str, typer.Option(
        "--stall-floor", help="...if it is also at least this long.", metavar="SPAN")] = "10s",
    lifetime: Annotated[str, typer.Option(
        "--lifetime", help="Binance's connection lifetime: a close at this age is its daily "
        "disconnect.", metavar="SPAN")] = "24h",
    stream: Annotated[str, typer.Option(help="Stream type.", metavar="TYPE")] = "aggTrade",
    endpoint: Annotated[str, typer.Option(
        help="Preset name (see `endpoints`) or a ws:// / wss:// base URL.",
        metavar="NAME|URL")] = "spot",
    resolver: Annotated[list[str] | None, typer.Option(
        "--resolver", help="DNS server to use instead of the system's (repeatable).",
        metavar="IP[:PORT]")] = None,
    resolve: Annotated[list[str] | None, typer.Option(
        "--resolve", help="Connect to ADDR for HOST:PORT, without DNS (repeatable).",
        metavar="HOST:PORT:ADDR")] = None,
    ca_bundle: Annotated[str | None, typer.Option(
        "--ca-bundle", help="Trust this PEM bundle, not certifi's.", metavar="FILE")] = None,
    timeout: Annotated[float | None, typer.Option(
        "--timeout", help="Seconds for every stage of each probe.", metavar="S")] = None,
    message_timeout: Annotated[float | None, typer.Option(
        "--message-timeout", help="Seconds for the first_message stage.", metavar="S")] = None,
    ipv4: Annotated[bool, typer.Option("-4", "--ipv4", help="Connect over IPv4 only.")] = False,
    ipv6: Annotated[bool, typer.Option("-6", "--ipv6", help="Connect over IPv6 only.")] = False,
    proxy: Annotated[str | None, typer.Option(
        "--proxy", help="Proxy URL: http://[user:pass@]host:port or socks5[h]://.",
        metavar="URL")] = None,
    no_proxy: Annotated[bool, typer.Option(
        "--no-proxy", help="Ignore proxy variables; connect directly.")] = False,
    json_summary: Annotated[bool, typer.Option(
        "--json", help="The summary on stdout as JSON instead of Markdown.")] = False,
) -> None:
    """Hold a market stream for hours beside periodic probes; catch and explain stalls."""
    import os
    import sys

    from ..config.errors import ConfigError
    from ..config.options import ProbeOptions, build_probe_setup
    from ..config.probe import parse_families
    from ..watch.config import StallRule, WatchConfig, parse_span
    from .common import command_line

    setup = build_probe_setup(ProbeOptions(
        symbols=symbols, stream=stream, endpoints=[endpoint], resolvers=resolver or (),
        resolve=resolve or (), ca_bundle=ca_bundle, timeout=timeout,
        message_timeout=message_timeout, families=parse_families(ipv4, ipv6), proxy=proxy,
        no_proxy=no_proxy), os.environ)
    if len(setup.configs) != 1:
        raise ConfigError("watch holds one endpoint: give one --endpoint")
    for warning in setup.warnings:
        print(f"binance-diag: warning: {warning}", file=sys.stderr)
    config = WatchConfig(
        probe=setup.configs[0], duration=parse_span(duration, "--duration"),
        every=parse_span(every, "--every"), reports=reports,
        stall=StallRule(stall_factor, parse_span(stall_floor, "--stall-floor")),
        lifetime=parse_span(lifetime, "--lifetime"), command=command_line())
    from ..watch.run import run_watch_command

    raise typer.Exit(int(run_watch_command(config, json_summary)))
