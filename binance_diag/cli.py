"""The command line: options -> config -> run -> render -> exit code. Wiring only.

Heavy imports (asyncio, websockets, dnspython, ssl) happen inside the commands that need
them, so `--version` and `--help` stay fast.
"""

from __future__ import annotations

import sys
from typing import Annotated, NoReturn

import typer

from . import __version__
from .commands.loopwatch import loopwatch
from .commands.probe import endpoints, probe
from .commands.serve import serve
from .commands.simulate import demo, simulate

app = typer.Typer(
    name="binance-diag",
    help="Why can't my program get data from a Binance WebSocket market stream? "
    "Staged probes, measured, explained.",
    no_args_is_help=True,
    add_completion=False,
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


app.command()(probe)
app.command()(endpoints)
app.command()(simulate)
app.command()(demo)
app.command()(loopwatch)
app.command()(serve)


def _fail(message: str) -> NoReturn:
    print(f"binance-diag: error: {message}", file=sys.stderr)
    sys.exit(3)


TERMINATED = 143
"""128 + SIGTERM, as a shell reports a process it terminated."""


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM (a CI job cancelled, `timeout`, `kill`) unwinds like Ctrl-C, so that `demo`
    and `simulate` remove their certificate directories and close their servers."""
    print("binance-diag: terminated", file=sys.stderr, flush=True)
    raise SystemExit(TERMINATED)


def main() -> None:
    """Entry point: bad input exits 3 with one line, never a traceback (DESIGN.md §5)."""
    import signal

    from .config.errors import ConfigError

    if sys.argv[1:2] != ["loopwatch"]:  # loopwatch forwards signals to its program
        signal.signal(signal.SIGTERM, _terminate)

    try:
        code = app(standalone_mode=False)
    except ConfigError as exc:
        _fail(str(exc))
    except typer.TyperException as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # bare `binance-diag`: show the help
            print(exc.format_message())
            sys.exit(0)
        _fail(exc.format_message())
    except (typer.Abort, KeyboardInterrupt):
        print("binance-diag: interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - contract: a one-line message, exit 3
        _fail(f"internal error: {type(exc).__name__}: {exc}")
    if code == 130 and sys.argv[1:2] != ["loopwatch"]:  # loopwatch passes its program's on
        print("binance-diag: interrupted", file=sys.stderr)  # typer turned Ctrl-C into 130
    from .watchdog.supervise import exit_process

    # Never hang on the way out: abandoned tasks or stuck threads get os._exit (flushed).
    exit_process(code if isinstance(code, int) else 0)
