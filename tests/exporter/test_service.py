"""`binance-diag serve` as a user runs it: a subprocess on loopback, SIGHUP, SIGTERM, exit 3."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from binance_diag.simulate.scenario import Scenario
from tests.exporter.helpers import get, module_table, value
from tests.utils import MS

pytestmark = pytest.mark.timeout(60)
START_TIMEOUT = 15_000 * MS


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}


def test_serve_probes_reloads_on_sighup_and_stops_on_sigterm(
        modules_file: Path, peers: dict[str, Scenario]) -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "binance_diag", "serve", "--listen", "127.0.0.1:0",
         "--config", str(modules_file)],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=clean_env(),
    ) as process:
        try:
            check_serve(process, modules_file, peers)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(5)


def check_serve(process: subprocess.Popen[str], modules_file: Path,
                peers: dict[str, Scenario]) -> None:
    assert process.stderr is not None
    banner = process.stderr.readline()
    match = re.search(r"listening on (http://127\.0\.0\.1:\d+)/ \(modules: healthy, "
                      r"blocked\)", banner)
    assert match, banner
    base = match.group(1)
    status, _, body = get(f"{base}/probe?target=BTCUSDT&module=healthy")
    assert status == 200 and value(body, "probe_success") == 1
    modules_file.write_text(module_table("fresh", peers["healthy"])
                            + '[watch.held]\nmodule = "fresh"\nsymbols = "BTCUSDT"\n')
    process.send_signal(signal.SIGHUP)
    assert "reloaded (modules: fresh; watch: held)" in process.stderr.readline()
    assert get(f"{base}/probe?target=BTCUSDT&module=fresh")[0] == 200
    assert get(f"{base}/probe?target=BTCUSDT&module=healthy")[0] == 400
    assert value(get(f"{base}/metrics")[2], "binance_watch_stalls_total", target="held") == 0
    process.send_signal(signal.SIGTERM)  # the held stream is closed on the way out
    assert process.wait(START_TIMEOUT) == 143


def run_serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "binance_diag", "serve", *args],
                          capture_output=True, text=True, timeout=START_TIMEOUT, check=False,
                          env=clean_env())


def test_a_bad_modules_file_is_exit_3_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "modules.toml"
    path.write_text("[modules.spot]\nendpoint = \"spot\"\ndns_timeout = -2\n")
    result = run_serve("--listen", "127.0.0.1:0", "--config", str(path))
    assert result.returncode == 3
    assert result.stderr.strip() == (
        f"binance-diag: error: {path}:3: modules.spot.dns_timeout: dns_timeout must be more "
        "than 0 and at most 3600 seconds, got -2")


@pytest.mark.parametrize(("args", "message"), [
    (("--listen", "nowhere"), "--listen"),
    (("--listen", "127.0.0.1:0", "--max-concurrent-probes", "0"), "--max-concurrent-probes"),
    (("--listen", "127.0.0.1:0", "--timeout-offset", "-1"), "--timeout-offset"),
])
def test_bad_options_are_exit_3(args: tuple[str, ...], message: str) -> None:
    result = run_serve(*args)
    assert result.returncode == 3 and message in result.stderr


def test_a_busy_port_is_exit_3() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = run_serve("--listen", f"127.0.0.1:{taken.getsockname()[1]}")
    assert result.returncode == 3 and "cannot listen on 127.0.0.1:" in result.stderr
