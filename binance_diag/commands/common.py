"""What several commands share: the `--format` choice and the command line as typed."""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from enum import StrEnum


class OutputFormat(StrEnum):
    """`--format` values; binance_diag/render/base.py maps each to its formatter (tested)."""

    RICH = "rich"
    MARKDOWN = "markdown"
    JSON = "json"
    JUNIT = "junit"
    NAGIOS = "nagios"


def command_line(argv: Sequence[str] | None = None) -> str:
    """The command as typed, for the report ("Report Generated", JSON `command`, actions),
    with any password in a URL masked: `--proxy http://alice:***@host:3128`."""
    import shlex

    words = sys.argv[1:] if argv is None else argv
    return " ".join(["binance-diag", *(shlex.quote(redact_passwords(a)) for a in words)])


_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^:/@\s]*):[^@/\s]*@")


def redact_passwords(text: str) -> str:
    """`socks5://bob:pw@127.0.0.1:1080` -> `socks5://bob:***@127.0.0.1:1080`, anywhere in text."""
    return _USERINFO.sub(r"\g<scheme>\g<user>:***@", text)
