"""Peer text and the output sinks (binance_diag/safety/sanitize.py, redact.ScrubbingStream)."""

from __future__ import annotations

import io
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from binance_diag.safety.redact import ScrubbingStream
from binance_diag.safety.sanitize import SinkGuard, peer_text, sink_text, write_workflow_command

HOSTILE = "\x1b]0;pwned\x07\x1b[2J\x9b31m\u202e\u2028\ud800\n::error::x\r::warning::y"
_RAW = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def _runs_as_workflow_command(text: str) -> bool:
    return any(line.lstrip().startswith("::") or "##[" in line
               for line in re.split(r"[\r\n]", text))


@pytest.mark.timeout(10)
def test_peer_text_is_one_printable_line_with_its_evidence() -> None:
    text = peer_text(HOSTILE)
    assert text.isprintable()
    assert text == ("\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m\\u202e\\u2028\\ud800\\n::error::x"
                    "\\r::warning::y")
    assert peer_text(b"caf\xc3\xa9 \xff") == "café \\xff"
    assert peer_text("a" * 300) == "a" * 200 + "…"
    assert peer_text(None) == ""


@pytest.mark.timeout(10)
def test_the_sink_defuses_workflow_commands_even_across_writes() -> None:
    guard = SinkGuard()
    written = "".join(guard.clean(piece) for piece in
                      ["ok\n", "::error::a\n", "  :", ":warning::b", "\n", ":", ":c\n",
                       "x ::no harm\n", "row ##[set-output name=x]y\n"])
    assert not _runs_as_workflow_command(written), written
    assert "x ::no harm" in written  # mid-line `::` is no command


@pytest.mark.timeout(10)
def test_only_our_annotation_starts_with_two_colons() -> None:
    out = io.StringIO()
    stream = ScrubbingStream(out)  # type: ignore[arg-type]
    stream.write("report ending mid-line")
    write_workflow_command(stream, "::error title=binance-diag::it failed")  # type: ignore[arg-type]
    stream.write("::error::forged\n")
    lines = out.getvalue().splitlines()
    assert lines == ["report ending mid-line", "::error title=binance-diag::it failed",
                     "\\::error::forged"]


@pytest.mark.timeout(10)
def test_a_terminal_keeps_colours_but_never_osc_or_queries() -> None:
    terminal = SinkGuard(terminal=True)
    assert terminal.clean("\x1b[1;31mred\x1b[0m\x1b[2K\x1b[1A") == \
        "\x1b[1;31mred\x1b[0m\x1b[2K\x1b[1A"
    assert terminal.clean("\x1b]52;c;cHdu\x07\x1b[21t\x1bP1$r\x1b\\") == \
        "\\u001b]52;c;cHdu\\u0007\\u001b[21t\\u001bP1$r\\u001b\\"
    assert SinkGuard().clean("\x1b[31mred") == "\\u001b[31mred"  # not a terminal: no colour


@pytest.mark.timeout(10)
def test_stdout_that_cannot_encode_gets_escapes_not_an_error() -> None:
    """A lone surrogate lost the whole report: exit 3, "internal error: UnicodeEncodeError"."""
    raw = io.BytesIO()
    text = io.TextIOWrapper(raw, encoding="ascii", errors="strict")
    stream = ScrubbingStream(text)
    stream.write("lone \udcff, ✅ and é\n")
    text.flush()
    assert raw.getvalue() == b"lone \\ufffd, \\u2705 and \\xe9\n"


@pytest.mark.timeout(60)
@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(list(":#[ \t\r\nab\x1b\x07\x9b]\ud800")),
                        max_size=30) | st.text(max_size=30), max_size=8))
def test_whatever_is_written_no_raw_control_and_no_command(pieces: list[str]) -> None:
    guard = SinkGuard()
    written = "".join(guard.clean(piece) for piece in pieces)
    assert not _RAW.search(written)
    assert not _runs_as_workflow_command(written), written
    assert not _RAW.search(sink_text("".join(pieces)).replace("\ud800", ""))


@pytest.mark.timeout(60)
@settings(max_examples=300, deadline=None)
@given(st.text() | st.binary())
def test_peer_text_is_always_printable(value: str | bytes) -> None:
    assert peer_text(value, limit=None).isprintable()


@pytest.mark.timeout(10)
def test_what_the_sink_escapes_stays_valid_json() -> None:
    import json

    document = json.dumps({"body": "\x1b]0;t\x07 \x9b ##[x] \ud800"}, ensure_ascii=False)
    assert json.loads(SinkGuard().clean(document))["body"] == "\x1b]0;t\x07 \x9b ##[x] \ufffd"
