"""The diagnosis: rules as data, and an engine that turns measurements into findings.

Pure: no I/O, no rich. `diagnose_report(report)` returns the report with its ranked findings
(the first is the Root Cause Hypothesis) and its Problem Analysis; the table is `RULES`.
"""

from __future__ import annotations

from .engine import Match, diagnose, diagnose_report, match_rules
from .rules import RULES, RULES_BY_ID
from .thresholds import parse_thresholds

__all__ = ["RULES", "RULES_BY_ID", "Match", "diagnose", "diagnose_report", "match_rules",
           "parse_thresholds"]
