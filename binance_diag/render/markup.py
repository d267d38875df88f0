"""The small inline markup every report sentence uses, and how each format spells it.

Pure. Sentences (findings, analysis, status lines) mark a literal value with backticks
(`code`), a strong phrase with `**bold**` and an expected-but-missing event with `*emphasis*`;
a backslash keeps a marker a plain character (`describe.literal()`). The rest is prose, which
may hold anything the network sent back. Markdown escapes that prose; the terminal styles the
spans; plain outputs drop the markers.
"""

from __future__ import annotations

import re
from typing import Literal

SpanKind = Literal["text", "code", "bold", "em"]

_INLINE = re.compile(
    r"\\([\\`*])"  # an escaped marker: a plain character
    r"|`([^`]*)`"  # code
    r"|\*\*((?:\\.|[^\\])+?)\*\*"  # bold, escaped markers allowed inside
    r"|(?<![\w*\\])\*([^*\s](?:[^*]*[^*\s])?)\*(?![\w*])")  # emphasis
_ESCAPED = re.compile(r"\\([\\`*])")
_MD_SPECIAL = re.compile(r"([\\`*\[\]<>|#!~])")
_LONE_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


def spans(text: str) -> list[tuple[SpanKind, str]]:
    """Split a sentence into (kind, text) spans."""
    result: list[tuple[SpanKind, str]] = []
    position = 0
    for match in _INLINE.finditer(text):
        if match.start() > position:
            result.append(("text", text[position:match.start()]))
        if match.group(1) is not None:
            result.append(("text", match.group(1)))
        elif match.group(2) is not None:
            result.append(("code", match.group(2)))
        elif match.group(3) is not None:
            result.append(("bold", _ESCAPED.sub(r"\1", match.group(3))))
        else:
            result.append(("em", match.group(4)))
        position = match.end()
    if position < len(text):
        result.append(("text", text[position:]))
    return result


def plain(text: str) -> str:
    """The sentence without markers: for Nagios lines, XML attributes, annotations."""
    return "".join(part for _, part in spans(text))


def escape_markdown(text: str) -> str:
    """Prose as Markdown text: no accidental emphasis, links, HTML or table cells."""
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return _LONE_UNDERSCORE.sub(r"\\_", text)


def to_markdown(text: str, *, in_table: bool = False) -> str:
    out = []
    for kind, part in spans(text):
        if kind == "code":
            out.append(f"`{part.replace('|', chr(92) + '|') if in_table else part}`")
        elif kind == "bold":
            out.append(f"**{escape_markdown(part)}**")
        elif kind == "em":
            out.append(f"*{escape_markdown(part)}*")
        else:
            out.append(escape_markdown(part))
    return "".join(out)
