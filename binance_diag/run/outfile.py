"""Output files: checked before a run, written atomically after it, never waited on forever.

`--output` (probe, matrix, demo) and `loopwatch --report` share these, so a directory, a
missing directory, `-`, a symlink, a FIFO or a device mean the same thing everywhere.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def is_stdout(path: Path) -> bool:
    """`--output -` means stdout, as in curl and `loopwatch --report -`."""
    return str(path) == "-"


def check_output(path: Path | None, option: str = "--output") -> None:
    """Refuse an `--output` the result could not be written to, before probing (exit 3)."""
    if path is None or is_stdout(path):
        return
    from ..config.errors import ConfigError

    if str(path) in ("", ".") or path.is_dir():
        raise ConfigError(f"{option} {str(path)!r}: a directory, not a file name")
    target = Path(os.path.realpath(path))
    if target.exists() and not target.is_file():
        if not os.access(target, os.W_OK):
            raise ConfigError(f"{option} {path}: not writable")
        return  # a FIFO, a device, /dev/stdout: written in place
    parent = target.parent
    if not parent.is_dir():
        raise ConfigError(f"{option} {path}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(f"{option} {path}: directory {parent} is not writable")


def write_atomically(path: Path, text: str) -> None:
    """Write to a temporary file beside `path`, then rename: readers never see half a report.

    Through a symlink, the file it points to is replaced, not the link; a target that is not
    a regular file (a FIFO, a device, /dev/stdout) is written in place. The file gets the
    mode it had, or the one the umask gives a new file (mkstemp's 0600 would hide it).
    """
    target = Path(os.path.realpath(path))
    if target.exists() and not target.is_file():
        _write_in_place(target, text)
        return
    try:
        mode = target.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temp, mode)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


READER_WAIT = 2.0
"""How long a FIFO given as --output may take to get a reader before we give up on it."""


def _write_in_place(target: Path, text: str) -> None:
    """Write to a FIFO or a device without ever blocking on its open: a FIFO nobody reads
    would otherwise hold the process forever. OSError when there is no reader in time."""
    import errno
    import fcntl
    import time

    give_up = time.monotonic() + READER_WAIT
    while True:
        try:
            fd = os.open(target, os.O_WRONLY | os.O_NONBLOCK)
            break
        except OSError as exc:
            if exc.errno != errno.ENXIO or time.monotonic() >= give_up:
                if exc.errno == errno.ENXIO:
                    raise OSError(exc.errno, f"no process reads the FIFO (waited "
                                             f"{READER_WAIT:g} s)") from None
                raise
            time.sleep(0.05)
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
