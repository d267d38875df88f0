"""Running `binance-diag watch` for the CLI: the loop, the view, the summary, the exit code."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import TextIO

from ..exitcodes import ExitCode
from .config import WatchConfig
from .session import WatchSession
from .view import make_view


def run_watch_command(config: WatchConfig, json_summary: bool = False,
                      stdout: TextIO | None = None, stderr: TextIO | None = None) -> ExitCode:
    """Watch until the duration or Ctrl-C / SIGTERM; the summary on stdout and in --reports."""
    stdout = stdout or sys.stdout
    holder: list[WatchSession] = []

    def status() -> list[str]:
        return holder[0].status_lines() if holder else []

    view = make_view(status, stderr or sys.stderr)

    async def main() -> WatchSession:
        session = WatchSession(config, view)
        holder.append(session)
        await session.run()
        return session

    view.start()
    try:
        session = asyncio.run(main())
    finally:
        view.stop()
    summary = session.summary()
    markdown = session.summary_markdown()
    if session.writer is not None:
        path = session.writer.write_summary(summary, markdown)
        print(f"binance-diag: watch summary written to {path}", file=stderr or sys.stderr)
    stdout.write(json.dumps(summary, indent=2, ensure_ascii=False) + "\n" if json_summary
                 else markdown)
    stdout.flush()
    return session.exit_code
