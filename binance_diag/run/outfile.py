"""Output files: checked before a run, written atomically after it, never waited on forever.

`--output` (probe, matrix, demo) and `loopwatch --report` share these, so a directory, a
missing directory, `-`, a symlink, a FIFO or a device mean the same thing everywhere;
`append_guarded` gives the GitHub step summary the same rules (docs/security.md, Files):

- a symlink to an existing file writes that file; a symlink to nothing is refused, never
  followed into a new file (the classic planted-link attack on a shared directory);
- a regular file is replaced (or appended to) and keeps at most its read/write bits, never
  setuid, setgid, sticky or execute; a new file gets 0666 minus the umask;
- a FIFO or a character device is written in place, and given up on when nobody reads it
  within READER_WAIT, or takes nothing for WRITE_STALL; anything else is refused;
- names longer than the file system takes are refused before the run; a name that is not
  UTF-8 is kept byte for byte, and the text written is always UTF-8 (U+FFFD for the bytes
  of such a name quoted in it).
"""

from __future__ import annotations

import errno
import os
import re
import select
import stat
import tempfile
import time
from pathlib import Path

from ..safety.redact import scrub

READER_WAIT = 2.0
"""How long a FIFO given as --output may take to get a reader before we give up on it."""
WRITE_STALL = 10.0
"""How long a FIFO or device may take nothing (a reader that stopped reading) before we
give up on it."""
DEFAULT_NAME_MAX = 255
DEFAULT_PATH_MAX = 4096
_TEMP_NAME_BYTES = 40
"""Of the target's name kept in the temporary file's name, so that it fits NAME_MAX too."""
_SURROGATES = re.compile("[\ud800-\udfff]")


def is_stdout(path: Path) -> bool:
    """`--output -` means stdout, as in curl and `loopwatch --report -`."""
    return str(path) == "-"


def check_output(path: Path | None, option: str = "--output") -> None:
    """Refuse an `--output` the result could not be written to, before probing (exit 3)."""
    if path is None or is_stdout(path):
        return
    from ..config.errors import ConfigError

    try:
        _check_output(path, option)
    except OSError as exc:  # ENAMETOOLONG in a directory's name, ELOOP, EACCES...
        raise ConfigError(f"{option} {path}: {exc.strerror or exc}") from None


def _check_output(path: Path, option: str) -> None:
    from ..config.errors import ConfigError

    if str(path) in ("", "."):
        raise ConfigError(f"{option} {str(path)!r}: a directory, not a file name")
    name_bytes, name_max = len(os.fsencode(path.name)), _limit(path.parent, "PC_NAME_MAX")
    if name_bytes > name_max:
        raise ConfigError(f"{option} {path}: file name too long ({name_bytes} bytes, at most "
                          f"{name_max})")
    target = Path(os.path.realpath(path))
    path_bytes, path_max = _longest_path(target), _limit(Path("/"), "PC_PATH_MAX")
    if path_bytes >= path_max:
        raise ConfigError(f"{option} {path}: path too long ({path_bytes} bytes, under "
                          f"{path_max} allowed)")
    if path.is_dir():
        raise ConfigError(f"{option} {str(path)!r}: a directory, not a file name")
    info = _stat_existing(path, target)
    if info is not None and not stat.S_ISREG(info.st_mode):
        if not _writable_in_place(info.st_mode):
            raise ConfigError(f"{option} {path}: not a regular file, a FIFO or a character "
                              "device")
        if not os.access(path, os.W_OK):
            raise ConfigError(f"{option} {path}: not writable")
        return  # a FIFO, a device, /dev/stdout: written in place
    parent = target.parent
    if not parent.is_dir():
        raise ConfigError(f"{option} {path}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(f"{option} {path}: directory {parent} is not writable")


def write_atomically(path: Path, text: str) -> None:
    """Write to a temporary file beside `path`, then rename: readers never see half a report.

    Through a symlink, the file it points to is replaced, not the link; a symlink to nothing
    is refused (OSError). A target that is not a regular file (a FIFO, a device,
    /dev/stdout) is written in place. The file keeps the read/write bits it had, or gets
    those the umask gives a new file (mkstemp's 0600 would hide it).
    """
    data = utf8(scrub(text))
    target = Path(os.path.realpath(path))
    info = _stat_existing(path, target)
    if info is not None and not stat.S_ISREG(info.st_mode):
        _write_in_place(path, data)  # by the name given: /dev/stdout's target has none
        return
    mode = info.st_mode & 0o666 if info is not None else 0o666 & ~_umask()
    prefix = b"." + os.fsencode(target.name)[:_TEMP_NAME_BYTES] + b"."
    fd, temp = tempfile.mkstemp(prefix=prefix, dir=os.fsencode(target.parent))
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temp, mode)
        os.replace(temp, target)
    except BaseException:
        Path(os.fsdecode(temp)).unlink(missing_ok=True)
        raise


