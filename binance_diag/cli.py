"""The command line: options -> config -> run -> render -> exit code. Wiring only.

Heavy imports (asyncio, websockets, dnspython, ssl) happen inside the commands that need
them, so `--version` and `--help` stay fast.
"""

from __future__ import annotations

import sys
from typing import Annotated, NoReturn

import typer

from . import __version__
from .commands.help import (
    HELP_OPTIONS,
    PROGRAM_EXIT_CODE,
    ROOT_EPILOG,
    SIMULATOR_EXIT_CODES,
    TOOL_EXIT_CODES,
    register,
)
from .commands.loopwatch import loopwatch
from .commands.probe import endpoints, probe
from .commands.schema import schema
from .commands.serve import serve
from .commands.simulate import demo, simulate
from .commands.watch import watch
from .config.errors import ConfigError
from .stops import INTERRUPTED, STOP_LINES, TERMINATED, unwind_on_stop_signals

app = typer.Typer(
    name="binance-diag",
    help="Why can't my program get data from a Binance WebSocket market stream? "
    "Staged probes, measured, explained.",
    epilog=ROOT_EPILOG,
    no_args_is_help=True,
    context_settings=HELP_OPTIONS,
    add_completion=True,  # --install-completion, --show-completion (bash, zsh, fish)
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
)


def _version_callback(value: bool) -> None:
    if value:
        print(f"binance-diag {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version_callback, is_eager=True,
                     help="Show the version and exit."),
    ] = False,
) -> None:
    """binance-diag: staged probes of Binance WebSocket market streams."""


# Every command goes through `register`: examples and exit codes in its help, arguments by
# metavar (tests/commands/test_help.py walks the app, so one added otherwise fails there).
register(
    app, probe,
    "binance-diag probe BTCUSDT",
    "binance-diag probe BTCUSDT ETHUSDT --endpoint spot,data-stream",
    "binance-diag probe BTCUSDT --resolver 1.1.1.1 --timeout 3",
    "binance-diag probe BTCUSDT -v 2> trace.txt",
    "binance-diag probe BTCUSDT -q --format junit --output probe.xml",
    "binance-diag probe BTCUSDT --format nagios --warn tls=500 --crit tls=2000",
    "binance-diag probe BTCUSDT --proxy http://proxy.example:3128 --duration 30",
)
register(app, endpoints, "binance-diag endpoints", "binance-diag probe BTCUSDT --endpoint all",
         exit_codes=TOOL_EXIT_CODES)
register(app, simulate, "binance-diag simulate --list", "binance-diag simulate --fault tls-hang",
         "binance-diag simulate --fault http-451 --dns --symbols BTCUSDT,ETHUSDT",
         exit_codes=SIMULATOR_EXIT_CODES)
register(app, demo, "binance-diag demo", "binance-diag demo --fault http-451 --format markdown",
         "binance-diag demo --all")
register(app, loopwatch, "binance-diag loopwatch -- python mybot.py --live",
         "binance-diag loopwatch --threshold 50 --report loop.json -- python -m mybot",
         exit_codes=PROGRAM_EXIT_CODE)
register(app, serve, "binance-diag serve",
         "binance-diag serve --config modules.toml --listen 127.0.0.1:9115",
         "curl '127.0.0.1:9115/probe?target=BTCUSDT&module=default'",
         exit_codes=TOOL_EXIT_CODES)
register(app, schema, "binance-diag schema probe > probe-1.schema.json",
         "binance-diag schema --list", exit_codes=TOOL_EXIT_CODES)
register(app, watch, "binance-diag watch BTCUSDT --duration 8h --every 60s --reports incidents/",
         "binance-diag watch BTCUSDT ETHUSDT --stall-floor 30s 2> watch.log")


def _fail(message: str) -> NoReturn:
    print(f"binance-diag: error: {message}", file=sys.stderr)
    sys.exit(3)


def main() -> None:
    """Entry point: bad input exits 3 with one line, never a traceback (DESIGN.md §5).

    Ctrl-C exits 130 and SIGTERM 143, each with one line on stderr; during a probe, after
    its partial report (run/interrupt.py)."""
    loopwatch = sys.argv[1:2] == ["loopwatch"]
    if sys.argv[1:2] not in (["loopwatch"], ["probe"]):  # a probe: run/interrupt.py
        unwind_on_stop_signals()  # before, entry.exit_on_stop_signals: nothing to clean up
    try:
        code = app(standalone_mode=False, prog_name="binance-diag")
    except ConfigError as exc:
        _fail(str(exc))
    except typer.TyperException as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # bare `binance-diag`: show the help
            print(exc.format_message())
            sys.exit(0)
        _fail(exc.format_message())
    except (typer.Abort, KeyboardInterrupt):
        code = INTERRUPTED
    except SystemExit as exc:
        if exc.code != TERMINATED:
            raise
        code = TERMINATED
    except Exception as exc:  # noqa: BLE001 - contract: a one-line message, exit 3
        _fail(f"internal error: {type(exc).__name__}: {exc}")
    _exit(code if isinstance(code, int) else 0, announce=not loopwatch)


def _exit(code: int, announce: bool) -> NoReturn:
    """Leave with `code`; a signal that comes now only makes it 130 or 143 (the output is
    out), never a traceback. loopwatch passes its program's code on, unannounced."""
    import signal

    late: list[int] = []

    def record(signum: int, frame: object) -> None:
        late.append(128 + signum)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, record)
    if announce and code in STOP_LINES:
        print(STOP_LINES[code], file=sys.stderr)
    if late and code not in STOP_LINES:
        code = late[0]
        print(STOP_LINES.get(code, f"binance-diag: signal {code - 128}"), file=sys.stderr)
    from .watchdog.supervise import exit_process

    # Never hang on the way out: abandoned tasks or stuck threads get os._exit (flushed).
    exit_process(code)
