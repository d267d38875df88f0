"""How a run stopped by a signal ends: its exit code and its one line on stderr.

Imports nothing at load (signal and os on use): `entry` (before the CLI loads), `cli` and
`run.interrupt` share it.
"""

from __future__ import annotations

import sys

INTERRUPTED = 130
"""128 + SIGINT, as a shell reports a process stopped with Ctrl-C."""
TERMINATED = 143
"""128 + SIGTERM, as a shell reports a process it terminated."""
STOP_LINES = {INTERRUPTED: "binance-diag: interrupted", TERMINATED: "binance-diag: terminated"}
"""The one line on stderr for each."""


def exit_on_stop_signals() -> None:
    """Until a command has something to clean up or report, Ctrl-C and SIGTERM end the
    process at once with its code and line. Raising instead (KeyboardInterrupt, SystemExit)
    would land inside whatever import runs - and a class being created turns it into a
    RuntimeError, a module half imported into a traceback. `unwind_on_stop_signals` (demo,
    simulate, serve...) and run/interrupt.py (a probe) take over when there is more to do."""
    import signal

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _exit_at_once)


def unwind_on_stop_signals() -> None:
    """Ctrl-C raises KeyboardInterrupt and SIGTERM (a CI job cancelled, `timeout`, `kill`)
    `SystemExit(143)`, so that `demo` and `simulate` remove their certificate directories and
    close their servers."""
    import signal

    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _terminate)


def _terminate(signum: int, frame: object) -> None:
    raise SystemExit(TERMINATED)


def _exit_at_once(signum: int, frame: object) -> None:
    import os

    code = 128 + signum
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, RuntimeError):  # RuntimeError: a reentrant flush
            pass
    # os.write, not print: the main thread may be inside a write to stderr right now.
    os.write(2, (STOP_LINES.get(code, f"binance-diag: signal {signum}") + "\n").encode())
    os._exit(code)
