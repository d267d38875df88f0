"""The Markdown report parses, has the sections of DESIGN.md §1, and escapes what it quotes."""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from binance_diag.model import ErrorKind, StageName
from binance_diag.render.markdown import MarkdownFormatter, render_markdown
from binance_diag.render.view import report_view
from tests.render.cases import CASES, mixed_matrix
from tests.reports import make_report

SECTIONS = ["Current Status", "Timeline", "Problem Analysis", "Root Cause Hypothesis",
            "Recommended Solutions", "Immediate Actions", "Environment"]
PARSER = MarkdownIt("commonmark").enable("table")


def headings(tokens: list[Token], level: str) -> list[str]:
    return [tokens[i + 1].content for i, t in enumerate(tokens)
            if t.type == "heading_open" and t.tag == level]


@pytest.mark.parametrize("case", list(CASES))
def test_markdown_parses_with_every_section(case: str) -> None:
    report = CASES[case]()
    tokens = PARSER.parse(render_markdown(report))
    assert headings(tokens, "h1") == [f"Binance Stream Connectivity Report — "
                                      f"{', '.join(report.target.symbols)} aggTrade"]
    assert [h for h in headings(tokens, "h2") if h in SECTIONS] == SECTIONS
    assert "What's Working" in " ".join(headings(tokens, "h3"))
    rows = sum(1 for t in tokens if t.type == "tr_open")
    # The stage table and the timeline, each with its header row.
    assert rows == len(report.stages) + 1 + len(report_view(report).timeline) + 1
    assert not [t for t in tokens if t.type in ("html_inline", "html_block")]


def test_markdown_states_root_cause_with_id_and_blame() -> None:
    text = render_markdown(CASES["tls_hang"]())
    assert "**Status:** ❌ **FAILED at TLS handshake — timed out after 10.00 s**" in text
    assert "(finding `tls.handshake_timeout`, critical, blame: network)" in text
    assert "| *ServerHello expected by now* — TLS timeout fired |" in text
    assert "1. Try port 443: `binance-diag probe BTCUSDT --tls-timeout 10 --endpoint spot-443`" \
        in text  # the run's options kept
    assert text.rstrip().endswith("`binance-diag probe BTCUSDT --tls-timeout 10`")


def test_hostile_server_text_cannot_break_the_markdown() -> None:
    body = "<script>alert(1)</script> | **bold** [link](http://x) `tick`\n# heading"
    report = make_report(fail=StageName.WS_UPGRADE, kind=ErrorKind.HTTP_STATUS,
                         message=f"HTTP 403 Forbidden <b>{body}</b>",
                         extra={"status": 403, "reason": "Forbidden", "body_excerpt": body})
    text = render_markdown(report)
    tokens = PARSER.parse(text)
    assert not [t for t in tokens if t.type in ("html_inline", "html_block", "link_open")]
    assert headings(tokens, "h1")[0].startswith("Binance Stream")
    assert len(headings(tokens, "h1")) == 1


def test_matrix_is_a_table_with_the_verdict_and_root_causes() -> None:
    markdown = MarkdownFormatter().format_matrix(mixed_matrix())
    tokens = PARSER.parse(markdown)
    assert any(t.type == "table_open" for t in tokens)
    assert "| `spot` | 23.4 | timeout | - | - | - | FAILS |" in markdown
    assert "(`tcp.port_blocked`)" in markdown


def test_stage_table_and_gantt() -> None:
    text = render_markdown(CASES["tls_hang"]())
    assert "| stage | result | time | budget |" in text
    assert "| TLS | ❌ timeout | 10.00 s | 10 s |" in text
    assert "| WebSocket upgrade | ➖ not reached | – | 5 s |" in text
    gantt = text.split("```mermaid\n", 1)[1].split("```", 1)[0]
    lines = gantt.splitlines()
    assert lines[:3] == ["gantt", "    title Stages (time from the first stage's start)",
                         "    dateFormat x"]
    tasks = [line.strip() for line in lines if line.strip().count(",") == 3]
    assert tasks == ["ok 23.4 ms :done, dns, 0, 23", "ok 41.2 ms :done, tcp, 24, 65",
                     "timeout 10.00 s :crit, tls, 65, 10068"]  # only the stages that ran


def test_gantt_task_names_cannot_break_mermaid() -> None:
    report = make_report(fail=StageName.FIRST_MESSAGE, kind=ErrorKind.CLOSED,
                         extra={"code": "1008: x; y # z"})
    gantt = render_markdown(report).split("```mermaid\n", 1)[1].split("```", 1)[0]
    task = next(line for line in gantt.splitlines() if "first_message" in line)
    name, _, meta = task.partition(":")
    assert not set(name) & set(":;#,")
    assert meta == "crit, first_message, 200, 201"  # 0.4 ms: at least 1 ms wide
