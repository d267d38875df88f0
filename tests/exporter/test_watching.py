"""Watch targets in `serve`: held streams against the simulator on loopback, their live
figures on /metrics between scrapes, started and stopped by reloads."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from binance_diag.exporter.modules import load_modules
from binance_diag.exporter.server import Exporter, running
from binance_diag.exporter.watching import HeldFigures
from binance_diag.exporter.watchmetrics import WatchCollector
from binance_diag.simulate.certs import CertificateAuthority
from binance_diag.simulate.scenario import Scenario, start_fault
from binance_diag.simulate.server import ServerOptions
from tests.exporter.helpers import get, module_table, samples, value
from tests.utils import MS

pytestmark = pytest.mark.timeout(30)
STALL_AFTER = 800 * MS
"""The stalling peer's seconds of trades on each connection, then silence."""
FLOOR = 600 * MS
"""The watch targets' stall floor: a stall is seen this long into the silence."""
WAIT = 8000 * MS


def watch_table(name: str, module: str, **extra: object) -> str:
    lines = [f"[watch.{name}]", f'module = "{module}"', 'symbols = ["BTCUSDT"]',
             "stall_factor = 5", f"stall_floor = {FLOOR}", "every = 600",
             "timeout = 2"]
    lines += [f"{key} = {value!r}".replace("'", '"') for key, value in extra.items()]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def stalling(certs: CertificateAuthority, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[Scenario]:
    """Each connection gets trades for STALL_AFTER, then silence with the socket open."""
    with start_fault("stall-held", certs=certs, options=ServerOptions(
            stall_after_s=STALL_AFTER), workdir=tmp_path_factory.mktemp("stall")) as peer:
        yield peer


@contextmanager
def served(path: Path) -> Iterator[tuple[Exporter, str]]:
    exporter = Exporter(load_modules(path), environ={})
    with running(exporter) as server:
        yield exporter, f"http://127.0.0.1:{server.port}"


def metrics(base: str) -> str:
    status, _, body = get(f"{base}/metrics")
    assert status == 200
    return body


def until(check: Callable[[], bool], seconds: float = WAIT) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(50 * MS)
    return check()


def test_a_held_stream_counts_its_messages_between_scrapes(
        peers: dict[str, Scenario], tmp_path: Path) -> None:
    path = tmp_path / "modules.toml"
    path.write_text(module_table("healthy", peers["healthy"]) + watch_table("btc", "healthy"))
    with served(path) as (_, base):
        assert until(lambda: (value(metrics(base), "binance_watch_messages_total",
                                    target="btc") or 0) > 0)
        first = metrics(base)
        counted = value(first, "binance_watch_messages_total", target="btc")
        assert counted is not None
        assert until(lambda: (value(metrics(base), "binance_watch_messages_total",
                                    target="btc") or 0) > counted)
        text = metrics(base)
        assert value(text, "binance_watch_up", target="btc") == 1
        age = value(text, "binance_watch_last_message_age_seconds", target="btc")
        assert age is not None and 0 <= age < 2
        assert value(text, "binance_watch_stalls_total", target="btc") == 0
        assert value(text, "binance_watch_events_total", target="btc",
                     conclusion="connection_stuck") == 0
        assert value(text, "binance_watch_target_info", target="btc", symbols="BTCUSDT",
                     url=f"{peers['healthy'].url_base}/ws/btcusdt@aggTrade") == 1


def test_a_stalled_stream_counts_its_stall_and_reconnects(
        stalling: Scenario, tmp_path: Path) -> None:
    path = tmp_path / "modules.toml"
    path.write_text(module_table("stalling", stalling) + watch_table("stuck", "stalling"))
    with served(path) as (_, base):
        assert until(lambda: (value(metrics(base), "binance_watch_stalls_total",
                                    target="stuck") or 0) >= 1)
        # A fresh connection gets data: the held one is stuck, and is replaced.
        assert until(lambda: (value(metrics(base), "binance_watch_reconnects_total",
                                    target="stuck") or 0) >= 1)
        assert (value(metrics(base), "binance_watch_events_total", target="stuck",
                      conclusion="connection_stuck") or 0) >= 1


def test_reload_removes_and_adds_targets(peers: dict[str, Scenario], tmp_path: Path) -> None:
    path = tmp_path / "modules.toml"
    module = module_table("healthy", peers["healthy"])
    path.write_text(module + watch_table("old", "healthy"))
    with served(path) as (exporter, base):
        assert until(lambda: value(metrics(base), "binance_watch_up", target="old") == 1)
        path.write_text(module + watch_table("new", "healthy"))
        assert get(f"{base}/-/reload", method="POST")[0] == 200
        names = {dict(labels).get("target") for name, labels in samples(metrics(base))
                 if name.startswith("binance_watch_")}
        assert names == {"new"}
        assert until(lambda: value(metrics(base), "binance_watch_up", target="new") == 1)
        path.write_text(module)
        assert get(f"{base}/-/reload", method="POST")[0] == 200
        assert not any(name.startswith("binance_watch_") for name, _ in samples(metrics(base)))
        assert exporter.watching.figures() == []
    assert not any(t.name == "serve watch" for t in threading.enumerate())


def test_without_watch_targets_no_loop_runs(modules_file: Path) -> None:
    with served(modules_file) as (exporter, base):
        assert "binance_watch_" not in metrics(base)
        assert not any(t.name == "serve watch" for t in threading.enumerate())
        assert exporter.watching.figures() == []


def test_the_collector_names_follow_the_conventions() -> None:
    figures = HeldFigures("btc", ("BTCUSDT",), "wss://x/ws/btcusdt@aggTrade", True, 7, 0.25,
                          10.0, 1, 2, {"connection_stuck": 1})
    collector = WatchCollector(lambda: [figures])
    families = {family.name: family for family in collector.collect()}
    assert families["binance_watch_messages"].type == "counter"
    assert families["binance_watch_last_message_age_seconds"].type == "gauge"
    assert {s.labels["conclusion"] for s in families["binance_watch_events"].samples} >= \
        {"connection_stuck", "path_down", "market_quiet", "resumed"}
    assert list(WatchCollector(list).collect()) == []
