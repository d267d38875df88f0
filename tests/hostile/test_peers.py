"""The hostile-peer suite (issue 16): whatever a peer sends, the real CLI ends within its
declared budget, in bounded memory, with a schema-valid report, the right error kind, no
traceback, and no control character or workflow command of the peer's in its output.

Each case is one `binance-diag probe` child process against a loopback simulator
(`--resolve`: no DNS, plain ws:// so the floods are not slowed by TLS), short timeouts.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest

from binance_diag.config.endpoints import build_target
from binance_diag.config.probe import ProbeConfig
from binance_diag.config.timeouts import Timeouts
from binance_diag.probe.budget import run_budget
from binance_diag.simulate.proxy_server import ScriptedProxy
from binance_diag.simulate.scenario import start_fault
from tests.schema_check import VALIDATOR
from tests.simulate.running import cli, cli_env
from tests.utils import MS

STAGE_TIMEOUT = 2.0
"""Seconds per stage (--timeout): floods get two seconds to do their worst."""
SLACK = 5000 * MS
"""Past the declared budget: interpreter start and exit on a shared, loaded machine."""
MAX_RSS_MB = 200
MAX_REPORT = 1_000_000
_RAW_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str
    wall_s: float
    max_rss_mb: float
    budget_s: float


def budget(duration: float | None = None) -> float:
    timeouts = Timeouts(*(STAGE_TIMEOUT,) * 6)
    config = ProbeConfig(target=build_target(("BTCUSDT",), "aggTrade", "spot"),
                         timeouts=timeouts, hold=duration)
    return run_budget(config)


def probe(*args: str, duration: float | None = None, env: dict[str, str] | None = None,
          ) -> Run:
    """`binance-diag probe BTCUSDT *args` as a child; its own peak RSS from wait4."""
    extra = ["--duration", f"{duration:g}"] if duration else []
    command = cli("probe", "BTCUSDT", "--timeout", f"{STAGE_TIMEOUT:g}", *args, *extra)
    limit = budget(duration) + SLACK + 30
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=env or cli_env())
    streams: dict[str, bytes] = {}

    def pump(name: str, stream: IO[bytes]) -> None:
        streams[name] = stream.read()

    assert child.stdout is not None and child.stderr is not None
    pumps = [threading.Thread(target=pump, args=("out", child.stdout)),
             threading.Thread(target=pump, args=("err", child.stderr))]
    for thread in pumps:
        thread.start()
    peak = 0.0
    while True:  # wait4, not communicate: the rusage of this child alone
        peak = max(peak, vm_hwm_mb(child.pid))
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() - started > limit:
            child.kill()  # our own child, by its handle
        time.sleep(20 * MS)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    for thread in pumps:
        thread.join()
    child.stdout.close()
    child.stderr.close()
    assert wall <= limit, f"no exit within {limit:.0f} s"
    # ru_maxrss of a child starts at its parent's peak on Linux (exec records the old mm's
    # high-water mark): this pytest worker's size, not the probe's. /proc's VmHWM is the
    # probe's own, polled to its last 20 ms; ru_maxrss is the bound where /proc is not.
    rss = peak if peak else usage.ru_maxrss / 1024
    return Run(child.returncode, streams["out"].decode("utf-8", "strict"),
               streams["err"].decode("utf-8", "strict"), wall, rss, budget(duration))


def vm_hwm_mb(pid: int) -> float:
    """The process's peak resident set so far (Linux /proc), 0 when unknown."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def check_bounded(run: Run) -> None:
    assert "Traceback" not in run.stderr, run.stderr
    assert run.wall_s <= run.budget_s + SLACK, (run.wall_s, run.budget_s)
    assert run.max_rss_mb < MAX_RSS_MB, run.max_rss_mb
    assert len(run.stdout.encode()) < MAX_REPORT


def check_clean(text: str) -> None:
    """No raw control character of a peer's, no line a GitHub runner would run."""
    assert not _RAW_CONTROL.search(text), _RAW_CONTROL.search(text)
    for line in re.split(r"[\r\n]", text):
        assert not line.lstrip().startswith("::"), line
        assert "##[" not in line, line


def report_of(run: Run) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(run.stdout)
    VALIDATOR.validate(document)
    return document


def failure(document: dict[str, Any]) -> tuple[str, str] | None:
    stage = document["failed_stage"]
    if stage is None:
        return None
    (failed,) = [s for s in document["stages"] if s["name"] == stage]
    return stage, failed["error"]["kind"]


@contextmanager
def peer(fault: str) -> Iterator[list[str]]:
    with start_fault(fault, tls=False) as scenario:
        yield list(scenario.cli_args)


CASES = [
    # fault, expected (stage, kind) or None, --duration
    ("reply-flood", ("first_message", "timeout"), None),
    ("nested-reply", ("first_message", "invalid_payload"), None),
    ("nested-payload", ("first_message", "invalid_payload"), None),
    ("event-flood", None, 2.0),
    ("fragment-flood", ("first_message", "protocol_error"), None),
    ("oversized-frame", ("first_message", "protocol_error"), None),
    ("fragmented", None, None),
    ("bad-close-code", ("first_message", "protocol_error"), None),
    ("surrogate-payload", ("first_message", "wrong_stream"), None),
    ("control-close", ("first_message", "closed"), None),
    ("control-reason", ("ws_upgrade", "http_status"), None),
    ("header-flood", ("ws_upgrade", "invalid_handshake"), None),
    ("endless-header", ("ws_upgrade", "invalid_handshake"), None),
    ("ping-flood", ("first_message", "timeout"), None),
    ("deaf-peer", None, 2.0),
]


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("fault", "expected", "duration"), CASES,
                         ids=[case[0] for case in CASES])