def append_guarded(path: Path, text: str) -> None:
    """Append `text` to `path` under the same rules as `--output` (for GITHUB_STEP_SUMMARY).

    An existing file (through a symlink, too) is appended to; a missing one is created
    (0666 minus the umask), never through a symlink; a FIFO or a character device is
    written without waiting on it forever. OSError for anything that cannot be written so.
    """
    data = utf8(scrub(text))
    fd = _open_for_append(path)
    try:
        mode = os.fstat(fd).st_mode
        if not (stat.S_ISREG(mode) or _writable_in_place(mode)):
            raise OSError(errno.EINVAL, f"{path}: not a regular file, a FIFO or a character "
                                        "device")
        _write_all(fd, data)
    finally:
        os.close(fd)


def utf8(text: str) -> bytes:
    """Text as UTF-8, whatever it holds: argv bytes that are not UTF-8 reach us as lone
    surrogates (PEP 383), which UTF-8 cannot encode; they become U+FFFD."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATES.sub("\ufffd", text).encode("utf-8")


def _open_for_append(path: Path) -> int:
    try:
        return _open_writer(path, os.O_APPEND)
    except FileNotFoundError:
        if os.path.islink(path):
            raise OSError(errno.ENOENT, _dangling(path, Path(os.path.realpath(path)))
                          ) from None
    try:  # O_EXCL: never through a symlink planted meanwhile (open(2) refuses it)
        return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL
                       | getattr(os, "O_NOFOLLOW", 0), 0o666)
    except FileExistsError:  # created meanwhile: append to it, as if it had been there
        return _open_writer(path, os.O_APPEND)


def _write_in_place(target: Path, data: bytes) -> None:
    """Write to a FIFO or a device without ever blocking on it: a FIFO nobody reads would
    otherwise hold the process forever. OSError when there is no reader in time."""
    fd = _open_writer(target, 0)
    try:
        if not _writable_in_place(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, f"{target}: not a FIFO or a character device")
        _write_all(fd, data)
    finally:
        os.close(fd)


def _open_writer(path: Path, flags: int) -> int:
    """Open for writing without blocking: a FIFO without a reader gets READER_WAIT."""
    give_up = time.monotonic() + READER_WAIT
    while True:
        try:
            return os.open(path, os.O_WRONLY | os.O_NONBLOCK | flags)
        except OSError as exc:
            if exc.errno != errno.ENXIO or not stat.S_ISFIFO(os.stat(path).st_mode):
                raise  # ENXIO on a socket or a device without its hardware: no use waiting
            if time.monotonic() >= give_up:
                raise OSError(exc.errno, f"no process reads the FIFO (waited "
                                         f"{READER_WAIT:g} s)") from None
            time.sleep(0.05)


def _write_all(fd: int, data: bytes) -> None:
    """Every byte, or OSError when the reader takes nothing for WRITE_STALL seconds."""
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view):]
        except BlockingIOError:
            _, ready, _ = select.select([], [fd], [], WRITE_STALL)
            if not ready:
                raise OSError(errno.ETIMEDOUT, f"the reader took nothing for "
                                               f"{WRITE_STALL:g} s") from None


def _stat_existing(path: Path, target: Path) -> os.stat_result | None:
    """What `path` names, None when nothing yet. OSError for a symlink to nothing, and for
    a regular file reached through a link that names none (a deleted file's /proc link):
    the atomic replace needs the file's own name.

    Through `path`, not `target`: /dev/stdout on a pipe resolves to a name (`pipe:[N]`)
    that only the kernel's own link can open.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise OSError(errno.ENOENT, _dangling(path, target)) from None
        return None
    if stat.S_ISREG(info.st_mode) and not target.exists():
        raise OSError(errno.ENOENT, f"a link to a file that has no name: {target}")
    return info


def _writable_in_place(mode: int) -> bool:
    return stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)


def _dangling(path: Path, target: Path) -> str:
    return (f"a symlink to {target}, which does not exist: a link is never followed into a "
            "new file (give the target's own name)")


def _limit(directory: Path, name: str) -> int:
    """NAME_MAX or PATH_MAX where the file goes; the Linux values where it cannot be asked."""
    default = DEFAULT_NAME_MAX if name == "PC_NAME_MAX" else DEFAULT_PATH_MAX
    try:
        return os.pathconf(directory if str(directory) else ".", name)
    except (OSError, ValueError):
        return default


def _longest_path(target: Path) -> int:
    """Bytes in the longer of the target's path and its temporary file's."""
    temp_name = min(len(os.fsencode(target.name)), _TEMP_NAME_BYTES) + 10  # ".", ".", 8
    return len(os.fsencode(target.parent)) + 1 + max(len(os.fsencode(target.name)), temp_name)


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask
