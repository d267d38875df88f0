"""`binance-diag probe` and `binance-diag endpoints`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..render.formats import OutputFormat
from .common import command_line


def probe(
    symbols: Annotated[list[str], typer.Argument(help="Symbols, e.g. BTCUSDT ETHUSDT.",
                                                 metavar="SYMBOL")],
    stream: Annotated[str, typer.Option(help="Stream type.", metavar="TYPE")] = "aggTrade",
    endpoint: Annotated[
        list[str] | None,
        typer.Option(help="Preset name (see `endpoints`) or a ws:// / wss:// base URL; several "
                     "(repeated or comma-separated) or `all` probe them side by side.",
                     metavar="NAME|URL"),
    ] = None,
    resolver: Annotated[
        list[str] | None,
        typer.Option("--resolver", help="DNS server to use instead of the system's "
                     "(repeatable).", metavar="IP[:PORT]"),
    ] = None,
    compare_resolvers: Annotated[
        list[str] | None,
        typer.Option("--compare-resolvers",
                     help="Also ask this DNS server and compare its answer (repeatable).",
                     metavar="IP[:PORT]"),
    ] = None,
    resolve: Annotated[
        list[str] | None,
        typer.Option("--resolve", help="Connect to ADDR for HOST:PORT, without DNS (curl's "
                     "syntax; repeatable).", metavar="HOST:PORT:ADDR"),
    ] = None,
    ca_bundle: Annotated[
        str | None, typer.Option("--ca-bundle", help="Trust this PEM bundle, not certifi's.",
                                    metavar="FILE")
    ] = None,
    timeout: Annotated[
        float | None, typer.Option("--timeout", help="Seconds for every stage (defaults: 5, first "
                                  "message 10).", metavar="S")
    ] = None,
    dns_timeout: Annotated[float | None, typer.Option(
        "--dns-timeout", help="Seconds for the dns stage (wins over --timeout).",
        metavar="S")] = None,
    connect_timeout: Annotated[float | None, typer.Option(
        "--connect-timeout", help="Seconds for the tcp stage (and the proxy handshake).",
        metavar="S")] = None,
    tls_timeout: Annotated[float | None, typer.Option(
        "--tls-timeout", help="Seconds for the tls stage.", metavar="S")] = None,
    upgrade_timeout: Annotated[float | None, typer.Option(
        "--upgrade-timeout", help="Seconds for the ws_upgrade stage.", metavar="S")] = None,
    message_timeout: Annotated[float | None, typer.Option(
        "--message-timeout", help="Seconds for the first_message stage.", metavar="S")] = None,
    duration: Annotated[
        float | None,
        typer.Option("--duration", help="Keep the stream open S seconds after the first "
                     "message and report rate, gaps, pings.", metavar="S"),
    ] = None,
    ipv4: Annotated[bool, typer.Option("-4", "--ipv4", help="Connect over IPv4 only.")] = False,
    ipv6: Annotated[bool, typer.Option("-6", "--ipv6", help="Connect over IPv6 only.")] = False,
    proxy: Annotated[
        str | None,
        typer.Option("--proxy", help="Proxy URL: http://[user:pass@]host:port or socks5[h]://.",
                     metavar="URL"),
    ] = None,
    no_proxy: Annotated[
        bool, typer.Option("--no-proxy", help="Ignore proxy variables; connect directly.")
    ] = False,
    output_format: Annotated[
        OutputFormat,
        typer.Option("--format", help="Report format (rich: plain text when not a terminal)."),
    ] = OutputFormat.RICH,
    output: Annotated[
        Path | None,
        typer.Option("--output", help="Write the report in --format to this file (atomically; "
                     "- for stdout); a terminal still shows the rich view.", metavar="FILE"),
    ] = None,
    warn: Annotated[
        list[str] | None,
        typer.Option("--warn", help="A passed stage slower than MS is a WARNING "
                     "(repeatable).", metavar="STAGE=MS"),
    ] = None,
    crit: Annotated[
        list[str] | None,
        typer.Option("--crit", help="A passed stage slower than MS is CRITICAL "
                     "(repeatable).", metavar="STAGE=MS"),
    ] = None,
    loop_interval: Annotated[
        float | None,
        typer.Option("--loop-interval", help="Milliseconds between event-loop heartbeats "
                     "(default 50).", metavar="MS"),
    ] = None,
    loop_threshold: Annotated[
        float | None,
        typer.Option("--loop-threshold", help="Loop lag recorded as a blockage, with its "
                     "stack (default 100).", metavar="MS"),
    ] = None,
    deadline_grace: Annotated[
        float | None,
        typer.Option("--deadline-grace", help="How long a stage may overrun its timeout "
                     "before the watchdog ends the run from its own thread (default 500).",
                     metavar="MS"),
    ] = None,
    experiments_timeout: Annotated[
        float | None,
        typer.Option("--experiments-timeout", help="Seconds for the follow-up experiments "
                     "after a failure or a slow stage (default 3; see docs/experiments.md).",
                     metavar="S"),
    ] = None,
    no_experiments: Annotated[
        bool, typer.Option("--no-experiments", help="Run no follow-up experiments.")
    ] = False,
    count: Annotated[int | None, typer.Option(
        "--count", min=1, help="Probe N times in a row (each a full probe with its own "
        "budget) and print one summary: per-stage success %, p50/p95/max, error kinds.",
        metavar="N")] = None,
    interval: Annotated[float, typer.Option(
        "--interval", min=0.0, help="Seconds between two runs of --count.",
        metavar="S")] = 1.0,
    max_failures: Annotated[int | None, typer.Option(
        "--max-failures", min=0, help="With --count: this many failed runs are tolerated "
        "(exit code from the others); one more is CRITICAL. Default: the worst run's code.",
        metavar="K")] = None,
    quiet: Annotated[
        bool, typer.Option("-q", "--quiet", help="Print the verdict line only (files given "
                           "with --output still get the whole report); no progress.")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("-v", "--verbose", help="Trace each stage on stderr, as curl -v: "
                           "DNS queries and answers, TCP attempts, TLS session and "
                           "certificate, upgrade request and response, first frames.")
    ] = False,
) -> None:
    """Probe a market stream stage by stage: dns, tcp, tls, ws_upgrade, first_message."""
    import os
    import sys
    from dataclasses import replace

    from ..config.errors import ConfigError
    from ..config.guard import parse_guard_settings
    from ..config.options import ProbeOptions, build_probe_setup
    from ..config.probe import parse_experiments, parse_families
    from ..diagnose.thresholds import parse_thresholds

    # Every option is checked before the first packet, whichever path runs below.
    guard = parse_guard_settings(loop_interval, loop_threshold, deadline_grace)
    if quiet and verbose:
        raise ConfigError("-q and -v exclude each other: -q prints the verdict line only")
    setup = build_probe_setup(ProbeOptions(
        symbols=symbols, stream=stream, endpoints=endpoint or ["spot"],
        resolvers=resolver or (), compare_resolvers=compare_resolvers or (),
        resolve=resolve or (), ca_bundle=ca_bundle, timeout=timeout, dns_timeout=dns_timeout,
        connect_timeout=connect_timeout, tls_timeout=tls_timeout,
        upgrade_timeout=upgrade_timeout, message_timeout=message_timeout, duration=duration,
        families=parse_families(ipv4, ipv6), proxy=proxy, no_proxy=no_proxy,
    ), os.environ)
    thresholds = parse_thresholds(warn or (), crit or ())
    if (quiet or verbose) and len(setup.configs) > 1:
        raise ConfigError(f"{'-q' if quiet else '-v'} applies to one endpoint; the matrix of "
                          f"{len(setup.configs)} endpoints has its own one-line verdict")
    if quiet and output_format is not OutputFormat.RICH and output is None:
        raise ConfigError(f"-q prints the verdict line only: --format {output_format.value} "
                          "needs --output FILE")
    experiments = parse_experiments(experiments_timeout, no_experiments)
    setup = replace(setup, configs=tuple(replace(c, experiments=experiments)
                                         for c in setup.configs))
    for warning in setup.warnings:
        print(f"binance-diag: warning: {warning}", file=sys.stderr)
    if count is not None:
        if len(setup.configs) > 1 or quiet or verbose or \
                output_format is OutputFormat.HTML:
            raise ConfigError("--count summarises one endpoint in rich, markdown, json, "
                              "junit or nagios: without several endpoints, -q, -v or html")
        from ..run.repeat import run_count_command

        raise typer.Exit(int(run_count_command(
            setup.configs[0], output_format, output, command_line(), count, interval,
            max_failures, thresholds, guard)))
    if max_failures is not None:
        raise ConfigError("--max-failures applies to --count N")
    if len(setup.configs) > 1:
        from ..run.matrix import run_matrix_command

        raise typer.Exit(int(run_matrix_command(list(setup.configs), output_format, output,
                                                command_line(), thresholds, guard)))
    from ..run.probe import run_probe_command

    code = run_probe_command(setup.configs[0], output_format, output, command_line(),
                             thresholds, guard, quiet=quiet, verbose=verbose)
    raise typer.Exit(int(code))


def endpoints() -> None:
    """List the endpoint presets usable with --endpoint."""
    from ..config.endpoints import DEFAULT_ENDPOINT, ENDPOINTS

    width = max(len(name) for name in ENDPOINTS)
    for name, endpoint in ENDPOINTS.items():
        mark = " (default)" if name == DEFAULT_ENDPOINT else ""
        print(f"{name:<{width}}  {endpoint.base_url:<40} {endpoint.description}{mark}")
