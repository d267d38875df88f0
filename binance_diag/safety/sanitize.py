"""Peer text made safe to show: nothing a peer sends can steer a terminal, forge a line of
CI output, or stop the report from being written.

Theory of operation: two layers, as in redact.py, because either alone fails. `peer_text` is
applied where text from the network enters the report (reason phrases, close reasons, header
values, body excerpts, proxy replies, payload excerpts, and every timeline event): each
character that is not printable - C0 and C1 controls (ESC, BEL, CR, LF...), DEL, lone
surrogates, format and separator characters (bidi overrides, U+2028) - is written as its
Python escape (`\\x1b`, `\\n`, `\\udcff`), so the text stays on one line and keeps its evidence.
`SinkGuard` is the last line of defence at the outputs (stdout, stderr, files, the step
summary), for whatever reached them another way: it escapes controls and lone surrogates
(keeping only the colour and cursor sequences rich writes, and only on a terminal) and
defuses a line that would start a GitHub Actions workflow command (`::cmd::`, and the
legacy `##[cmd]`). Our own annotation is the one line written past that check
(`write_workflow_command`).
"""

from __future__ import annotations

import re
from typing import TextIO

PEER_TEXT_LIMIT = 200
"""Characters of one piece of peer text kept by default (escapes make it up to 10x longer)."""

_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def peer_text(value: str | bytes | None, limit: int | None = PEER_TEXT_LIMIT) -> str:
    """Text a peer sent, bounded and printable: non-printable characters escaped, invalid
    UTF-8 shown as `\\xNN`, cut at `limit` characters (None: no cut) with `…`."""
    if value is None:
        return ""
    if isinstance(value, bytes | bytearray):
        cut = value if limit is None else value[: limit * 4]
        value = bytes(cut).decode("utf-8", "backslashreplace")
    cut_off = limit is not None and len(value) > limit
    text = value[:limit] if limit is not None else value
    if not text.isprintable():
        text = "".join(c if c.isprintable() else _escape(c) for c in text)
    return text + ("…" if cut_off else "")


def _escape(char: str) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    point = ord(char)
    if point < 0x100:
        return f"\\x{point:02x}"
    return f"\\u{point:04x}" if point < 0x10000 else f"\\U{point:08x}"


_SAFE_CSI = r"\x1b\[[0-9;]*[mABCDGHJK]|\x1b\[\?25[hl]"
"""What rich writes on a terminal: colours (SGR) and the live display's cursor moves.
Never OSC (titles, hyperlinks, the clipboard), DCS, or a query that makes the terminal type."""
_CONTROLS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029"
_SINK_BAD = re.compile(rf"(?P<csi>{_SAFE_CSI})|[{_CONTROLS}\ud800-\udfff]")
_SINK_BAD_NOT_SURROGATES = re.compile(rf"(?P<csi>{_SAFE_CSI})|[{_CONTROLS}]")
_COMMAND_AT_START = re.compile(r"(\A|[\r\n])([ \t]*)(?=::)")
_COMMAND_AFTER_BREAK = re.compile(r"([\r\n])([ \t]*)(?=::)")
_LEGACY_COMMAND = re.compile(r"##\[")
LEGACY_DEFUSED = "#\\u0023["
"""`##[` as written: the runner no longer sees it; JSON reads it back as `##[`."""
_HEAD_OPEN = re.compile(r"[ \t]*:?\Z")
"""A line so far that a next write could still turn into a workflow command."""
DEFUSE = "\\"
"""Written before a line's `::` (and inside `##[`): GitHub's runner only runs a line that
starts with `::` (or holds `##[`, its legacy form)."""


class SinkGuard:
    """The output side: feed it everything written to one stream, in order.

    It remembers how the current line began across writes, so a `::` split over two writes
    (rich and print write in pieces) is still seen at the start of its line.
    """

    def __init__(self, terminal: bool = False, *, surrogates: bool = True) -> None:
        """`surrogates` False leaves lone surrogates to the writer (files: outfile.utf8
        makes them U+FFFD); True makes them U+FFFD here."""
        self.terminal = terminal
        self._bad = _SINK_BAD if surrogates else _SINK_BAD_NOT_SURROGATES
        self._head: str | None = ""
        """The current line so far while it may still become a command; None once not."""

    def clean(self, text: str) -> str:
        if not text:
            return text
        text = self._bad.sub(self._replace, text)
        head = self._head
        if head is not None and head.strip(" \t") and text.startswith(":"):
            text = DEFUSE + text  # `:` ended the last write at a line's start: not `::` now
        at_line_start = head is not None and not head.strip(" \t")
        pattern = _COMMAND_AT_START if at_line_start else _COMMAND_AFTER_BREAK
        text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}{DEFUSE}", text)
        text = _LEGACY_COMMAND.sub(LEGACY_DEFUSED.replace("\\", "\\\\"), text)
        self._follow(text)
        return text

    def trusted_line(self, line: str) -> str:
        """Our own workflow command: controls escaped, a line of its own, not defused."""
        line = _SINK_BAD.sub(self._replace, line.rstrip("\n"))
        prefix = "" if self._head == "" else "\n"
        self._head = ""
        return f"{prefix}{line}\n"

    def _follow(self, text: str) -> None:
        last = max(text.rfind("\n"), text.rfind("\r"))
        if last >= 0:
            current = text[last + 1:]
        elif self._head is None:
            return
        else:
            current = self._head + text
        self._head = current if _HEAD_OPEN.match(current) else None

    def _replace(self, match: re.Match[str]) -> str:
        """`\\u001b` for a control: visible as text, and a valid escape inside a JSON string
        (the sink does not know the format); U+FFFD for a lone surrogate, as in files."""
        char = match.group(0)
        if match.group("csi") is not None:
            return char if self.terminal else char.replace("\x1b", "\\u001b")
        if "\ud800" <= char <= "\udfff":
            return "\ufffd"
        return f"\\u{ord(char):04x}"


def sink_text(text: str) -> str:
    """A whole document for a file or the step summary: `SinkGuard` from a line's start
    (lone surrogates are left to outfile.utf8, which writes U+FFFD for them)."""
    return SinkGuard(surrogates=False).clean(text)


def write_workflow_command(stream: TextIO, line: str) -> None:
    """Print our own `::error ...` line: the one `::` line a guarded stream lets through."""
    trusted = getattr(stream, "write_trusted_line", None)
    if callable(trusted):
        trusted(line)
    else:
        stream.write(line + "\n")
    stream.flush()
