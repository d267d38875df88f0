"""Credentials never reach an output: URL user-info is masked where it is written, and every
credential the run was given is scrubbed from whatever is written anyway.

Theory of operation: two layers, because either alone leaks. Structural masking
(`redact_url`, `redact_text`) knows where user-info sits in a URL and masks all of it
(`http://***@proxy:3128`) whatever characters it holds — but only where it recognises a URL.
The scrubber knows the secrets themselves: `collect_secrets` finds every user-info in the
command line and the environment at start (a proxy URL with or without a scheme, `--endpoint`
with credentials, a proxy variable that was never used), `register` adds the forms an output
may give them (JSON-, XML-, Markdown- and shell-escaped, percent-encoded or decoded), and
`scrub` replaces each with `***`. The CLI routes stdout and stderr through `ScrubbingStream`;
files and the GitHub step summary go through `scrub` before they are written. Pieces shorter
than `MIN_SECRET` characters are only masked where they stand in a URL: scrubbing `pw` from
every word of a report would garble it.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterable, Mapping
from typing import TextIO
from urllib.parse import quote, unquote

MASK = "***"
MIN_SECRET = 4

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_URL_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<info>[^\s/?#@]*@)")
"""User-info that a URL parser would also see: no `/`, `?`, `#` or space inside."""

_HOST_THEN_PATH = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[\w.-]+)(:\d+)?/")
"""`stream.binance.com:9443/ws/...`: a host and a path before an `@`, not user-info."""

_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None


def redact_url(url: str) -> str:
    """One URL (a proxy's, an endpoint's) with all of its user-info masked.

    The user-info is everything between the scheme and the *last* `@` of the authority, so a
    password holding `/`, `#`, `?`, `@` or a space is masked whole, not cut where a URL parser
    would stop; without a scheme (`alice:pw@proxy:3128`) the same holds from the start.
    """
    scheme = _SCHEME.match(url)
    start = scheme.end() if scheme else 0
    at = _authority_end(url, start)
    if at < 0:
        return url
    return f"{url[:start]}{MASK}@{url[at + 1:]}"


def _authority_end(url: str, start: int) -> int:
    """The `@` that ends the user-info: the last one that is not in a path, or -1."""
    rest = url[start:]
    for index in (i for i in range(len(rest) - 1, -1, -1) if rest[i] == "@"):
        if not _HOST_THEN_PATH.match(rest[:index]):
            return start + index
        # `wss://host/ws/btcusdt@aggTrade`: an `@` in the path is no user-info
    return -1


def redact_text(text: str) -> str:
    """Free text (an error message, a command line) with URL user-info masked, then every
    registered secret scrubbed."""
    return scrub(_URL_USERINFO.sub(rf"\g<scheme>{MASK}@", text))


def collect_secrets(argv: Iterable[str], environ: Mapping[str, str]) -> None:
    """Register the user-info of every URL-like value the run was given: each argument (and
    `--opt=value`) and each proxy variable of the environment (`*_PROXY`, any case), used or
    not. Other variables are left alone: a bot's `wss://.../btcusdt@aggTrade` is no secret."""
    proxies = [v for k, v in environ.items() if k.upper().endswith("_PROXY")]
    for value in [*argv, *proxies]:
        value = value.partition("=")[2] if value.startswith("-") and "=" in value else value
        if "@" not in value:
            continue
        scheme = _SCHEME.search(value)
        start = scheme.end() if scheme else 0
        rest = value[start:]
        # Every prefix that ends before an `@`: the user-info is one of them, whatever it holds.
        for index in (i for i, c in enumerate(rest) if c == "@"):
            info = rest[:index]
            if not info or _HOST_THEN_PATH.match(info):
                continue
            register(info)
            user, sep, password = info.partition(":")
            if sep:
                register(password)
                register(user)


def register(secret: str) -> None:
    """Scrub `secret` (and its escaped forms) from all output from now on."""
    global _pattern
    forms = {secret, unquote(secret), quote(secret, safe=""), quote(secret, safe=":")}
    for form in list(forms):
        forms |= {json.dumps(form)[1:-1], json.dumps(form, ensure_ascii=False)[1:-1],
                  _xml(form), _markdown(form), form.replace("'", "'\"'\"'")}
    new = {f for f in forms if len(f) >= MIN_SECRET} - _secrets
    if new:
        _secrets.update(new)
        ordered = sorted(_secrets, key=len, reverse=True)  # longest first: no half-masking
        _pattern = re.compile("|".join(re.escape(s) for s in ordered))


def forget_secrets() -> None:
    """For tests: start again from no secret."""
    global _pattern
    _secrets.clear()
    _pattern = None


def scrub(text: str) -> str:
    """`text` with every registered secret replaced by `***`."""
    if _pattern is None:
        return text
    return _pattern.sub(MASK, text)


def _xml(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&apos;"))


def _markdown(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>|#])", r"\\\1", text)


class ScrubbingStream:
    """A text stream that scrubs what is written through it, then passes it through the
    control-character and workflow-command guard (sanitize.py) and makes it encodable (a lone
    surrogate or a raw byte is written escaped, never raw, never an UnicodeEncodeError);
    everything else is the wrapped stream's (isatty, fileno, encoding: rich and click see the
    terminal they expect). No `buffer`: bytes written past the scrubber would leak, so
    writers fall back to text."""

    def __init__(self, stream: TextIO) -> None:
        from .sanitize import SinkGuard

        self._stream = stream
        try:
            terminal = bool(stream.isatty())
        except (AttributeError, ValueError, OSError):
            terminal = False
        self._guard = SinkGuard(terminal)
        encoding = getattr(stream, "encoding", None) or "utf-8"
        try:
            self._encoding = codecs.lookup(encoding).name
        except LookupError:
            self._encoding = "utf-8"

    def write(self, text: str) -> int:
        self._stream.write(self._encodable(self._guard.clean(scrub(text))))
        return len(text)

    def write_trusted_line(self, line: str) -> None:
        """Our own `::error ...` annotation: the one line that may start with `::`."""
        self._stream.write(self._encodable(self._guard.trusted_line(scrub(line))))

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def _encodable(self, text: str) -> str:
        try:
            text.encode(self._encoding)
        except UnicodeEncodeError:
            return text.encode(self._encoding, "backslashreplace").decode(self._encoding)
        return text

    def __getattr__(self, name: str) -> object:
        if name == "buffer":
            raise AttributeError(name)
        return getattr(self._stream, name)
