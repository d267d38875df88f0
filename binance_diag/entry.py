"""The console-script entry point: answers `--version` before importing the CLI framework.

`binance-diag --version` is what scripts call to check an install; it should cost little
more than starting the interpreter (DESIGN.md §7), so typer is imported only past it.
"""

from __future__ import annotations

import sys

from . import __version__
from .stops import INTERRUPTED, STOP_LINES, exit_on_stop_signals


def main() -> None:
    if sys.argv[1:] in (["--version"], ["-V"]):
        print(f"binance-diag {__version__}")
        return
    if sys.argv[1:2] != ["loopwatch"]:  # loopwatch forwards signals to its program
        exit_on_stop_signals()
    try:
        _scrub_outputs()
        from .cli import main as cli_main
    except KeyboardInterrupt:  # SIGINT was ignored by our parent, then restored: no traceback
        print(STOP_LINES[INTERRUPTED], file=sys.stderr)
        sys.exit(INTERRUPTED)
    cli_main()


def _scrub_outputs() -> None:
    """Every credential in the command line or a proxy variable is masked in all that is
    printed from here on, whatever path the text took (docs/security.md)."""
    import os

    from .safety.redact import ScrubbingStream, collect_secrets

    collect_secrets(sys.argv[1:], os.environ)
    sys.stdout = ScrubbingStream(sys.stdout)
    sys.stderr = ScrubbingStream(sys.stderr)
