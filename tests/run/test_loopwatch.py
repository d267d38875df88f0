"""`binance-diag loopwatch`, end to end (loopwatch/run.py): real subprocesses running the
sample programs in tests/loopwatch/samples/, a real loopback server for the blocking socket
read."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from binance_diag.loopwatch.wire import ENV_VAR
from binance_diag.run.loopwatch import BOOT_DIR, child_environment
from binance_diag.schema import load_loopwatch_schema
from binance_diag.timing import format_ms
from tests.utils import MS

SAMPLES = Path(__file__).parent.parent / "loopwatch" / "samples"
SCHEMA = load_loopwatch_schema()
RUN_TIMEOUT = 8000 * MS
PREFIX = "binance-diag loopwatch:"
INTERVAL_MS = 50.0
"""loopwatch's default heartbeat: a blockage is measured short by less than one interval."""
SLACK_MS = 40 * MS * 1000
"""Scheduling noise allowed on a measured blockage (a GIL switch is 5 ms; CI is slower)."""


def sample_env(seconds: float) -> dict[str, str]:
    """The environment for sleepy.py or signals.py stuck: how long they block their loop."""
    return {**os.environ, "LOOPWATCH_SAMPLE_SECONDS": repr(seconds)}


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    @property
    def live_lines(self) -> list[str]:
        """The per-blockage lines printed while the program ran."""
        return [line for line in self.stderr.splitlines()
                if line.startswith(f"{PREFIX} event loop")]


_STARTED: list[subprocess.Popen[str]] = []


