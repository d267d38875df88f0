"""The status page (`GET /`): what the exporter probes and its recent probes, each one click
from its full report. Plain HTML, every value escaped, no script."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from urllib.parse import quote

from .history import ProbeRecord
from .modules import Modules

_STYLE = ("body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
          "td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}"
          ".ok{color:#080}.degraded{color:#a60}.failed{color:#c00}")


def status_page(records: Iterable[ProbeRecord], modules: Modules, version: str) -> str:
    rows = "\n".join(_row(record) for record in records) or \
        '<tr><td colspan="7">No probe yet: scrape /probe?target=BTCUSDT&amp;module=NAME</td></tr>'
    names = ", ".join(escape(name) for name in modules.modules)
    first = quote(next(iter(modules.modules)))
    source = escape(str(modules.source)) if modules.source else "built-in default"
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>binance-diag exporter</title>
<style>{_STYLE}</style></head>
<body>
<h1>binance-diag exporter {escape(version)}</h1>
<p>Modules: {names} (from {source}).
<a href="/metrics">Exporter metrics</a> &middot;
<a href="/probe?target=BTCUSDT&amp;module={first}">Probe BTCUSDT</a></p>
<h2>Recent probes</h2>
<table>
<tr><th>Time (UTC)</th><th>Module</th><th>Target</th><th>Result</th><th>Failed at</th>
<th>Duration</th><th>Report</th></tr>
{rows}
</table>
</body></html>
"""


def _row(record: ProbeRecord) -> str:
    report = record.run.report
    failed = report.failed_stage
    where = "" if failed is None else escape(
        f"{failed.name.value}: {failed.error.kind.value if failed.error else failed.status}")
    status = report.status.value
    link = f"/report?id={quote(record.id)}"
    return (f"<tr><td>{escape(record.at.strftime('%Y-%m-%d %H:%M:%S'))}</td>"
            f"<td>{escape(record.module)}</td><td>{escape(record.target)}</td>"
            f'<td class="{status}">{status.upper()}</td><td>{where}</td>'
            f"<td>{record.run.duration_s * 1000:.1f} ms</td>"
            f'<td><a href="{link}&amp;format=markdown">Markdown</a> '
            f'<a href="{link}&amp;format=json">JSON</a></td></tr>')
