"""Output files: the checks before a run and the atomic write after it."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from binance_diag.config.errors import ConfigError
from binance_diag.run import outfile
from binance_diag.run.outfile import append_guarded, check_output, write_atomically


@contextlib.contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


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
    with umask(0o022):
        write_atomically(fresh, "x")
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


def test_a_dangling_symlink_is_refused_not_followed_into_a_new_file(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.json"
    link = tmp_path / "link.json"
    link.symlink_to(target)
    with pytest.raises(ConfigError, match=r"--output .*link\.json: a symlink to .*elsewhere"
                                          r"\.json, which does not exist"):
        check_output(link)
    with pytest.raises(OSError, match="which does not exist"):  # planted after the check
        write_atomically(link, "report")
    assert not target.exists() and link.is_symlink()
    chain = tmp_path / "chain.json"
    chain.symlink_to(link)  # a link to a dangling link dangles too
    with pytest.raises(ConfigError, match="which does not exist"):
        check_output(chain)


def test_a_replaced_file_keeps_at_most_its_read_write_bits(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    for mode, kept in [(0o7777, 0o666), (0o6755, 0o644), (0o1640, 0o640), (0o600, 0o600)]:
        report.write_text("old")
        report.chmod(mode)
        write_atomically(report, "new")
        assert report.read_text() == "new"
        assert report.stat().st_mode & 0o7777 == kept, oct(mode)


def test_over_long_names_are_refused_before_the_run(tmp_path: Path) -> None:
    for path, message in [
        (tmp_path / ("a" * 256), r"file name too long \(256 bytes, at most 255\)"),
        (tmp_path / ("é" * 128), r"file name too long \(256 bytes, at most 255\)"),
        (tmp_path / "/".join(["d" * 200] * 21) / "r.json", r"path too long \(\d+ bytes"),
        (tmp_path / ("d" * 300) / "r.json", "File name too long"),  # a directory's name
    ]:
        with pytest.raises(ConfigError, match=message):
            check_output(path)
    longest = tmp_path / ("n" * 255)  # allowed, and the temporary file beside it must fit
    check_output(longest)
    write_atomically(longest, "x")
    assert longest.read_text() == "x"
    assert [p.name for p in tmp_path.iterdir()] == [longest.name]


def test_a_non_utf8_name_is_written_and_the_report_stays_utf8(tmp_path: Path) -> None:
    """argv bytes that are not UTF-8 arrive surrogate-escaped, in the name and in the
    command line the report quotes: the file gets the name's bytes, the text U+FFFD."""
    name = os.fsdecode(b"r\xff\xfe.json")
    path = tmp_path / name
    check_output(path)
    write_atomically(path, f'{{"command": "probe --output {name}"}}\n')
    [written] = os.listdir(os.fsencode(tmp_path))
    assert written == b"r\xff\xfe.json"
    assert path.read_bytes().decode("utf-8") == \
        '{"command": "probe --output r\ufffd\ufffd.json"}\n'


@pytest.mark.timeout(20)
def test_the_cli_writes_a_non_utf8_output_and_refuses_a_long_one(tmp_path: Path) -> None:
    """End to end (demo: a probe of a loopback simulator): the report is not lost."""
    demo = [sys.executable, "-m", "binance_diag", "demo", "--fault", "healthy", "--format",
            "json", "--output"]
    output = os.fsencode(tmp_path) + b"/\xff.json"
    run = subprocess.run([*demo, output], capture_output=True, timeout=15)
    assert run.returncode == 0, run.stderr
    report = json.loads(Path(os.fsdecode(output)).read_bytes().decode("utf-8"))
    assert report["command"].endswith("\ufffd.json'")
    run = subprocess.run([*demo, os.fsencode(tmp_path) + b"/" + b"a" * 256],
                         capture_output=True, timeout=15)
    assert run.returncode == 3
    assert run.stderr.decode().endswith("file name too long (256 bytes, at most 255)\n")
    assert run.stderr.count(b"\n") == 1 and run.stdout == b""


def test_the_step_summary_is_appended_to_and_created_plainly(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    with umask(0o022):
        append_guarded(summary, "# one\n")
    assert summary.stat().st_mode & 0o7777 == 0o644
    link = tmp_path / "link.md"
    link.symlink_to(summary)  # to an existing file: appended through
    append_guarded(link, "# two " + os.fsdecode(b"\xff") + "\n")
    assert summary.read_text(encoding="utf-8") == "# one\n# two \ufffd\n"


def test_the_step_summary_is_never_created_through_a_dangling_symlink(tmp_path: Path) -> None:
    target = tmp_path / "planted.md"
    link = tmp_path / "summary.md"
    link.symlink_to(target)
    with pytest.raises(OSError, match="which does not exist"):
        append_guarded(link, "# report\n")
    assert not target.exists()
    with pytest.raises(OSError):
        append_guarded(tmp_path, "# report\n")  # a directory
    listening = socket.socket(socket.AF_UNIX)
    try:
        listening.bind(str(tmp_path / "socket"))
        started = time.monotonic()
        with pytest.raises(OSError):  # no waiting for a reader that cannot come
            append_guarded(tmp_path / "socket", "# report\n")
        assert time.monotonic() - started < 0.5
    finally:
        listening.close()


@pytest.mark.timeout(10)
def test_a_step_summary_fifo_nobody_reads_is_given_up_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outfile, "READER_WAIT", 0.2)
    fifo = tmp_path / "summary"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(OSError, match=r"no process reads the FIFO \(waited 0.2 s\)"):
        append_guarded(fifo, "# report\n")
    assert time.monotonic() - started < 2


@pytest.mark.timeout(10)
def test_a_fifo_whose_reader_stops_reading_is_given_up_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outfile, "WRITE_STALL", 0.2)
    fifo = tmp_path / "summary"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # opens, never reads
    try:
        with pytest.raises(OSError, match="the reader took nothing for 0.2 s"):
            append_guarded(fifo, "x" * (1 << 20))  # more than a pipe holds
        with pytest.raises(OSError, match="the reader took nothing for 0.2 s"):
            write_atomically(fifo, "y" * (1 << 20))
    finally:
        os.close(reader)


@pytest.mark.timeout(10)
def test_a_step_summary_fifo_with_a_reader_gets_it_all(tmp_path: Path) -> None:
    fifo = tmp_path / "summary"
    os.mkfifo(fifo)
    text = "# report\n" * 20000  # more than a pipe holds: written as the reader drains
    got: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as handle:
            got.append(handle.read())

    reader = threading.Thread(target=read)
    reader.start()
    append_guarded(fifo, text)
    reader.join(5)
    assert got == [text.encode()]