def test_hostile_peer_is_bounded_and_diagnosed(fault: str, expected: tuple[str, str] | None,
                                               duration: float | None) -> None:
    with peer(fault) as args:
        run = probe(*args, "--format", "json", duration=duration)
    check_bounded(run)
    document = report_of(run)
    assert failure(document) == expected, document["stages"]
    assert run.code == (2 if expected else run.code), run.stderr
    check_clean(run.stdout + run.stderr)
    assert len(document["timeline"]) <= 501


@pytest.mark.timeout(120)
def test_a_reply_flood_is_counted_not_kept() -> None:
    """886k replies in 10 s made 886k timeline entries (236 s, 1.7 GB): now each is
    counted, the first few named, the timeline capped."""
    with peer("reply-flood") as args:
        run = probe(*args, "--format", "json")
    check_bounded(run)
    document = report_of(run)
    (message,) = [s for s in document["stages"] if s["name"] == "first_message"]
    replies = message["details"]["list_subscriptions"]["unsolicited_replies"]
    assert replies > 1000, replies
    named = [e for e in document["timeline"] if "reply to no request" in e["event"]]
    assert len(named) == 5, named


@pytest.mark.timeout(120)
def test_the_hold_keeps_bounded_statistics_under_an_event_flood() -> None:
    with peer("event-flood") as args:
        run = probe(*args, "--format", "json", duration=3.0)
    check_bounded(run)
    (message,) = [s for s in report_of(run)["stages"] if s["name"] == "first_message"]
    hold = message["details"]["hold"]
    assert hold["messages"] > 1000, hold
    assert 0 <= hold["median_gap_ms"] <= hold["p99_gap_ms"] <= hold["largest_gap_ms"], hold


@pytest.mark.timeout(120)
@pytest.mark.parametrize("output_format", ["markdown", "rich", "nagios", "junit"])
def test_peer_control_characters_never_reach_the_output(output_format: str,
                                                        tmp_path: Path) -> None:
    """A close reason of ESC, BEL, OSC and "\\n::error::x" reached the terminal, Markdown
    and Nagios output raw, and GitHub would have run the Markdown line it made."""
    summary = tmp_path / "summary.md"
    env = {**cli_env(), "GITHUB_STEP_SUMMARY": str(summary)}
    with peer("control-close") as args:
        run = probe(*args, "--format", output_format, "--output",
                    str(tmp_path / "report"), env=env)
    check_bounded(run)
    assert run.code == 2
    for text in (run.stdout, (tmp_path / "report").read_text(encoding="utf-8"),
                 summary.read_text(encoding="utf-8")):
        assert "pwned" in text or output_format == "nagios"
        check_clean(_without_our_annotation(text))
    annotations = [line for line in (run.stdout + run.stderr).splitlines()
                   if line.startswith("::")]
    assert len(annotations) == 1 and annotations[0].startswith("::error title="), annotations


def _without_our_annotation(text: str) -> str:
    return "\n".join(line for line in text.splitlines()
                     if not line.startswith("::error title=binance-diag"))


@pytest.mark.timeout(120)
def test_an_upgrade_answer_full_of_controls_is_escaped() -> None:
    with peer("control-reason") as args:
        run = probe(*args, "--format", "markdown")
    check_bounded(run)
    check_clean(run.stdout + run.stderr)
    assert "\\x9b2J" in run.stdout or "\\\\x9b2J" in run.stdout, run.stdout


@pytest.mark.timeout(120)
def test_a_hostile_proxy_reply_is_escaped() -> None:
    with ScriptedProxy() as proxy, peer("healthy") as args:
        run = probe(*args, "--proxy", proxy.url, "--format", "json")
        rich = probe(*args, "--proxy", proxy.url, "--format", "rich")
    check_bounded(run)
    assert failure(report_of(run)) == ("proxy", "auth_required")
    check_clean(run.stdout + run.stderr + rich.stdout + rich.stderr)
    assert "pwned" in rich.stdout


@pytest.mark.timeout(120)
def test_text_no_encoder_takes_is_escaped_on_stdout(tmp_path: Path) -> None:
    """A lone surrogate (a non-UTF-8 byte of argv, PEP 383) in the report lost it all:
    empty stdout, exit 3 "internal error: UnicodeEncodeError"."""
    output = os.fsdecode(os.fsencode(str(tmp_path)) + b"/r\xff.json")
    with peer("surrogate-payload") as args:
        run = probe(*args, "--format", "json", "--output", output)
    check_bounded(run)
    document = report_of(run)
    assert failure(document) == ("first_message", "wrong_stream")
    assert "\ufffd" in document["command"], document["command"]
    assert not re.search("[\ud800-\udfff]", run.stdout)
