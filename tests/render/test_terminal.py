"""The rich view: plain text off a terminal or with NO_COLOR, colours on a terminal."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from binance_diag.diagnose.matrix import build_matrix
from binance_diag.model import ErrorKind, StageName
from binance_diag.render.terminal import TerminalFormatter, print_report
from tests.render.cases import CASES, failing, mixed_matrix
from tests.reports import make_report

SECTIONS = ("Current Status", "Timeline (UTC)", "Problem Analysis", "Root Cause Hypothesis",
            "Recommended Solutions", "Immediate Actions", "Environment", "Report Generated:")


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("case", list(CASES))
def test_plain_text_has_every_section_and_no_escape_codes(case: str) -> None:
    text = TerminalFormatter().format(CASES[case]())
    assert "\x1b" not in text
    positions = [text.index(s) for s in SECTIONS]
    assert positions == sorted(positions)
    assert all(line == line.rstrip() for line in text.splitlines())


def test_show_on_a_pipe_is_the_plain_text() -> None:
    stream = io.StringIO()
    TerminalFormatter().show(CASES["tls_hang"](), stream)
    assert stream.getvalue() == TerminalFormatter().format(CASES["tls_hang"]())


def test_terminal_gets_colours(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    stream = FakeTTY()
    TerminalFormatter().show(CASES["tls_hang"](), stream)
    assert "\x1b[" in stream.getvalue()
    assert "tls.handshake_timeout" in stream.getvalue()


def test_no_color_means_no_colours(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TERM", "xterm-256color")
    stream = FakeTTY()
    TerminalFormatter().show(CASES["tls_hang"](), stream)
    assert not [code for code in ("\x1b[31m", "\x1b[32m", "\x1b[36m", "\x1b[38")
                if code in stream.getvalue()]


def test_server_text_is_not_read_as_rich_markup() -> None:
    report = make_report(fail=StageName.WS_UPGRADE, kind=ErrorKind.HTTP_STATUS,
                         message="HTTP 403 [bold red]Forbidden[/]",
                         extra={"status": 403, "reason": "[bold red]Forbidden[/]"})
    console = Console(file=io.StringIO(), width=100, color_system=None)
    print_report(report, console)
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert "HTTP 403 [bold red]Forbidden[/]" in out


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_no_color_on_a_terminal_means_no_escape_codes_at_all(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("NO_COLOR", raising=False)
    styled = FakeTerminal()
    TerminalFormatter().show(CASES["tls_hang"](), styled)
    assert "\x1b[" in styled.getvalue(), "a terminal gets the styled view"
    monkeypatch.setenv("NO_COLOR", "1")
    plain = FakeTerminal()
    TerminalFormatter().show(CASES["tls_hang"](), plain)
    assert "\x1b" not in plain.getvalue()
    assert "Root Cause Hypothesis" in plain.getvalue()


def test_plain_matrix_shows_the_grid_the_verdict_and_root_causes() -> None:
    matrix = mixed_matrix()
    text = TerminalFormatter().format_matrix(matrix)
    assert "endpoint  dns   tcp      tls   ws_upgrade  first_message  result" in text
    assert f"Verdict: {matrix.verdict.text}" in text
    assert "[tcp.port_blocked]" in text


def test_matrix_on_a_terminal_is_a_table_and_takes_brackets_literally(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    matrix = build_matrix([failing("wss://[::1]:9443"), make_report(endpoint="spot-443")])
    screen = FakeTTY()
    TerminalFormatter().show_matrix(matrix, screen)
    text = screen.getvalue()
    assert "┃" in text and "\x1b[" in text
    assert "wss://[::1]:9443" in text
    assert "port 9443 is filtered here; wss://stream.binance.com:443 works" in text
    pipe = io.StringIO()
    TerminalFormatter().show_matrix(matrix, pipe)
    assert pipe.getvalue() == TerminalFormatter().format_matrix(matrix)


def _waterfall_lines(text: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Stages ─"))
    end = next(i for i, line in enumerate(lines) if line.startswith("Current Status ─"))
    return [line for line in lines[start + 1:end] if line]


def test_waterfall_a_row_per_stage_on_one_axis() -> None:
    rows = _waterfall_lines(TerminalFormatter().format(CASES["tls_hang"]()))
    labels = ["DNS", "TCP", "TLS", "WebSocket upgrade", "First message"]
    assert [row[:18].strip() for row in rows[:5]] == labels
    dns, tcp, tls, upgrade, first = rows[:5]
    assert "▏" in dns and "23.4 ms of 5 s" in dns and dns.rstrip().endswith("ok")
    assert tls.count("█") > 40 and "10.00 s of 10 s" in tls and tls.endswith("timeout")
    assert "█" not in upgrade and upgrade.endswith("not reached")
    # Each 5 s DNS/TCP deadline falls mid-axis (10.07 s long); TLS's at its bar's end.
    assert dns.index("┆") == tcp.index("┆") < tls.index("┆")
    assert rows[5].strip().startswith("0") and rows[5].rstrip().endswith("10.07 s")


def test_waterfall_deadlines_beyond_the_axis_are_arrows() -> None:
    rows = _waterfall_lines(TerminalFormatter().format(CASES["healthy"]()))
    assert all("›" in row and "┆" not in row for row in rows[:5])
    starts = [row.index("█") for row in rows[:5]]
    assert starts == sorted(starts) and len(set(starts)) == 5  # one after another


def test_waterfall_failing_stage_is_red_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    console = Console(file=io.StringIO(), force_terminal=True, color_system="truecolor",
                      width=120)
    print_report(CASES["tls_hang"](), console)
    output = console.file.getvalue()  # type: ignore[attr-defined]
    tls = next(line for line in output.splitlines() if "10.00 s of 10 s" in line)
    assert "\x1b[1;31m█" in tls  # bold red bar
    dns = next(line for line in output.splitlines() if "23.4 ms of 5 s" in line)
    assert "\x1b[32m▏" in dns  # green
