"""watch/incidents.py: incident reports and the summary, written into --reports."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from binance_diag.model import StageName
from binance_diag.timing import utc_now
from binance_diag.watch.events import Conclusion, EventKind, WatchEvent
from binance_diag.watch.incidents import (
    INCIDENT_SCHEMA,
    IncidentWriter,
    incident_dict,
    incident_markdown,
    summary_table,
)
from binance_diag.watch.stream import HeldStreamStats
from tests.reports import make_report

TARGET = "wss://stream.binance.com:9443/stream?streams=btcusdt@aggTrade"


def streams() -> dict:  # type: ignore[type-arg]
    stats = HeldStreamStats(0.0)
    stats.connected()
    for n in range(5):
        stats.message("btcusdt@aggTrade", n * 0.1, 2.0)
    return stats.to_dict(1.0)


def event(report: bool = True) -> WatchEvent:
    return WatchEvent(3, EventKind.STALL, Conclusion.CONNECTION_STUCK, "this connection is "
                      "stuck", evidence=["no message for 31 s"],
                      report=make_report(fail=StageName.TCP) if report else None)


def test_the_incident_as_json_embeds_the_probe_report() -> None:
    now = utc_now()
    data = incident_dict(event(), [(now - timedelta(seconds=1), "stall: ...")], streams(),
                         TARGET)
    assert data["schema"] == INCIDENT_SCHEMA and data["target"] == TARGET
    assert data["incident"]["conclusion"] == "connection_stuck"
    assert data["watch_timeline"][0]["event"] == "stall: ..."
    assert data["probe"]["stages"]
    assert incident_dict(event(report=False), [], streams(), TARGET)["probe"] is None


def test_the_markdown_puts_the_probe_under_its_own_headings() -> None:
    text = incident_markdown(event(), [(utc_now(), "stall: ...")], streams(), TARGET)
    assert text.startswith("# Watch incident 3: stall\n")
    assert "**Conclusion:** 🔴 **this connection is stuck** (`connection_stuck`, critical)" \
        in text
    assert "**Recovered:** not yet" in text and "- no message for 31 s" in text
    probe_part = text.split("## The probe behind this conclusion", 1)[1]
    assert not any(line.startswith("# ") for line in probe_part.splitlines())
    assert "| `btcusdt@aggTrade` | 5 | 5.0 |" in text


def test_an_expected_event_says_so() -> None:
    daily = WatchEvent(1, EventKind.CLOSE, Conclusion.DAILY_DISCONNECT, "daily")
    daily.recovery_s = 0.25
    text = incident_markdown(daily, [], streams(), TARGET)
    assert "expected: Binance does this on purpose" in text
    assert "0.250 s after the event" in text and "## The probe behind" not in text


def test_summary_table_tolerates_missing_figures() -> None:
    rows = summary_table({})
    assert rows[0].startswith("| stream |") and "Pings seen None" in rows[-1]


def test_the_writer_makes_the_directory_and_rewrites_an_incident(tmp_path: Path) -> None:
    writer = IncidentWriter(tmp_path / "new" / "reports")
    incident = event()
    markdown = writer.write(incident, [], streams(), TARGET)
    assert markdown.name == "incident-0003-stall.md"
    incident.recovery_s = 1.5
    writer.write(incident, [], streams(), TARGET)
    written = json.loads(markdown.with_suffix(".json").read_text())
    assert written["incident"]["recovery_s"] == 1.5
    assert sorted(p.name for p in markdown.parent.iterdir()) == [
        "incident-0003-stall.json", "incident-0003-stall.md"]
    path = writer.write_summary({"schema": "binance-diag/watch/1"}, "# summary\n")
    assert path.read_text() == "# summary\n"
    assert json.loads((path.parent / "summary.json").read_text())["schema"] == \
        "binance-diag/watch/1"
