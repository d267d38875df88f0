"""The pure parts of `binance-diag loopwatch`: command checks, the pipe's events, the live
lines, the summary and the JSON report, without any process."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import jsonschema
import pytest

from binance_diag.config import ConfigError
from binance_diag.loopwatch.agent import blockage_event
from binance_diag.loopwatch.command import is_python_interpreter, parse_python_command
from binance_diag.loopwatch.live import LiveReporter
from binance_diag.loopwatch.render import (
    ReportFormat,
    blockage_line,
    render,
    report_to_dict,
    summary_lines,
)
from binance_diag.loopwatch.report import (
    EventLog,
    ExitStatus,
    LoopwatchReport,
    build_report,
    group_blockages,
)
from binance_diag.loopwatch.run import BOOT_DIR, child_environment
from binance_diag.loopwatch.wire import (
    ENV_VAR,
    AgentError,
    Event,
    Frame,
    Hello,
    LoopSeen,
    ThreadStats,
    WatchedBlockage,
    decode,
    encode,
    parse_frame,
)
from binance_diag.schema import load_loopwatch_schema
from binance_diag.watchdog import LoopBlockage

T0 = datetime(2026, 11, 25, 8, 41, 59, 784000, tzinfo=UTC)
SCHEMA = load_loopwatch_schema()
SLEEP = Frame("bot.py", 12, "handler", "time.sleep(0.3)")
EXITED_0 = ExitStatus(0)


def blockage(key: str = "1@a", *, ms: float = 301.5, ended: bool = True,
             thread: str = "MainThread", where: str | None = "bot.py:12 in handler",
             trap: str | None = "time_sleep", at: datetime = T0,
             stack: tuple[Frame, ...] = (Frame("bot.py", 20, "main", "await handler()"), SLEEP),
             ) -> WatchedBlockage:
    return WatchedBlockage(key, thread, at, ms, ended, where, trap, stack)


# -- which commands are accepted -------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "runs"),
    [
        (["python", "bot.py", "-I", "--x"], "script bot.py"),
        (["/venv/bin/python3.11", "-u", "-B", "bot.py"], "script bot.py"),
        (["python3", "-m", "bot.main", "-S"], "module bot.main"),
        (["python", "-mbot"], "module bot"),
        (["python", "-uX", "dev", "-W", "error", "bot.py"], "script bot.py"),
        (["python", "-Xdev", "bot.py"], "script bot.py"),
        (["python", "--check-hash-based-pycs", "always", "bot.py"], "script bot.py"),
        (["pypy3", "-c", "import bot"], "code (-c)"),
        (["python", "-"], "stdin"),
        (["python", "--", "bot.py"], "script bot.py"),
        (["python", "-u"], "interactive"),
    ],
)
def test_python_commands_are_accepted_and_what_they_run_is_named(
    argv: list[str], runs: str
) -> None:
    command = parse_python_command(argv)
    assert command.argv == tuple(argv)
    assert command.runs == runs


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "no command to run"),
        (["node", "bot.js"], "'node' is not a Python interpreter"),
        (["./bot.py"], "'./bot.py' is not a Python interpreter"),
        (["python", "-I", "bot.py"], "-I (isolated mode)"),
        (["python", "-uE", "bot.py"], "-E ignores PYTHONPATH"),
        (["python", "-S", "-m", "bot"], "-S skips the site module"),
        (["python", "-m"], "python -m needs a module name"),
    ],
)
def test_commands_loopwatch_cannot_attach_to_are_refused(argv: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_python_command(argv)


@pytest.mark.parametrize("name", ["python", "python3", "python3.11", "/x/bin/python3.13t",
                                  "PYTHON.EXE", "pypy3.10", "python3.12d"])
def test_interpreters_are_recognised_by_name(name: str) -> None:
    assert is_python_interpreter(name)


@pytest.mark.parametrize("name", ["uv", "poetry", "bash", "pythonista", "ipython", "bot.py"])
def test_other_programs_are_not_interpreters(name: str) -> None:
    assert not is_python_interpreter(name)


def test_the_child_environment_puts_the_bootstrap_first_and_remembers_pythonpath() -> None:
    env = child_environment({"PYTHONPATH": "/mine", "HOME": "/h"}, 7, 0.1, 0.05)
    assert env["PYTHONPATH"].split(":") == [str(BOOT_DIR), "/mine"]
    assert env["HOME"] == "/h"
    settings = json.loads(env[ENV_VAR])
    assert settings["fd"] == 7 and settings["pythonpath"] == "/mine"
    assert (BOOT_DIR / "sitecustomize.py").is_file()
    assert json.loads(child_environment({}, 7, 0.1, 0.05)[ENV_VAR])["pythonpath"] is None


# -- the pipe --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["bot.py:12 in handler: time.sleep(0.3)", "bot.py:3 in <module>",
     "C:/x y/bot.py:9 in f: d = {'a': 1}: x", "websockets/proxy.py:45 in get_proxy"],
)
def test_frames_read_back_as_formatted(text: str) -> None:
    frame = parse_frame(text)
    assert frame is not None and str(frame) == text


def test_a_line_that_is_no_frame_is_none() -> None:
    assert parse_frame("something else") is None


@pytest.mark.parametrize(
    "event",
    [blockage(), blockage(ended=False, where=None, trap=None, stack=()),
     Hello(42, "3.11.7"), LoopSeen("feed", 2), ThreadStats("MainThread", 1, 301.5, 2.25, 99),
     AgentError("ImportError: no module")],
)
def test_every_event_survives_the_pipe(event: Event) -> None:
    line = encode(event)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert decode(line) == event


@pytest.mark.parametrize("line", [b"", b"not json", b"{}", b'{"type": "nope"}',
                                  b'{"type": "hello", "pid": "x"}', b"[1, 2]"])
def test_garbage_on_the_pipe_is_ignored(line: bytes) -> None:
    assert decode(line) is None


def test_a_watchdog_snapshot_becomes_a_blockage_event_keyed_by_thread_and_start() -> None:
    snapshot = LoopBlockage(T0, 150.1234, None, ("bot.py:12 in handler: time.sleep(0.3)",),
                            "bot.py:12 in handler", "time_sleep", "hint", ended=False)
    event = blockage_event(5, "MainThread", snapshot)
    assert event == WatchedBlockage(f"5@{T0.isoformat()}", "MainThread", T0, 150.123, False,
                                    "bot.py:12 in handler", "time_sleep", (SLEEP,))


# -- live lines ------------------------------------------------------------------------------


def test_the_line_says_how_long_where_the_code_and_the_trap() -> None:
    assert blockage_line(blockage()) == (
        "binance-diag loopwatch: event loop blocked 301.5 ms at bot.py:12 in handler: "
        "time.sleep(0.3) [time.sleep() in a coroutine]")


def test_a_line_names_another_thread_and_copes_without_a_stack() -> None:
    line = blockage_line(blockage(thread="feed", where=None, trap=None, stack=()))
    assert line == ("binance-diag loopwatch: event loop of thread 'feed' blocked 301.5 ms "
                    "(no stack: it was over before the watchdog looked)")


def test_a_short_blockage_is_one_line_when_it_ends() -> None:
    live = LiveReporter(still_blocked_after=1.0)
    assert live.feed(blockage(ms=100, ended=False), now=10.0) == []
    assert live.tick(10.5) == []
    assert live.feed(blockage(ms=301.5), now=10.2) == [blockage_line(blockage())]
    assert live.tick(20.0) == [] and live.flush(20.0) == []


def test_a_long_blockage_is_told_while_it_lasts_and_again_when_it_ends() -> None:
    live = LiveReporter(still_blocked_after=1.0)
    live.feed(blockage(ms=100, ended=False), now=10.0)
    [line] = live.tick(11.0)
    assert "event loop blocked for 1.10 s so far at bot.py:12 in handler" in line
    assert live.tick(12.0) == []  # told once
    assert live.feed(blockage(ms=5000), now=14.9) == [blockage_line(blockage(ms=5000))]


def test_a_blockage_open_when_the_program_ends_is_flushed() -> None:
    live = LiveReporter()
    live.feed(blockage(ms=100, ended=False), now=10.0)
    [line] = live.flush(10.4)
    assert "event loop still blocked after 500.0 ms when the program ended at bot.py:12" in line


def test_paths_under_the_working_directory_are_shown_relative() -> None:
    deep = blockage(where="/home/me/bot/bot.py:12 in handler",
                    stack=(Frame("/home/me/bot/bot.py", 12, "handler", "time.sleep(1)"),))
    assert " at bot.py:12 in handler: time.sleep(1) " in blockage_line(deep, cwd="/home/me/bot")
    assert " at /home/me/bot/bot.py:12 " in blockage_line(deep, cwd="/home/me/bo")
    result = report([Hello(9, "3.11.7"), LoopSeen("MainThread", 1), deep])
    assert "    1 x, max 301.5 ms, bot.py:12 in handler: time.sleep(1) [time.sleep() in a " \
        "coroutine]" in summary_lines(result, cwd="/home/me/bot/")


def test_other_events_print_nothing() -> None:
    assert LiveReporter().feed(Hello(1, "3.11"), now=0.0) == []


# -- the report ------------------------------------------------------------------------------


def report(events: list[Event], *, exit_status: ExitStatus = EXITED_0,
           duration_s: float = 2.0) -> LoopwatchReport:
    log = EventLog()
    log.extend(events)
    return build_report(
        command=("python", "bot.py"), runs="script bot.py", started_at=T0 - timedelta(seconds=1),
        duration_s=duration_s, exit_status=exit_status, threshold_ms=100.0, interval_ms=50.0,
        log=log, tool_version="0.1.0", generated_at=T0 + timedelta(seconds=2),
    )


def test_exit_statuses_follow_the_shell() -> None:
    assert ExitStatus.from_returncode(7) == ExitStatus(7)
    killed = ExitStatus.from_returncode(-15)
    assert (killed.status, killed.signal_name, killed.describe()) == (
        143, "SIGTERM", "was killed by SIGTERM")


def test_the_last_snapshot_of_a_blockage_wins_and_stats_fill_the_threads() -> None:
    result = report([Hello(9, "3.11.7"), LoopSeen("MainThread", 1),
                     blockage(ms=100, ended=False), blockage(ms=301.5),
                     LoopSeen("MainThread", 2), ThreadStats("MainThread", 2, 301.5, 3.0, 40)])
    assert result.attached and result.pid == 9
    assert result.blockages == (blockage(ms=301.5),)
    assert (result.loops, result.max_lag_ms, result.p99_lag_ms, result.heartbeats) == (
        2, 301.5, 3.0, 40)


def test_a_blockage_open_at_the_end_lasted_until_the_program_ended() -> None:
    result = report([Hello(9, "3.11.7"), LoopSeen("MainThread", 1),
                     blockage(ms=100, ended=False)], duration_s=4.0)
    [open_blockage] = result.blockages
    assert open_blockage.duration_ms == 3000.0  # the program ran until T0 + 3 s
    assert result.heartbeats is None and result.max_lag_ms == 3000.0


def test_the_summary_lists_places_by_cost_with_the_fix() -> None:
    other = Frame("bot.py", 30, "save", "json.dump(state, file)")
    result = report([
        Hello(9, "3.11.7"), LoopSeen("MainThread", 1),
        blockage("a", ms=150), blockage("b", ms=160, at=T0 + timedelta(seconds=1)),
        blockage("c", ms=400, where="bot.py:30 in save", trap="file_io", stack=(other,)),
        ThreadStats("MainThread", 1, 400.0, 2.5, 60),
    ])
    assert summary_lines(result) == [
        "binance-diag loopwatch: python bot.py exited with code 0 after 2.00 s",
        "  watched 1 loop (MainThread): max lag 400.0 ms, p99 2.5 ms, 60 heartbeats",
        "  3 blockages >= 100.0 ms, 710.0 ms in all:",
        "    1 x, max 400.0 ms, bot.py:30 in save: json.dump(state, file) "
        "[file I/O on the loop thread]",
        "    2 x, max 160.0 ms, bot.py:12 in handler: time.sleep(0.3) "
        "[time.sleep() in a coroutine]",
        "  fix: reading or writing files blocks the loop (a slow disk, a network file system, "
        "a large file); use asyncio.to_thread(...) or loop.run_in_executor(...)",
        "  fix: time.sleep() stops the whole event loop; use await asyncio.sleep(...)",
    ]
    assert [g.count for g in group_blockages(result.blockages)] == [1, 2]


def test_the_summary_says_when_nothing_was_watched() -> None:
    unattached = report([AgentError("SyntaxError: old Python")], exit_status=ExitStatus(1))
    assert summary_lines(unattached)[1:] == [
        "  the watchdog was not attached: SyntaxError: old Python"]
    no_loop = report([Hello(9, "3.11.7")])
    assert summary_lines(no_loop)[1:] == ["  no asyncio event loop ran"]


def test_many_places_are_cut_short_on_stderr() -> None:
    events: list[Event] = [Hello(9, "3.11.7"), LoopSeen("MainThread", 1)]
    events += [blockage(str(n), where=f"bot.py:{n} in f", stack=(Frame("bot.py", n, "f"),),
                        at=T0 + timedelta(seconds=n)) for n in range(8)]
    assert summary_lines(report(events))[-2] == (
        "    ... and 3 more places (--report FILE lists every blockage)")


@pytest.mark.parametrize("events", [
    [Hello(9, "3.11.7"), LoopSeen("MainThread", 1), blockage(), blockage("2", trap=None),
     blockage("3", ended=False, where=None, stack=()), ThreadStats("MainThread", 1, 1.0, 1.0, 3)],
    [AgentError("no")],
    [Hello(9, "3.11.7")],
])
def test_every_json_report_matches_the_published_schema(events: list[Event]) -> None:
    for exit_status in (ExitStatus(0), ExitStatus(None, 2)):
        document = json.loads(render(report(events, exit_status=exit_status),
                                     ReportFormat.JSON))
        jsonschema.Draft202012Validator(SCHEMA).validate(document)
        assert document == report_to_dict(report(events, exit_status=exit_status))


def test_the_schema_itself_is_valid() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_text_and_markdown_list_every_blockage_with_its_stack() -> None:
    result = report([Hello(9, "3.11.7"), LoopSeen("MainThread", 1), blockage(),
                     ThreadStats("MainThread", 1, 301.5, 2.0, 30)])
    text = render(result, ReportFormat.TEXT)
    assert "    bot.py:12 in handler: time.sleep(0.3)" in text
    assert "2026-11-25T08:41:59.784+00:00  301.5 ms  thread MainThread" in text
    markdown = render(result, ReportFormat.MARKDOWN)
    assert "| `bot.py:12 in handler` | `time.sleep(0.3)` | time.sleep() in a coroutine | 1 |" \
        in markdown
    assert "```\nbot.py:20 in main: await handler()\nbot.py:12 in handler: time.sleep(0.3)\n```" \
        in markdown
