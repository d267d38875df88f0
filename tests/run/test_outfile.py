"""Output files: the checks before a run and the atomic write after it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from binance_diag.config.errors import ConfigError
from binance_diag.run.outfile import check_output, write_atomically


def test_output_keeps_links_fifos_and_modes(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text("old")
    real.chmod(0o640)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    write_atomically(link, "new")
    assert link.is_symlink() and real.read_text() == "new"
    assert real.stat().st_mode & 0o777 == 0o640, "an existing file keeps its mode"
    fresh = tmp_path / "fresh.json"
    old_umask = os.umask(0o022)
    try:
        write_atomically(fresh, "x")
    finally:
        os.umask(old_umask)
    assert fresh.stat().st_mode & 0o777 == 0o644, "a new file gets the umask's mode, not 0600"
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        write_atomically(fifo, "through the pipe")
        assert os.read(reader, 100) == b"through the pipe"
    finally:
        os.close(reader)
    assert fifo.is_fifo(), "the FIFO is written to, not replaced"


def test_files_that_cannot_be_written_are_refused_before_the_run(tmp_path: Path) -> None:
    for path, message in [
        (Path(""), "--report '.': a directory, not a file name"),  # typer's Path('')
        (Path("."), "--report '.': a directory, not a file name"),
        (tmp_path, "a directory, not a file name"),
        (tmp_path / "missing" / "r.json", "does not exist"),
    ]:
        with pytest.raises(ConfigError, match=message):
            check_output(path, "--report")
    check_output(tmp_path / "new.json", "--report")  # a new file in a directory is fine
    check_output(Path("-"))  # stdout