@pytest.fixture(autouse=True)
def _kill_leftovers() -> Iterator[None]:
    """A test that fails half-way must not leave loopwatch or its program running."""
    yield
    while _STARTED:
        process = _STARTED.pop()
        if process.poll() is None:
            # Without a terminal, the program has a process group of its own (run.py).
            children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
            programs = children.read_text().split() if children.exists() else []
            for group in (process.pid, *map(int, programs)):
                try:
                    os.killpg(group, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        process.communicate()


def start(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None
          ) -> subprocess.Popen[str]:
    # Its own session, so that loopwatch and the program can be killed together.
    process = subprocess.Popen(
        [sys.executable, "-m", "binance_diag", "loopwatch", *args], text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=env, cwd=cwd, start_new_session=True,
    )
    _STARTED.append(process)
    return process


def finish(process: subprocess.Popen[str], stdin: str = "") -> Run:
    try:
        stdout, stderr = process.communicate(stdin, timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail("loopwatch did not finish in time")  # the fixture kills it
    return Run(process.returncode, stdout, stderr)


def loopwatch(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
              stdin: str = "") -> Run:
    return finish(start(*args, env=env, cwd=cwd), stdin)


def sample(name: str) -> str:
    return str(SAMPLES / name)


def line_of(name: str, code: str) -> int:
    lines = (SAMPLES / name).read_text().splitlines()
    [number] = [n for n, line in enumerate(lines, start=1) if line.strip() == code]
    return number


def read_report(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(document)
    return document


@pytest.mark.timeout(10)
def test_time_sleep_in_a_coroutine_is_reported_with_its_line_and_trap(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    sleep_ms = 300 * MS * 1000
    run = loopwatch("--report", str(report), "--", sys.executable, sample("sleepy.py"),
                    env=sample_env(sleep_ms / 1000))

    assert run.code == 0, run.stderr
    line = line_of("sleepy.py", "time.sleep(SECONDS)")
    [live] = run.live_lines
    assert f"sleepy.py:{line} in handler: time.sleep(SECONDS)" in live
    assert "[time.sleep() in a coroutine]" in live
    document = read_report(report)
    [blockage] = document["blockages"]
    assert blockage["trap"]["id"] == "time_sleep"
    assert blockage["thread"] == "MainThread" and blockage["ended"]
    # A lower bound, short by less than one interval.
    assert sleep_ms - INTERVAL_MS - SLACK_MS <= blockage["duration_ms"] <= sleep_ms + SLACK_MS
    assert blockage["stack"][-1] == {"file": sample("sleepy.py"), "line": line,
                                     "function": "handler", "code": "time.sleep(SECONDS)"}
    assert document["exit"] == {"code": 0, "signal": None, "status": 0}
    assert document["loop"]["loops"] == 1 and document["loop"]["heartbeats"] > 0
    assert document["loop"]["max_lag_ms"] >= blockage["duration_ms"]
    assert "1 blockage >= 100.0 ms" in run.stderr
    assert "fix: time.sleep() stops the whole event loop" in run.stderr


@pytest.fixture
def slow_server() -> Iterator[int]:
    """A loopback server that answers each request after 300 ms, as a slow REST API would."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(RUN_TIMEOUT)

    def serve() -> None:
        try:
            connection, _ = server.accept()
        except OSError:
            return
        with connection:
            connection.recv(1024)
            time.sleep(300 * MS)
            connection.sendall(b"HTTP/1.0 200 OK\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    server.close()
    thread.join(1)


@pytest.mark.timeout(10)
def test_a_blocking_socket_read_is_named(slow_server: int, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    run = loopwatch("--report", str(report), "--",
                    sys.executable, sample("socket_read.py"), str(slow_server))

    assert run.code == 0, run.stderr
    assert run.stdout == "HTTP/1.0 200 OK\n"
    line = line_of("socket_read.py", "reply = sock.recv(1024)")
    [live] = run.live_lines
    assert f"socket_read.py:{line} in fetch_price: reply = sock.recv(1024)" in live
    assert "[blocking socket call on the loop thread]" in live
    [blockage] = read_report(report)["blockages"]
    assert blockage["trap"]["id"] == "sync_socket"
    assert blockage["where"] == f"{sample('socket_read.py')}:{line} in fetch_price"


@pytest.mark.timeout(10)
def test_a_healthy_program_is_not_reported_and_keeps_its_stdio(tmp_path: Path) -> None:
    report = tmp_path / "report.md"
    run = loopwatch("--report", str(report), "--", sys.executable, sample("healthy.py"),
                    stdin="hello\n")

    assert run.code == 0, run.stderr
    assert run.stdout == "HELLO\n"
    assert run.stderr.startswith("stderr is mine\n")
    assert run.live_lines == []
    assert "no blockage >= 100.0 ms" in run.stderr
    text = report.read_text()
    assert text.startswith("# Event-loop watch: ")
    assert "no blockage >= 100.0 ms" in text and "| MainThread | 1 |" in text


@pytest.mark.timeout(10)
def test_the_exit_code_is_passed_through() -> None:
    run = loopwatch("--", sys.executable, sample("exit_code.py"))

    assert run.code == 7
    assert "exited with code 7" in run.stderr


@pytest.mark.timeout(10)
def test_python_dash_m_runs_the_module_as_main_and_is_watched(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    run = loopwatch("--report", str(report), "--", sys.executable, "-m", "blocking_module",
                    cwd=SAMPLES)

    assert run.code == 0, run.stderr
    assert run.stdout == "ran as blocking_module\n"
    line = line_of("blocking_module.py", "time.sleep(0.2)  # a slow network file system, say")
    [blockage] = read_report(report)["blockages"]
    assert blockage["where"].endswith(f"blocking_module.py:{line} in load_settings")
    assert read_report(report)["runs"] == "module blocking_module"


@pytest.mark.timeout(10)
def test_every_loop_is_watched_one_run_after_another_and_in_threads(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    run = loopwatch("--report", str(report), "--", sys.executable, sample("two_runs.py"))

    assert run.code == 0, run.stderr
    document = read_report(report)
    places = [(b["thread"], b["stack"][-1]["function"]) for b in document["blockages"]]
    assert places == [("MainThread", "first"), ("MainThread", "second"), ("feed", "in_worker")]
    threads = {t["thread"]: t["loops"] for t in document["loop"]["threads"]}
    assert threads == {"MainThread": 2, "feed": 1}
    assert document["loop"]["loops"] == 3
    assert "event loop of thread 'feed' blocked" in run.live_lines[-1]


@pytest.mark.timeout(10)
def test_the_program_sees_its_own_environment_and_a_chained_sitecustomize(
    tmp_path: Path,
) -> None:
    own = tmp_path / "own"
    own.mkdir()
    (own / "sitecustomize.py").write_text(
        "import os\nos.environ['CHAINED_SITECUSTOMIZE'] = 'ran'\n")
    env = {**os.environ, "PYTHONPATH": str(own)}
    run = loopwatch("--", sys.executable, sample("environment.py"), env=env)

    assert run.code == 0, run.stderr
    seen = json.loads(run.stdout)
    assert seen == {"pythonpath": str(own), "variables": [], "boot_on_path": False,
                    "chained": "ran", "sitecustomize": str(own / "sitecustomize.py")}
    assert "no asyncio event loop ran" in run.stderr


@pytest.mark.timeout(10)
def test_a_forked_child_does_not_report_on_the_parents_pipe(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    run = loopwatch("--report", str(report), "--", sys.executable, sample("forked.py"))

    assert run.code == 0, run.stderr
    assert run.stdout == "child exited 0\n"
    document = read_report(report)
    assert document["blockages"] == [] and document["watchdog"]["errors"] == []
    assert document["loop"]["loops"] == 1  # the parent's; the child's loop is not counted


@pytest.mark.timeout(10)
def test_a_program_that_closes_our_pipe_keeps_its_own_files(tmp_path: Path) -> None:
    own = tmp_path / "own.txt"
    run = loopwatch("--", sys.executable, sample("closes_fds.py"), str(own))

    assert run.code == 0, run.stderr
    assert own.read_text() == "mine\n"
    assert run.live_lines == []  # the blockage had nowhere to go
    assert "no lag figures (they are sent at exit, and none came)" in run.stderr


@pytest.mark.timeout(10)
def test_a_death_by_signal_exits_128_plus_the_signal(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    run = loopwatch("--report", str(report), "--", sys.executable, sample("signals.py"),
                    "kill")

    assert run.code == 128 + signal.SIGTERM
    assert "was killed by SIGTERM" in run.stderr
    document = read_report(report)
    assert document["exit"] == {"code": None, "signal": "SIGTERM", "status": 143}
    assert document["loop"]["heartbeats"] is None  # the agent had no chance to send them


@pytest.mark.timeout(10)
def test_an_interrupt_sent_to_loopwatch_reaches_the_program() -> None:
    process = start("--", sys.executable, sample("signals.py"), "wait")
    assert process.stdout is not None
    ready = process.stdout.readline()  # blocks until the program runs (or fails)
    assert ready == "ready\n"
    process.send_signal(signal.SIGINT)  # to loopwatch only: no terminal here to send it
    run = finish(process)

    assert run.code == 128 + signal.SIGINT, run.stderr
    assert "was killed by SIGINT" in run.stderr


BLOCKING_LINE = "time.sleep(BLOCK_SECONDS[sys.argv[1]])"


@pytest.mark.timeout(10)
def test_ctrl_c_waits_for_a_blocked_loop_and_the_blockage_is_measured(tmp_path: Path) -> None:
    """asyncio.run's SIGINT handler only cancels the main task once the loop runs again: the
    seed incident's "timeout not triggering", and the reason to run loopwatch."""
    report = tmp_path / "report.json"
    stuck_ms = 1500 * MS * 1000
    process = start("--report", str(report), "--", sys.executable, sample("signals.py"),
                    "stuck", env=sample_env(stuck_ms / 1000))
    assert process.stdout is not None
    assert process.stdout.readline() == "ready\n"
    process.send_signal(signal.SIGINT)
    run = finish(process)

    assert run.code == 128 + signal.SIGINT
    [blockage] = read_report(report)["blockages"]
    assert blockage["ended"] and blockage["trap"]["id"] == "time_sleep"
    slack_ms = 100 * MS * 1000  # a whole second and a half on a loaded machine: more noise
    assert stuck_ms - INTERVAL_MS - slack_ms <= blockage["duration_ms"] <= stuck_ms + slack_ms
    [live] = run.live_lines[-1:]
    assert live.startswith(f"{PREFIX} event loop blocked {format_ms(blockage['duration_ms'])} ")
    assert format_ms(blockage["duration_ms"]).endswith(" s")


@pytest.mark.timeout(10)
def test_a_loop_blocked_for_good_is_reported_while_stuck_and_at_the_end(
    tmp_path: Path,
) -> None:
    report = tmp_path / "report.json"
    process = start("--report", str(report), "--", sys.executable, sample("signals.py"),
                    "block")
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline() == "ready\n"
    live = process.stderr.readline()  # about a second after the loop got stuck
    line = line_of("signals.py", BLOCKING_LINE)
    assert live.startswith(f"{PREFIX} event loop blocked for ")
    assert f"signals.py:{line} in main: {BLOCKING_LINE} [time.sleep() in a coroutine]" in live
    process.send_signal(signal.SIGTERM)  # forwarded: the program dies stuck
    run = finish(process)

    assert run.code == 128 + signal.SIGTERM
    assert "still blocked after" in run.stderr and "when the program ended" in run.stderr
    [blockage] = read_report(report)["blockages"]
    assert not blockage["ended"]
    assert blockage["duration_ms"] >= 1000  # counted to the program's end, not to detection


def test_the_child_environment_puts_the_bootstrap_first_and_remembers_pythonpath() -> None:
    env = child_environment({"PYTHONPATH": "/mine", "HOME": "/h"}, 7, 0.1, 0.05)
    assert env["PYTHONPATH"].split(":") == [str(BOOT_DIR), "/mine"]
    assert env["HOME"] == "/h"
    settings = json.loads(env[ENV_VAR])
    assert settings["fd"] == 7 and settings["pythonpath"] == "/mine"
    assert (BOOT_DIR / "sitecustomize.py").is_file()
    assert json.loads(child_environment({}, 7, 0.1, 0.05)[ENV_VAR])["pythonpath"] is None


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "no command to run"),
        (("--",), "no command to run"),
        (("--", "ls", "-l"), "'ls' is not a Python interpreter"),
        (("--", sys.executable, "-I", "bot.py"), "-I (isolated mode)"),
        (("--", "python3.99", "bot.py"), "'python3.99': command not found"),
        (("--threshold", "0", "--", sys.executable, "bot.py"), "--threshold must be"),
        (("--format", "json", "--", sys.executable, "bot.py"), "--format needs --report"),
        ((sys.executable, "bot.py"), "put the program after --"),
    ],
)
def test_bad_usage_exits_3_with_one_line(args: tuple[str, ...], message: str) -> None:
    run = loopwatch(*args)

    assert run.code == 3
    assert run.stdout == ""
    [line] = run.stderr.splitlines()
    assert line.startswith("binance-diag: error: ") and message in line


@pytest.mark.parametrize("report", ["", ".", "{tmp}", "{tmp}/missing/r.json"])
def test_a_report_that_cannot_be_written_is_refused_before_the_program_runs(
        tmp_path: Path, report: str) -> None:
    marker = tmp_path / "ran"
    run = loopwatch("--report", report.format(tmp=tmp_path), "--", sys.executable, "-c",
                    f"open({str(marker)!r}, 'w')")
    assert run.code == 3
    assert run.stderr.startswith("binance-diag: error: --report ") and \
        run.stderr.count("\n") == 1, run.stderr
    assert not marker.exists(), "the program must not run"


def test_python_dash_c_programs_get_their_code_lines_and_traps() -> None:
    code = ("import asyncio, time\n"
            "async def main():\n"
            "    time.sleep(0.3)\n"
            "asyncio.run(main())\n")
    run = loopwatch("--", sys.executable, "-c", code)
    assert run.code == 0, run.stderr
    [live] = run.live_lines
    assert "<string>:3 in main: time.sleep(0.3) [time.sleep() in a coroutine]" in live



OUR_PIPE = ("import os, stat\n"
            "def is_pipe(fd):\n"
            "    try:\n"
            "        return stat.S_ISFIFO(os.fstat(fd).st_mode)\n"
            "    except OSError:\n"
            "        return False\n"
            "[pipe] = [fd for fd in range(3, 256) if is_pipe(fd)]\n")
"""Python code that finds the reporting pipe, as a program that writes on it would."""


@pytest.mark.timeout(15)
def test_hostile_lines_on_the_pipe_are_counted_never_a_traceback(tmp_path: Path) -> None:
    """A nesting past the recursion limit, 4 MB without a newline, then a blockage: it is
    still reported, live and in the summary, and the program never waits on us."""
    report = tmp_path / "report.json"
    code = (OUR_PIPE
            + "import asyncio, time\n"
            "os.write(pipe, b'[' * 100000 + b'\\n')\n"
            "for _ in range(64):\n"
            "    os.write(pipe, b'x' * 65536)\n"
            "os.write(pipe, b'\\n{\"type\": \"hello\", \"pid\": [[1]], \"python\": 1}\\n')\n"
            "async def main():\n"
            "    time.sleep(0.3)\n"
            "asyncio.run(main())\n")
    run = loopwatch("--report", str(report), "--", sys.executable, "-c", code)

    assert run.code == 0, run.stderr
    assert "Traceback" not in run.stderr and "RecursionError" not in run.stderr, run.stderr
    [live] = run.live_lines
    line = code.splitlines().index("    time.sleep(0.3)") + 1
    assert f"<string>:{line} in main: time.sleep(0.3)" in live
    errors = read_report(report)["watchdog"]["errors"]
    assert errors == ["2 unreadable lines on the reporting pipe, ignored",
                      "1 line of 1 MiB or more on the reporting pipe, dropped unread"]
    assert f"  watchdog error: {errors[0]}" in run.stderr


@pytest.mark.timeout(10)
@pytest.mark.parametrize("loop_first", [False, True])
def test_a_program_that_closes_the_pipe_is_said_to_have_done_so(
        tmp_path: Path, loop_first: bool) -> None:
    """Not 'no event loop ran': what came before the pipe closed stays, and the summary
    says why nothing came after."""
    report = tmp_path / "report.json"
    code = ("import asyncio, os, time\n"
            + ("asyncio.run(asyncio.sleep(0))\n" if loop_first else "")
            + OUR_PIPE + "os.close(pipe)\n"
            "async def main():\n"
            "    time.sleep(0.6)\n"
            "asyncio.run(main())\n")
    run = loopwatch("--report", str(report), "--", sys.executable, "-c", code)

    assert run.code == 0, run.stderr
    assert "no asyncio event loop ran" not in run.stderr
    assert run.live_lines == []  # the blockage had nowhere to go
    document = read_report(report)
    [closed] = document["watchdog"]["errors"]
    assert closed.startswith("the program closed the reporting pipe ")
    assert closed.endswith(" s after it started: nothing it did after that is known")
    assert f"  watchdog error: {closed}" in run.stderr
    assert document["watchdog"]["attached"] and document["watchdog"]["pid"] is not None
    if loop_first:
        assert document["loop"]["loops"] == 1
        assert "watched 1 loop (MainThread): no lag figures" in run.stderr
    else:
        assert document["loop"]["loops"] == 0
        assert "  no asyncio event loop reported before the pipe closed" in run.stderr


@pytest.mark.timeout(10)
def test_a_normal_exit_is_not_taken_for_a_closed_pipe(tmp_path: Path) -> None:
    """The agent says goodbye before it closes the pipe at exit: however long the
    interpreter then takes to finish, the pipe was not closed by the program."""
    report = tmp_path / "report.json"
    code = ("import asyncio, atexit, time\n"
            "atexit.register(time.sleep, 0.6)\n"  # runs after the agent's, at exit
            "asyncio.run(asyncio.sleep(0))\n")
    run = loopwatch("--report", str(report), "--", sys.executable, "-c", code)

    assert run.code == 0, run.stderr
    assert read_report(report)["watchdog"]["errors"] == []
    assert "closed the reporting pipe" not in run.stderr
