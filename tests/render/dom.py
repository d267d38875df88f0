"""A small element tree from HTML (the stdlib parser), for the HTML format's tests: our own
output and the DOM a browser dumps."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {"meta", "br", "img", "input", "link", "hr"}
"""HTML elements that never have a closing tag (SVG ones close, or end in `/>`)."""


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    children: list[Element] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """All the text inside, as a person reads it (whitespace collapsed)."""
        pieces: list[str] = []

        def walk(element: Element) -> None:
            pieces.extend(element.parts)
            for child in element.children:
                walk(child)

        walk(self)
        return " ".join(" ".join(pieces).split())

    def find_all(self, tag: str, where: Callable[[dict[str, str]], bool] = lambda a: True
                 ) -> list[Element]:
        found = []
        for child in self.children:
            if child.tag == tag and where(child.attrs):
                found.append(child)
            found += child.find_all(tag, where)
        return found


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Element(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].parts.append(data)


def parse_dom(document: str) -> Element:
    builder = _Builder()
    builder.feed(document)
    builder.close()
    return builder.root
