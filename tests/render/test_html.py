"""HTML: one self-contained file (no script, nothing fetched), every section, the waterfall
as inline SVG with one bar per stage that ran, and what came from the network escaped."""

from __future__ import annotations

import re

import pytest

from binance_diag.model import ErrorKind, StageName
from binance_diag.render.formats import OutputFormat, formatter_for
from binance_diag.render.html import HtmlFormatter, esc, inline, render_html
from tests.render.cases import CASES, failed_matrix, mixed_matrix
from tests.render.dom import parse_dom
from tests.reports import make_report

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.mark.parametrize("case", list(CASES))
def test_self_contained(case: str) -> None:
    page = render_html(CASES[case]())
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page, re.I)
    assert "@import" not in page and "url(" not in page
    assert "default-src 'none'" in page  # and a browser that honours CSP fetches nothing


@pytest.mark.parametrize("case", list(CASES))
def test_one_row_per_stage_and_one_bar_per_stage_that_ran(case: str) -> None:
    report = CASES[case]()
    dom = parse_dom(render_html(report))
    rows = dom.find_all("tr", lambda a: "data-stage" in a)
    assert [r.attrs["data-stage"] for r in rows] == [s.name.value for s in report.stages]
    bars = dom.find_all("rect", lambda a: "bar" in a.get("class", "").split())
    ran = [s.name.value for s in report.stages if s.duration_ms is not None]
    assert [b.attrs["data-stage"] for b in bars] == ran
    assert len(dom.find_all("svg")) == 1


def test_failing_stage_is_red_and_named_in_the_status() -> None:
    dom = parse_dom(render_html(CASES["tls_hang"]()))
    status = dom.find_all("p", lambda a: a.get("id") == "status")[0]
    assert "crit" in status.attrs["class"]
    assert "FAILED at TLS handshake" in status.text
    bars = {b.attrs["data-stage"]: b.attrs["class"]
            for b in dom.find_all("rect", lambda a: "data-stage" in a)}
    assert bars == {"dns": "bar ok", "tcp": "bar ok", "tls": "bar failed"}
    tls_row = dom.find_all("tr", lambda a: a.get("data-stage") == "tls")[0]
    assert tls_row.attrs["class"] == "failed"
    assert "timeout" in tls_row.text and "10 s" in tls_row.text


def test_deadlines_are_marked_on_the_axis_or_beyond_it() -> None:
    tls_hang = parse_dom(render_html(CASES["tls_hang"]()))
    # 10 s of TLS: every deadline (5 s after DNS, TCP; 10 s after TLS) falls on the axis.
    assert len(tls_hang.find_all("line", lambda a: a.get("class") == "deadline")) == 3
    healthy = parse_dom(render_html(CASES["healthy"]()))
    # 350 ms in all: every 5 s budget ends far to the right.
    assert len(healthy.find_all("path", lambda a: a.get("class") == "beyond")) == 5


def test_text_from_the_network_is_escaped() -> None:
    report = make_report(fail=StageName.WS_UPGRADE, kind=ErrorKind.HTTP_STATUS,
                         message=f"HTTP 403 {HOSTILE}",
                         extra={"status": 403, "reason": HOSTILE, "body_excerpt": HOSTILE},
                         details={"status": 403, "reason": HOSTILE,
                                  "headers": {"server": HOSTILE}},
                         command=f"binance-diag probe BTCUSDT # {HOSTILE}")
    page = render_html(report)
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


def test_escape_is_the_one_the_credential_scrubber_knows() -> None:
    assert esc("""a&b<c>"d'""") == "a&amp;b&lt;c&gt;&quot;d&apos;"
    assert inline("`x<y>` **b&** *em* <i>") == \
        "<code>x&lt;y&gt;</code> <strong>b&amp;</strong> <em>em</em> &lt;i&gt;"


def test_matrix() -> None:
    for matrix in (mixed_matrix(), failed_matrix()):
        page = HtmlFormatter().format_matrix(matrix)
        dom = parse_dom(page)
        rows = dom.find_all("tr", lambda a: a.get("class") in ("ok", "failed"))
        assert [r.children[0].text for r in rows] == [r.endpoint for r in matrix.rows]
        assert matrix.verdict.text in dom.find_all("p", lambda a: a.get("id") == "status")[0].text
        assert "<script" not in page


def test_registered_and_kept_to_itself_on_stdout() -> None:
    formatter = formatter_for(OutputFormat.HTML)
    assert isinstance(formatter, HtmlFormatter)
    assert formatter.for_programs  # no annotation line inside `> report.html`
