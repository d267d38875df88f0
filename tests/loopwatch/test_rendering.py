"""What `binance-diag loopwatch` prints and writes: the live line of a blockage, the summary,
and the text, Markdown and JSON reports (loopwatch/render.py)."""

from __future__ import annotations

import json
from datetime import timedelta

import jsonschema
import pytest

from binance_diag.loopwatch.rendering import (
    ReportFormat,
    blockage_line,
    render,
    report_to_dict,
    summary_lines,
)
from binance_diag.loopwatch.report import ExitStatus, group_blockages
from binance_diag.loopwatch.wire import (
    AgentError,
    Event,
    Frame,
    Hello,
    LoopSeen,
    ThreadStats,
)
from binance_diag.schema import load_loopwatch_schema
from tests.loopwatch.helpers import T0, blockage, report

SCHEMA = load_loopwatch_schema()


# -- the line of one blockage ----------------------------------------------------------------


def test_the_line_says_how_long_where_the_code_and_the_trap() -> None:
    assert blockage_line(blockage()) == (
        "binance-diag loopwatch: event loop blocked 301.5 ms at bot.py:12 in handler: "
        "time.sleep(0.3) [time.sleep() in a coroutine]")


def test_a_line_names_another_thread_and_copes_without_a_stack() -> None:
    line = blockage_line(blockage(thread="feed", where=None, trap=None, stack=()))
    assert line == ("binance-diag loopwatch: event loop of thread 'feed' blocked 301.5 ms "
                    "(no stack: it was over before the watchdog looked)")


def test_paths_under_the_working_directory_are_shown_relative() -> None:
    deep = blockage(where="/home/me/bot/bot.py:12 in handler",
                    stack=(Frame("/home/me/bot/bot.py", 12, "handler", "time.sleep(1)"),))
    assert " at bot.py:12 in handler: time.sleep(1) " in blockage_line(deep, cwd="/home/me/bot")
    assert " at /home/me/bot/bot.py:12 " in blockage_line(deep, cwd="/home/me/bo")
    result = report([Hello(9, "3.11.7"), LoopSeen("MainThread", 1), deep])
    assert "    1 x, max 301.5 ms, bot.py:12 in handler: time.sleep(1) [time.sleep() in a " \
        "coroutine]" in summary_lines(result, cwd="/home/me/bot/")


# -- the summary -----------------------------------------------------------------------------


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


# -- the report files ------------------------------------------------------------------------


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
