"""watch/forensics.py: a stall's conclusion from the fresh probe and the old connection."""

from __future__ import annotations

import pytest

from binance_diag.model import ErrorKind, ProbeReport, StageName
from binance_diag.watch.events import Conclusion
from binance_diag.watch.forensics import StallEvidence, conclude, quiet_market
from tests.reports import make_report

HEALTHY = make_report()
SILENT_LIVE = make_report(fail=StageName.FIRST_MESSAGE, extra={"link_alive": True})
SILENT = make_report(fail=StageName.FIRST_MESSAGE)
TCP_DOWN = make_report(fail=StageName.TCP)
CLOSED = make_report(fail=StageName.FIRST_MESSAGE, kind=ErrorKind.CLOSED)


def evidence(fresh: ProbeReport, **facts: object) -> StallEvidence:
    return StallEvidence(silence_s=31.2, threshold_s=30.0, median_gap_ms=95.0, fresh=fresh,
                         **facts)  # type: ignore[arg-type]


@pytest.mark.parametrize(("fresh", "facts", "conclusion"), [
    (HEALTHY, {}, Conclusion.CONNECTION_STUCK),
    (HEALTHY, {"old_answered": True}, Conclusion.CONNECTION_STUCK),
    (SILENT, {"old_answered": True}, Conclusion.MARKET_QUIET),
    (SILENT_LIVE, {}, Conclusion.MARKET_QUIET),
    (SILENT, {}, Conclusion.PATH_DOWN),
    (CLOSED, {"old_answered": True}, Conclusion.PATH_DOWN),
    (TCP_DOWN, {"old_answered": True}, Conclusion.PATH_DOWN),
    (TCP_DOWN, {"resumed": True}, Conclusion.RESUMED),
    (HEALTHY, {"resumed": True}, Conclusion.RESUMED),
])
def test_the_table(fresh: ProbeReport, facts: dict[str, object],
                   conclusion: Conclusion) -> None:
    assert conclude(evidence(fresh, **facts))[0] is conclusion


def test_the_evidence_says_what_each_connection_did() -> None:
    _, title, lines = conclude(evidence(HEALTHY, old_bytes=0))
    assert "reconnect when silent for more than 30" in title
    assert lines[0].startswith("no message for 31.2") and "median gap: 95 ms" in lines[0]
    assert lines[1] == ("held connection: LIST_SUBSCRIPTIONS not answered, 0 bytes received "
                        "after the request and the ping")
    assert lines[2].startswith("a fresh connection got its first message in ")
    _, title, lines = conclude(evidence(TCP_DOWN))
    assert "fails at tcp" in title
    assert lines[2].startswith("a fresh connection failed at tcp")
    assert lines[3].startswith("the probe's finding: ")
    assert "median gap: unknown" in conclude(StallEvidence(
        10.0, 10.0, None, HEALTHY))[2][0]


def test_quiet_market_needs_a_live_link() -> None:
    assert quiet_market(SILENT_LIVE)
    assert not quiet_market(SILENT) and not quiet_market(HEALTHY)
    assert not quiet_market(TCP_DOWN)
