"""Incident reports and the watch summary, as Markdown and JSON, into `--reports`.

An incident is the probe report's shape (the fresh connection's or the failed probe's own
report, rendered as `probe --format json|markdown` would) plus the watch's part: what
happened, the conclusion, the evidence, the recovery, the held stream's figures at that
moment and the watch timeline around the event. Files are written atomically, and an
incident is written again when its recovery becomes known.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from ..model import JSON
from ..run.outfile import write_atomically
from .events import WatchEvent

INCIDENT_SCHEMA = "binance-diag/watch-incident/1"
SUMMARY_SCHEMA = "binance-diag/watch/1"
SEVERITY_MARK = {"critical": "🔴", "warning": "🟠", "info": "🔵"}


def incident_dict(event: WatchEvent, timeline: Sequence[tuple[datetime, str]],
                  streams: dict[str, JSON], target: str) -> dict[str, Any]:
    from ..render.json import report_to_dict

    return {"schema": INCIDENT_SCHEMA, "target": target, "incident": event.to_dict(),
            "held_stream": streams,
            "watch_timeline": [{"at": at.isoformat(timespec="milliseconds"), "event": text}
                               for at, text in timeline],
            "probe": report_to_dict(event.report) if event.report is not None else None}


def incident_markdown(event: WatchEvent, timeline: Sequence[tuple[datetime, str]],
                      streams: dict[str, JSON], target: str) -> str:
    from ..render.markdown import render_markdown

    mark = SEVERITY_MARK.get(event.severity.value, "")
    expected = ", expected: Binance does this on purpose" if event.expected else ""
    recovery = ("not yet" if event.recovery_s is None
                else f"{event.recovery_s:.3f} s after the event")
    lines = [
        f"# Watch incident {event.number}: {event.kind.value.replace('_', ' ')}",
        "",
        f"**When:** {event.at.isoformat(timespec='milliseconds')}\\",
        f"**Target:** `{target}`\\",
        f"**Conclusion:** {mark} **{event.title}** (`{event.conclusion.value}`, "
        f"{event.severity.value}{expected})\\",
        f"**Recovered:** {recovery}",
        "",
        "## Evidence",
        "",
        *[f"- {line}" for line in event.evidence],
        "",
        "## Held stream at the time",
        "",
        *summary_table(streams),
        "",
        "## Watch timeline around the event",
        "",
        "```",
        *[f"{at.strftime('%H:%M:%S.%f')[:-3]}  {text}" for at, text in timeline],
        "```",
        "",
    ]
    if event.report is not None:
        lines += ["## The probe behind this conclusion", "",
                  _demoted(render_markdown(event.report))]
    return "\n".join(lines) + "\n"


def _demoted(markdown: str) -> str:
    """The probe report's headings one level down, under this document's own."""
    return "\n".join("#" + line if line.startswith("#") else line
                     for line in markdown.splitlines())


def summary_table(streams: dict[str, JSON]) -> list[str]:
    rows = ["| stream | messages | rate/s | gap median ms | gap p99 ms | largest gap ms |",
            "|---|---|---|---|---|---|"]
    per_stream = streams.get("streams")
    if isinstance(per_stream, dict):
        for name, figures in per_stream.items():
            if isinstance(figures, dict):
                rows.append(f"| `{name}` | {figures.get('messages')} | "
                            f"{figures.get('rate_per_s')} | {_v(figures.get('gap_median_ms'))} | "
                            f"{_v(figures.get('gap_p99_ms'))} | "
                            f"{_v(figures.get('gap_largest_ms'))} |")
    rows += ["", f"Pings seen {streams.get('pings')} (median interval "
             f"{_v(streams.get('ping_interval_median_s'))} s), pongs sent "
             f"{streams.get('pongs')} (lateness p99 {_v(streams.get('pong_lateness_p99_ms'))} ms, "
             f"max {_v(streams.get('pong_lateness_max_ms'))} ms); connections "
             f"{streams.get('connections')}, closes {streams.get('closes')}."]
    return rows


def _v(value: JSON) -> str:
    return "-" if value is None else str(value)


class IncidentWriter:
    """Writes each incident (both formats) into the reports directory, made if missing."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def write(self, event: WatchEvent, timeline: Sequence[tuple[datetime, str]],
              streams: dict[str, JSON], target: str) -> Path:
        base = self.directory / event.slug
        write_atomically(base.with_suffix(".json"), json.dumps(
            incident_dict(event, timeline, streams, target), indent=2, ensure_ascii=False)
            + "\n")
        markdown = base.with_suffix(".md")
        write_atomically(markdown, incident_markdown(event, timeline, streams, target))
        return markdown

    def write_summary(self, summary: dict[str, Any], markdown: str) -> Path:
        write_atomically(self.directory / "summary.json",
                         json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
        path = self.directory / "summary.md"
        write_atomically(path, markdown)
        return path
