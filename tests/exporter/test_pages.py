"""The status page: every value escaped, each probe linked to its reports."""

from __future__ import annotations

import pytest

from binance_diag.exporter.history import History
from binance_diag.exporter.modules import Module, Modules
from binance_diag.exporter.pages import status_page
from binance_diag.exporter.probing import ProbeRun
from binance_diag.model import ErrorKind, StageName
from tests.reports import make_report

pytestmark = pytest.mark.timeout(10)


def test_probes_are_listed_with_links_and_escaped() -> None:
    history = History()
    history.add("<script>", "BTCUSDT", ProbeRun(
        make_report(fail=StageName.TLS, kind=ErrorKind.TIMEOUT), 5.0123, 1.0, False))
    page = status_page(history.recent(), Modules({"a&b": Module("a&b")}), "0.1.0")
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "a&amp;b" in page
    assert '<td class="failed">FAILED</td><td>tls: timeout</td>' in page
    assert "5012.3 ms" in page
    assert '/report?id=1&amp;format=json' in page


def test_an_empty_history_says_how_to_start() -> None:
    page = status_page([], Modules({"default": Module("default")}), "0.1.0")
    assert "No probe yet" in page
