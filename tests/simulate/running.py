"""`binance-diag simulate` as a user runs it: a real subprocess, its banner parsed.

The simulator only ever binds loopback here, and every client the tests start talks to the
address the banner prints (127.0.0.1 or ::1).
"""

from __future__ import annotations

import json
import os
import queue
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.schema_check import VALIDATOR
from tests.utils import MS

START_TIMEOUT = 10_000 * MS
"""Interpreter start, imports and a fresh CA: well under a second here."""
STOP_TIMEOUT = 5_000 * MS
BANNER_END = "Ctrl-C stops the simulator."


def cli_env() -> dict[str, str]:
    """The caller's environment without proxy variables: the probe must go direct."""
    return {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "binance_diag", *args]


def run_cli(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cli(*args), capture_output=True, text=True, timeout=timeout,
                          check=False, env=cli_env())


@dataclass
class Simulator:
    """A running `binance-diag simulate` and what its banner said."""

    process: subprocess.Popen[str]
    banner: list[str]
    _lines: queue.Queue[str | None] = field(repr=False)
    stderr: str = ""

    def value(self, name: str) -> str:
        """The text after `  name  ` in the banner (url, trust, dns, client, address)."""
        for line in self.banner:
            words = line.split(maxsplit=1)
            if line.startswith("  ") and words[0] == name and len(words) == 2:
                return words[1]
        raise AssertionError(f"no {name!r} line in the banner:\n" + "\n".join(self.banner))

    def has(self, name: str) -> bool:
        return any(line.split(maxsplit=1)[:1] == [name] for line in self.banner
                   if line.startswith("  "))

    @property
    def probe_line(self) -> list[str]:
        """The printed `binance-diag probe ...` command, split as a shell would."""
        index = self.banner.index("Probe it from another terminal:")
        words = shlex.split(self.banner[index + 1])
        assert words[:2] == ["binance-diag", "probe"], words
        return words

    def run_probe(self, *extra: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        """Run the printed probe line (plus `extra`) with this interpreter's binance-diag."""
        return run_cli(*self.probe_line[1:], *extra, timeout=timeout)

    def activity(self, until: str, timeout: float = 3000 * MS) -> list[str]:
        """Lines printed after the banner, up to one containing `until`."""
        seen: list[str] = []
        deadline = time.monotonic() + timeout
        while not any(until in line for line in seen):
            remaining = deadline - time.monotonic()
            try:
                line = self._lines.get(timeout=max(remaining, 0))
            except queue.Empty:
                raise AssertionError(f"no {until!r} within {timeout} s: {seen}") from None
            if line is None:
                raise AssertionError(f"the simulator stopped before {until!r}: {seen}")
            seen.append(line)
        return seen

    def stop(self, signum: int = signal.SIGINT) -> tuple[int, float]:
        """Send `signum`; the exit code and how long the simulator took to go."""
        started = time.monotonic()
        self.process.send_signal(signum)
        code = self.process.wait(STOP_TIMEOUT)
        took = time.monotonic() - started
        assert self.process.stderr is not None
        self.stderr = self.process.stderr.read()
        return code, took

    def rest(self) -> list[str]:
        """Everything printed after the banner (and not read yet), once stopped."""
        lines = []
        while (line := self._lines.get(timeout=STOP_TIMEOUT)) is not None:
            lines.append(line)
        return lines


@contextmanager
def simulator(*args: str) -> Iterator[Simulator]:
    """Start `binance-diag simulate *args`, wait for its banner, stop it on the way out."""
    process = subprocess.Popen(
        cli("simulate", *args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=cli_env(),
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    reader = threading.Thread(target=pump, name="simulate-stdout", daemon=True)
    reader.start()
    try:
        banner: list[str] = []
        deadline = time.monotonic() + START_TIMEOUT
        while BANNER_END not in banner:
            try:
                line = lines.get(timeout=max(deadline - time.monotonic(), 0))
            except queue.Empty:
                raise AssertionError(f"no banner within {START_TIMEOUT} s: {banner}") from None
            if line is None:
                assert process.stderr is not None
                raise AssertionError(f"simulate exited {process.wait()}: "
                                     f"{process.stderr.read()}")
            banner.append(line)
        yield Simulator(process, banner, lines)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()  # only our own child, by its handle
                process.wait()
        reader.join(STOP_TIMEOUT)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def report_of(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The JSON report a `--format json` run printed, checked against the schema."""
    document: dict[str, Any] = json.loads(result.stdout)
    VALIDATOR.validate(document)
    return document


def stages_of(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The report's stages by name."""
    return {stage["name"]: stage for stage in document["stages"]}
