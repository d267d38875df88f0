"""The console-script entry point: answers `--version` before importing the CLI framework.

`binance-diag --version` is what scripts call to check an install; it should cost little
more than starting the interpreter (DESIGN.md §7), so typer is imported only past it.
"""

from __future__ import annotations

import sys

from . import __version__

INTERRUPTED = 130
"""128 + SIGINT, as a shell reports a process stopped with Ctrl-C."""
TERMINATED = 143
"""128 + SIGTERM, as a shell reports a process it terminated."""
STOP_LINES = {INTERRUPTED: "binance-diag: interrupted", TERMINATED: "binance-diag: terminated"}
"""The one line on stderr for each."""


def main() -> None:
    if sys.argv[1:] in (["--version"], ["-V"]):
        print(f"binance-diag {__version__}")
        return
    try:
        if sys.argv[1:2] != ["loopwatch"]:  # loopwatch forwards signals to its program
            stop_on_sigterm()  # before the slow imports: from here on SIGTERM is 143, a line
        _scrub_outputs()
        from .cli import main as cli_main
    except KeyboardInterrupt:  # Ctrl-C while the imports run: no traceback either
        print(STOP_LINES[INTERRUPTED], file=sys.stderr)
        sys.exit(INTERRUPTED)
    except SystemExit as exc:
        if exc.code == TERMINATED:
            print(STOP_LINES[TERMINATED], file=sys.stderr)
        raise
    cli_main()


def stop_on_sigterm() -> None:
    """SIGTERM (a CI job cancelled, `timeout`, `kill`) unwinds like Ctrl-C, as
    `SystemExit(143)`, so that `demo` and `simulate` remove their certificate directories and
    close their servers. During a probe, run/interrupt.py handles it instead."""
    import signal

    signal.signal(signal.SIGTERM, _terminate)


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(TERMINATED)


def _scrub_outputs() -> None:
    """Every credential in the command line or a proxy variable is masked in all that is
    printed from here on, whatever path the text took (docs/security.md)."""
    import os

    from .redact import ScrubbingStream, collect_secrets

    collect_secrets(sys.argv[1:], os.environ)
    sys.stdout = ScrubbingStream(sys.stdout)
    sys.stderr = ScrubbingStream(sys.stderr)
