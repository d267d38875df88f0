"""What several commands share: the command line as typed."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def command_line(argv: Sequence[str] | None = None) -> str:
    """The command as typed, for the report ("Report Generated", JSON `command`, actions),
    with the user-info of every URL masked: `--proxy http://***@host:3128`."""
    import shlex

    from ..safety.redact import redact_text

    words = sys.argv[1:] if argv is None else argv
    return " ".join(["binance-diag", *(shlex.quote(redact_text(a)) for a in words)])
