"""watchdog/stacks.py: where a thread or a task is stuck, and which known trap that place is.

The trap table and the formatting are fed frame summaries; the samplers read real threads
and tasks of this process (no I/O).
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from traceback import FrameSummary

import pytest

from binance_diag.watchdog.stacks import (
    KNOWN_TRAPS,
    KnownTrap,
    find_trap,
    format_frame,
    format_stack,
    running_loop_of_thread,
    short_path,
    task_frames,
    thread_frames,
    trim_loop_machinery,
    where,
)
from tests.utils import MS

WAIT = 2000 * MS


def frame(path: str, name: str, line: str = "") -> FrameSummary:
    return FrameSummary(path, 1, name, line=line, lookup_line=False)


USER = "/home/bot/app.py"
LIB = "/venv/lib/python3.12/site-packages"
STDLIB = "/usr/lib/python3.12"


@pytest.mark.parametrize(
    ("frames", "trap"),
    [
        ([frame(USER, "connect", "async with websockets.connect(url):"),
          frame(f"{LIB}/websockets/asyncio/client.py", "create_connection"),
          frame(f"{LIB}/websockets/proxy.py", "get_proxy"),
          frame(f"{STDLIB}/urllib/request.py", "proxy_bypass"),
          frame(f"{STDLIB}/urllib/request.py", "_proxy_bypass_macosx_sysconf")],
         "websockets_proxy_lookup"),
        ([frame(USER, "main"), frame(f"{STDLIB}/urllib/request.py", "getproxies")],
         "proxy_lookup"),
        ([frame(USER, "fetch", "requests.get(url)"), frame(f"{LIB}/requests/api.py", "get"),
          frame(f"{STDLIB}/socket.py", "readinto")], "sync_http"),
        ([frame(USER, "fetch", "urllib.request.urlopen(url)"),
          frame(f"{STDLIB}/urllib/request.py", "urlopen")], "sync_http"),
        ([frame(USER, "resolve", "socket.gethostbyname(host)")], "sync_dns"),
        ([frame(USER, "resolve", "addrs = await loop.getaddrinfo(host, 443)")], None),
        ([frame(USER, "tick", "time.sleep(1)")], "time_sleep"),
        ([frame(USER, "tick", "await asyncio.sleep(1)")], None),
        ([frame(USER, "save", "path.write_text(data)"),
          frame(f"{STDLIB}/pathlib.py", "write_text")], "file_io"),
        ([frame(USER, "load", "data = fh.read()")], "file_io"),
        ([frame(USER, "run", "subprocess.run(cmd)"), frame(f"{STDLIB}/subprocess.py", "wait")],
         "sync_subprocess"),
        ([frame(USER, "get", "return future.result()"),
          frame(f"{STDLIB}/concurrent/futures/_base.py", "result")], "sync_wait"),
        ([frame(USER, "compute", "total += x * x")], None),
        ([], None),
    ],
)
def test_known_traps_are_recognised_from_the_stack(
    frames: list[FrameSummary], trap: str | None
) -> None:
    found = find_trap(frames)
    assert (found.id if found else None) == trap


def test_every_trap_has_a_unique_id_and_a_way_to_match() -> None:
    assert len({trap.id for trap in KNOWN_TRAPS}) == len(KNOWN_TRAPS)
    assert all(trap.frames or trap.code for trap in KNOWN_TRAPS)
    assert all(trap.hint and trap.title for trap in KNOWN_TRAPS)


def test_a_trap_with_inside_matches_only_within_that_library() -> None:
    trap = KnownTrap("t", "title", "hint", frames=(("/urllib/request.py", "getproxies"),),
                     inside="/websockets/")
    lookup = frame(f"{STDLIB}/urllib/request.py", "getproxies")
    assert not trap.matches([frame(USER, "main"), lookup])
    assert trap.matches([frame(f"{LIB}/websockets/proxy.py", "get_proxy"), lookup])
    assert find_trap([frame(USER, "main"), lookup], traps=(trap,)) is None


def test_a_frame_rule_names_a_function_or_any() -> None:
    any_function = KnownTrap("t", "title", "hint", frames=(("/subprocess.py", None),))
    one_function = KnownTrap("t", "title", "hint", frames=(("/socket.py", "getaddrinfo"),))
    assert any_function.matches([frame(f"{STDLIB}/subprocess.py", "communicate")])
    assert one_function.matches([frame(f"{STDLIB}/socket.py", "getaddrinfo")])
    assert not one_function.matches([frame(f"{STDLIB}/socket.py", "recv_into")])


def test_short_path_keeps_the_package_path_of_libraries() -> None:
    assert short_path(f"{LIB}/websockets/proxy.py".replace("/", os.sep)) == \
        os.path.join("websockets", "proxy.py")
    assert short_path(os.__file__) == "os.py"
    assert short_path(USER) == USER


def test_where_is_the_innermost_frame_outside_the_standard_library() -> None:
    sleeping = [frame(USER, "tick", "time.sleep(1)"), frame(os.__file__, "stat")]
    assert where(sleeping) == f"{USER}:1 in tick"
    in_library = [frame(USER, "main"), frame(f"{LIB}/requests/api.py", "get"),
                  frame(os.__file__, "stat")]
    assert where(in_library) == "requests/api.py:1 in get"
    assert where([frame(os.__file__, "stat")]) == "os.py:1 in stat"  # nothing else: itself
    assert where([]) is None


def test_the_asyncio_machinery_above_the_code_is_trimmed() -> None:
    events = os.path.join(os.path.dirname(asyncio.__file__), "events.py")
    base = os.path.join(os.path.dirname(asyncio.__file__), "base_events.py")
    user = frame(USER, "on_tick", "time.sleep(1)")
    stack = [frame(USER, "main"), frame(base, "run_forever"), frame(base, "_run_once"),
             frame(events, "_run"), user]
    assert trim_loop_machinery(stack) == [user]
    only_asyncio = [frame(base, "run_forever"), frame(base, "_run_once")]
    assert trim_loop_machinery(only_asyncio) == only_asyncio
    assert trim_loop_machinery([user]) == [user]


def test_frames_are_formatted_with_their_source_line() -> None:
    assert format_frame(frame(USER, "tick", "  time.sleep(1)\n")) == \
        f"{USER}:1 in tick: time.sleep(1)"
    assert format_frame(frame(f"{LIB}/requests/api.py", "get")) == \
        "requests/api.py:1 in get"
    stack = [frame(USER, f"f{i}") for i in range(5)]
    assert format_stack(stack, max_frames=2) == (f"{USER}:1 in f3", f"{USER}:1 in f4")
    assert len(format_stack(stack, max_frames=0)) == 5


def test_a_task_is_followed_into_the_coroutine_it_awaits_and_the_task_it_waits_on() -> None:
    async def innermost(event: asyncio.Event) -> None:
        await event.wait()

    async def worker(event: asyncio.Event) -> None:
        await innermost(event)

    async def waiter(task: asyncio.Task[None]) -> None:
        await task

    async def main() -> tuple[list[str], list[str]]:
        event = asyncio.Event()
        task = asyncio.create_task(worker(event))
        waiting = asyncio.create_task(waiter(task))
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        own = [f.name for f in task_frames(task) if f.filename == __file__]
        through = [f.name for f in task_frames(waiting) if f.filename == __file__]
        event.set()
        await waiting
        return own, through

    own, through = asyncio.run(main())
    assert own == ["worker", "innermost"]
    assert through == ["waiter", "worker", "innermost"]


def test_another_threads_stack_and_its_running_loop_are_read_from_here() -> None:
    release = threading.Event()
    started = threading.Event()
    loop = asyncio.new_event_loop()

    def blocked_in_here() -> None:
        started.set()
        release.wait(WAIT)

    def serve() -> None:
        loop.call_soon(blocked_in_here)
        loop.call_later(WAIT, loop.stop)
        loop.run_forever()

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        assert started.wait(WAIT)
        assert thread.ident is not None
        frames = thread_frames(thread.ident)
        assert [f.name for f in frames if f.filename == __file__][-1] == "blocked_in_here"
        assert frames[0].name == "_bootstrap"  # outermost first
        assert running_loop_of_thread(thread.ident) is loop
    finally:
        release.set()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(WAIT)
        loop.close()
    assert running_loop_of_thread(threading.get_ident()) is None  # no loop on this thread
    assert thread_frames(max(sys._current_frames()) + 1) == []  # no such thread


def test_current_frames_holds_the_collector_off_and_restores_it() -> None:
    """gh-106883: a collection inside sys._current_frames() can deadlock a threaded process."""
    import gc
    import threading

    from binance_diag.watchdog.stacks import current_frames

    assert gc.isenabled()
    assert threading.get_ident() in current_frames()
    assert gc.isenabled()
    gc.disable()
    try:
        current_frames()
        assert not gc.isenabled()
    finally:
        gc.enable()
