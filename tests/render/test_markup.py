"""render/markup.py: the inline markup of report sentences, split into spans and spelled
for Markdown and for plain outputs. Fed sentences; no I/O."""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt

from binance_diag.render.markup import escape_markdown, plain, spans, to_markdown


def test_markup_spans_and_escaping() -> None:
    assert spans("a `b*c` **d** *e* f_g") == [
        ("text", "a "), ("code", "b*c"), ("text", " "), ("bold", "d"), ("text", " "),
        ("em", "e"), ("text", " f_g")]
    assert plain("**x** `y` *z*") == "x y z"
    assert to_markdown("5 * 3 <b> _x_ a|b") == r"5 \* 3 \<b\> \_x\_ a\|b"
    assert to_markdown("`a|b`", in_table=True) == r"`a\|b`"


def test_outside_text_with_markers_stays_text_inside_bold() -> None:
    from binance_diag.diagnose.describe import literal

    message = "proxy http://***@127.0.0.1:1: `refused` \\ *really*"
    sentence = f"Proxy: **{literal(message)}** (after 1 ms)"
    assert spans(sentence) == [("text", "Proxy: "), ("bold", message),
                               ("text", " (after 1 ms)")]
    assert plain(sentence) == f"Proxy: {message} (after 1 ms)"
    rendered = MarkdownIt().parseInline(to_markdown(sentence))[0].children
    assert rendered is not None
    strong = [t for t in rendered if t.type == "text" and t.content == message]
    assert strong, "the whole message is one strong text, the markers printed as characters"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("plain prose", [("text", "plain prose")]),
        (r"a \* b", [("text", "a "), ("text", "*"), ("text", " b")]),
        (r"\`x\`", [("text", "`"), ("text", "x"), ("text", "`")]),
        ("``", [("code", "")]),
        ("2 * 3 * 4", [("text", "2 * 3 * 4")]),  # spaced stars are not emphasis
        ("a*b*c", [("text", "a*b*c")]),  # nor stars inside a word
        ("*ServerHello expected by now*", [("em", "ServerHello expected by now")]),
        (r"**a \*\* b**", [("bold", "a ** b")]),
        ("`unclosed", [("text", "`unclosed")]),
    ],
)
def test_spans_of_edge_cases(text: str, expected: list[tuple[str, str]]) -> None:
    assert spans(text) == expected


def test_plain_keeps_every_character_but_the_markers() -> None:
    assert plain(r"**HTTP 403** from `cloudfront`: *no 101*, 5 \* 3") == \
        "HTTP 403 from cloudfront: no 101, 5 * 3"


@pytest.mark.parametrize(
    ("prose", "escaped"),
    [
        ("[link](http://x)", r"\[link\](http://x)"),
        ("<script>", r"\<script\>"),
        ("# heading", r"\# heading"),
        ("a|b", r"a\|b"),
        ("!~", r"\!\~"),
        ("snake_case_name", "snake_case_name"),  # an underscore inside a word is safe
        ("_x_", r"\_x\_"),
        ("back\\slash", r"back\\slash"),
    ],
)
def test_escape_markdown_disarms_prose(prose: str, escaped: str) -> None:
    assert escape_markdown(prose) == escaped


def test_markdown_of_each_span_kind_parses_back_to_the_same_text() -> None:
    sentence = "TLS: **reset by <peer>** at `1.2.3.4:443` — *ServerHello expected by now*"
    markdown = to_markdown(sentence)
    assert markdown == (r"TLS: **reset by \<peer\>** at `1.2.3.4:443` — "
                        "*ServerHello expected by now*")
    children = MarkdownIt("commonmark").parseInline(markdown)[0].children
    assert children is not None
    kinds = [t.type for t in children]
    assert "strong_open" in kinds and "em_open" in kinds and "code_inline" in kinds
    assert "html_inline" not in kinds


def test_a_pipe_in_code_is_escaped_only_in_a_table() -> None:
    assert to_markdown("`a|b`") == "`a|b`"
    assert to_markdown("`a|b`", in_table=True) == r"`a\|b`"
    assert to_markdown("a|b") == to_markdown("a|b", in_table=True) == r"a\|b"
