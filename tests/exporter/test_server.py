"""The exporter's routes, served on loopback, probing simulated Binance peers."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from binance_diag.exporter.modules import load_modules
from binance_diag.exporter.server import Exporter, running
from binance_diag.simulate.certs import CertificateAuthority
from binance_diag.simulate.scenario import Scenario, start_fault
from tests.exporter.helpers import get, module_table, modules_toml, value
from tests.utils import MS

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def served(modules_file: Path) -> Iterator[tuple[Exporter, str]]:
    exporter = Exporter(load_modules(modules_file), environ={})
    with running(exporter) as server:
        yield exporter, f"http://127.0.0.1:{server.port}"


def test_a_healthy_stream_is_a_successful_probe(served: tuple[Exporter, str]) -> None:
    _, base = served
    status, content_type, body = get(f"{base}/probe?target=BTCUSDT&module=healthy")
    assert status == 200
    assert content_type.startswith("text/plain; version=")
    assert value(body, "probe_success") == 1
    assert value(body, "probe_http_status_code") == 101
    assert value(body, "probe_ip_protocol") == 4
    assert value(body, "probe_binance_status", status="ok") == 1
    for stage in ("dns", "tcp", "tls", "ws_upgrade", "first_message"):
        assert value(body, "probe_binance_stage_status", stage=stage, status="ok") == 1
        duration = value(body, "probe_binance_stage_duration_seconds", stage=stage)
        assert duration is not None and 0 <= duration < 5
    assert (value(body, "probe_ssl_earliest_cert_expiry") or 0) > time.time()
    assert 0 < (value(body, "probe_binance_first_message_latency_seconds") or 0) < 5
    assert value(body, "probe_binance_loop_lag_seconds") is not None
    assert "probe_binance_failure{" not in body


def test_a_blocked_stream_names_its_stage_kind_and_finding(served: tuple[Exporter, str]
                                                           ) -> None:
    _, base = served
    status, _, body = get(f"{base}/probe?target=btcusdt,ethusdt&module=blocked")
    assert status == 200  # the probe ran: its failure is data, not an HTTP error
    assert value(body, "probe_success") == 0
    assert value(body, "probe_http_status_code") == 451
    assert value(body, "probe_binance_failure", stage="ws_upgrade", kind="http_status",
                 finding="upgrade.restricted_location") == 1
    assert value(body, "probe_binance_stage_status", stage="first_message",
                 status="skipped") == 1
    assert value(body, "probe_binance_stage_duration_seconds", stage="first_message") is None


@pytest.mark.parametrize(("query", "expected"), [
    ("module=healthy", "Target parameter is missing"),
    ("target=BTCUSDT&module=nope", "Unknown module 'nope'"),
    ("target=BTC-USDT&module=healthy", "BTC-USDT"),
    ("target=BTCUSDT", "Unknown module 'default'"),  # a modules file has no built-in default
])
def test_a_scrape_that_cannot_probe_is_an_http_error(served: tuple[Exporter, str], query: str,
                                                     expected: str) -> None:
    _, base = served
    status, _, body = get(f"{base}/probe?{query}")
    assert status == 400
    assert expected in body


def test_a_bad_scrape_timeout_header_is_refused(served: tuple[Exporter, str]) -> None:
    _, base = served
    status, _, body = get(f"{base}/probe?target=BTCUSDT&module=healthy",
                          {"X-Prometheus-Scrape-Timeout-Seconds": "soon"})
    assert status == 400


def test_exporter_metrics_count_probes_and_errors(served: tuple[Exporter, str]) -> None:
    _, base = served
    get(f"{base}/probe?target=BTCUSDT&module=healthy")
    get(f"{base}/probe?target=BTCUSDT&module=blocked")
    get(f"{base}/probe?target=BTCUSDT&module=nope")
    status, content_type, body = get(f"{base}/metrics")
    assert status == 200 and content_type.startswith("text/plain")
    assert value(body, "binance_diag_exporter_probes_total", module="healthy",
                 result="success") == 1
    assert value(body, "binance_diag_exporter_probes_total", module="blocked",
                 result="failure") == 1
    assert value(body, "binance_diag_exporter_probe_errors_total",
                 reason="unknown_module") == 1
    assert value(body, "binance_diag_exporter_probes_in_flight") == 0
    assert value(body, "binance_diag_exporter_config_last_reload_successful") == 1
    assert value(body, "process_resident_memory_bytes") is not None


def test_the_status_page_links_each_probe_to_its_reports(served: tuple[Exporter, str]
                                                         ) -> None:
    _, base = served
    get(f"{base}/probe?target=BTCUSDT&module=blocked")
    status, content_type, page = get(f"{base}/")
    assert status == 200 and content_type.startswith("text/html")
    assert "FAILED" in page and "ws_upgrade: http_status" in page
    assert '/report?id=1&amp;format=markdown' in page
    status, content_type, markdown = get(f"{base}/report?id=1&format=markdown")
    assert status == 200 and content_type.startswith("text/markdown")
    assert "451" in markdown and "Root Cause" in markdown
    status, content_type, text = get(f"{base}/report?id=1&format=json")
    report = json.loads(text)
    assert status == 200 and content_type == "application/json"
    assert report["failed_stage"] == "ws_upgrade"
    assert report["findings"][0]["id"] == "upgrade.restricted_location"
    assert get(f"{base}/report?id=99&format=json")[0] == 404
    assert get(f"{base}/report?id=1&format=pdf")[0] == 400
    assert get(f"{base}/nowhere")[0] == 404


def test_reload_takes_a_new_file_and_keeps_the_old_one_when_broken(
        served: tuple[Exporter, str], modules_file: Path, peers: dict[str, Scenario]) -> None:
    exporter, base = served
    modules_file.write_text(modules_toml(peers) + module_table("again", peers["healthy"]))
    assert get(f"{base}/-/reload", method="POST")[:1] == (200,)
    assert get(f"{base}/probe?target=BTCUSDT&module=again")[0] == 200
    modules_file.write_text("[modules.broken]\nmessage_timeout = -1\n")
    status, _, body = get(f"{base}/-/reload", method="POST")
    assert status == 500
    assert "modules.toml:2: modules.broken.message_timeout" in body
    assert set(exporter.modules.modules) == {"healthy", "blocked", "again"}
    assert value(get(f"{base}/metrics")[2],
                 "binance_diag_exporter_config_last_reload_successful") == 0
    assert get(f"{base}/-/reload")[0] == 405


@pytest.fixture(scope="module")
def hanging(certs: CertificateAuthority, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[Scenario]:
    """A hostile peer: TCP accepted, then no byte of the TLS handshake, ever."""
    with start_fault("tls-hang", certs=certs, workdir=tmp_path_factory.mktemp("hang")) as peer:
        yield peer


def test_a_hanging_target_is_answered_within_the_scrape_timeout(hanging: Scenario,
                                                                 tmp_path: Path) -> None:
    exporter = Exporter(load_modules(_write(tmp_path, module_table("hang", hanging))),
                        environ={})
    with running(exporter) as server:
        started = time.monotonic()
        status, _, body = get(f"http://127.0.0.1:{server.port}/probe?target=BTCUSDT&module=hang",
                              {"X-Prometheus-Scrape-Timeout-Seconds": "1.5"})
        took = time.monotonic() - started
    assert status == 200
    assert took < 1.5 - 0.5 + 300 * MS  # within the budget: scrape timeout less the offset
    assert value(body, "probe_success") == 0
    assert value(body, "probe_binance_failure", stage="tls", kind="timeout",
                 finding="tls.handshake_timeout") == 1
    tls_timeout = value(body, "probe_binance_stage_timeout_seconds", stage="tls")
    assert tls_timeout is not None and tls_timeout < 1.0  # scaled down from 5 s


def test_probes_beyond_the_limit_get_503(hanging: Scenario, tmp_path: Path) -> None:
    exporter = Exporter(load_modules(_write(tmp_path, module_table("hang", hanging))),
                        environ={}, max_concurrent=1)
    with running(exporter) as server:
        url = f"http://127.0.0.1:{server.port}/probe?target=BTCUSDT&module=hang"
        first: list[int] = []
        worker = threading.Thread(target=lambda: first.append(
            get(url, {"X-Prometheus-Scrape-Timeout-Seconds": "2"})[0]))
        worker.start()
        deadline = time.monotonic() + 2000 * MS
        while exporter.slots.in_flight == 0 and time.monotonic() < deadline:
            time.sleep(5 * MS)
        status, _, body = get(url, {"X-Prometheus-Scrape-Timeout-Seconds": "0.8"})
        worker.join(10)
    assert status == 503 and "--max-concurrent-probes" in body
    assert first == [200]
    assert exporter.metrics.errors.labels("busy")._value.get() == 1


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "modules.toml"
    path.write_text(text)
    return path
