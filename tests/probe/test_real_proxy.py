"""Opt-in: the proxy stage through a real proxy server from the OS packages (tinyproxy).

Skipped unless `tinyproxy` is installed (`apt-get install tinyproxy`); our own CONNECT and
SOCKS5 peers (test_proxy.py) cover the rest everywhere. tinyproxy listens on loopback and
is only ever asked for 127.0.0.1 targets: a host name would make it ask the system
resolver, which tests never do.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from binance_diag.model import StageName, StageStatus
from binance_diag.render.json import render_json
from binance_diag.simulate.scenario import start_fault
from tests.probe.helpers import failure, make_config, probe
from tests.utils import MS

TINYPROXY = shutil.which("tinyproxy")
pytestmark = pytest.mark.skipif(TINYPROXY is None, reason="tinyproxy is not installed")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture(scope="module")
def tinyproxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A tinyproxy on 127.0.0.1 with Basic auth alice:s3cret; yields its port."""
    assert TINYPROXY is not None
    port = free_port()
    config = Path(tmp_path_factory.mktemp("tinyproxy")) / "tinyproxy.conf"
    config.write_text(f"Port {port}\nListen 127.0.0.1\nTimeout 5\nAllow 127.0.0.1\n"
                      "BasicAuth alice s3cret\nMaxClients 20\nLogLevel Warning\n")
    process = subprocess.Popen([TINYPROXY, "-d", "-c", str(config)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 5000 * MS
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    pytest.fail("tinyproxy did not start listening")
                time.sleep(20 * MS)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()


def test_healthy_stream_through_tinyproxy(tinyproxy: int) -> None:
    with start_fault("healthy") as scenario:
        config = make_config(f"wss://127.0.0.1:{scenario.port}", ca_bundle=scenario.ca_bundle,
                             proxy=f"http://alice:s3cret@127.0.0.1:{tinyproxy}")
        report = probe(config)
    assert report.failed_stage is None, report.failed_stage
    statuses = {s.name: s.status for s in report.stages}
    assert statuses[StageName.PROXY] is StageStatus.OK
    assert statuses[StageName.FIRST_MESSAGE] is StageStatus.OK
    assert "s3cret" not in render_json(report)


def test_tinyproxy_without_credentials_is_auth_required(tinyproxy: int) -> None:
    with start_fault("healthy") as scenario:
        config = make_config(f"wss://127.0.0.1:{scenario.port}", ca_bundle=scenario.ca_bundle,
                             proxy=f"http://127.0.0.1:{tinyproxy}")
        report = probe(config)
    assert failure(report) == ("proxy", "auth_required")


def test_tinyproxy_that_cannot_reach_the_target_fails_the_proxy_stage(tinyproxy: int) -> None:
    config = make_config(f"wss://127.0.0.1:{free_port()}",
                         proxy=f"http://alice:s3cret@127.0.0.1:{tinyproxy}")
    report = probe(config)
    assert failure(report) == ("proxy", "rejected")
    proxy = report.stage(StageName.PROXY)
    assert proxy is not None and proxy.error is not None
    assert proxy.error.extra.get("status") == 500, proxy.error
