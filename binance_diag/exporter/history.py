"""The recent probes, kept for the status page and `/report?id=`: a bounded ring."""

from __future__ import annotations

import itertools
import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime

from ..timing import utc_now
from .probing import ProbeRun

DEFAULT_HISTORY = 100
"""blackbox_exporter's `--history.limit` default."""


@dataclass(frozen=True)
class ProbeRecord:
    id: str
    at: datetime
    module: str
    target: str
    run: ProbeRun


class History:
    """The last `limit` probes, newest first; thread-safe (scrapes run on their own threads)."""

    def __init__(self, limit: int = DEFAULT_HISTORY) -> None:
        self.limit = limit
        self._records: deque[ProbeRecord] = deque(maxlen=limit)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def add(self, module: str, target: str, run: ProbeRun) -> ProbeRecord:
        with self._lock:
            record = ProbeRecord(str(next(self._ids)), utc_now(), module, target, run)
            if self.limit > 0:
                self._records.appendleft(record)
            return record

    def get(self, record_id: str) -> ProbeRecord | None:
        with self._lock:
            return next((r for r in self._records if r.id == record_id), None)

    def recent(self) -> list[ProbeRecord]:
        with self._lock:
            return list(self._records)
