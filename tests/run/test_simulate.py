"""`binance-diag simulate` as a real subprocess on loopback: the banner is true, the probe
line it prints reaches the fault, the knobs act, and Ctrl-C stops it (exit 0) in bounded time.
"""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import sys
import time
from pathlib import Path

import dns.message
import dns.query
import pytest
import trustme
from websockets.exceptions import ConnectionClosed
from websockets.frames import Close, Opcode
from websockets.sync.client import connect

from binance_diag.cli import main
from binance_diag.config.errors import ConfigError
from binance_diag.run.simulate import SimulateRequest, serve, server_options
from binance_diag.simulate.faults import FAULTS
from tests.simulate.conftest import raw_client, read_frames
from tests.simulate.running import (
    STOP_TIMEOUT,
    report_of,
    run_cli,
    simulator,
    stages_of,
)
from tests.utils import MS, ipv6_loopback

FAST_PROBE = ("--timeout", f"{500 * MS:g}", "--format", "json")
"""Appended to the printed probe line where a fault ends in a timeout."""
STOPPED_WITHIN = 2000 * MS


@pytest.mark.timeout(30)
def test_banner_probe_line_and_ctrl_c() -> None:
    with simulator("--fault", "healthy") as sim:
        banner = "\n".join(sim.banner)
        assert sim.banner[0].startswith("binance-diag simulate: fault healthy - ")
        assert "a probe concludes: passes" in banner
        url = sim.value("url")
        port = int(sim.value("address").split()[0].rsplit(":", 1)[1])
        assert url == f"wss://stream.binance.com:{port}/ws/btcusdt@aggTrade"
        ca = Path(sim.value("trust").split()[0])
        assert ca.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
        assert sim.value("client").startswith(f"wss://127.0.0.1:{port}/ws/btcusdt@aggTrade ")
        assert not sim.has("dns")
        assert sim.probe_line == [
            "binance-diag", "probe", "BTCUSDT", "--endpoint", f"wss://stream.binance.com:{port}",
            "--ca-bundle", str(ca), "--resolve", f"stream.binance.com:{port}:127.0.0.1"]

        result = sim.run_probe()  # exactly as printed: the rich report, exit 0
        assert result.returncode == 0, result.stdout + result.stderr
        assert "HEALTHY" in result.stdout
        activity = sim.activity(until="GET /ws/btcusdt@aggTrade")
        assert "connection from 127.0.0.1:" in activity[0]
        assert activity[-1].endswith("GET /ws/btcusdt@aggTrade (binance-diag)")

        code, took = sim.stop(signal.SIGINT)
    assert code == 0, sim.stderr
    assert took < STOPPED_WITHIN
    assert sim.stderr.strip().splitlines() == ["binance-diag: simulator stopped"]
    assert not ca.exists()  # one CA per run, gone with it


@pytest.mark.timeout(30)
@pytest.mark.parametrize("fault", ["tcp-refused", "dns-nxdomain", "tls-hang", "http-451"])
def test_printed_probe_line_reaches_the_fault(fault: str) -> None:
    """One fault per kind of peer: the probe line concludes what the catalogue says."""
    with simulator("--fault", fault) as sim:
        assert f"  a probe concludes: {FAULTS[fault].expectation}" in sim.banner
        result = sim.run_probe(*FAST_PROBE)
    report = report_of(result)
    assert result.returncode == 2, result.stderr
    failed = stages_of(report)[report["failed_stage"]]
    assert f"{failed['name']}/{failed['error']['kind']}" == FAULTS[fault].expectation
    if fault == "dns-nxdomain":  # the DNS fault is served by a real resolver on loopback
        assert "--resolver" in sim.probe_line and "--resolve" not in sim.probe_line


@pytest.mark.timeout(30)
def test_dns_option_answers_every_binance_host() -> None:
    with simulator("--fault", "healthy", "--dns", "--symbols", "btcusdt,ETHUSDT") as sim:
        dns_address = sim.value("dns").split()[0]
        host, port = dns_address.rsplit(":", 1)
        assert sim.probe_line[2:4] == ["BTCUSDT", "ETHUSDT"]
        assert sim.probe_line[-2:] == ["--resolver", dns_address]
        assert "--resolve" not in sim.probe_line
        assert "/stream?streams=btcusdt@aggTrade/ethusdt@aggTrade" in sim.value("url")
        result = sim.run_probe("--format", "json")
        for name in ("stream.binance.com", "fstream.binance.com", "data-stream.binance.vision"):
            query = dns.message.make_query(name, "A")
            answer = dns.query.udp(query, host, port=int(port), timeout=1000 * MS)
            assert [rr.address for rrset in answer.answer for rr in rrset] == ["127.0.0.1"]
    report = report_of(result)
    assert report["failed_stage"] is None
    assert stages_of(report)["dns"]["details"]["addresses"] == ["127.0.0.1"]
    # Honest, and said in the banner: a resolver answering loopback for Binance is a warning.
    assert result.returncode == 1
    assert report["findings"][0]["id"] == "dns.private_address"


@pytest.mark.timeout(30)
def test_own_certificate_and_key(tmp_path: Path) -> None:
    ca = trustme.CA(organization_name="bot author's test CA")
    leaf = ca.issue_cert("stream.binance.com")
    cert, key, bundle = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "ca.pem"
    leaf.cert_chain_pems[0].write_to_path(str(cert))
    leaf.private_key_pem.write_to_path(str(key))
    ca.cert_pem.write_to_path(str(bundle))
    with simulator("--fault", "healthy", "--cert", str(cert), "--key", str(key)) as sim:
        assert sim.value("trust").startswith(f"your certificate {cert}")
        assert "--ca-bundle" not in sim.probe_line
        result = sim.run_probe("--ca-bundle", str(bundle), "--format", "json")
    report = report_of(result)
    assert result.returncode == 0, result.stderr
    issuer = stages_of(report)["tls"]["details"]["certificate"]["issuer"]
    assert "bot author's test CA" in issuer


BAD_INPUT = [
    (["--fault", "tls-expired", "--cert", "{cert}"], "drop --cert/--key"),
    (["--fault", "healthy", "--key", "{cert}"], "--key needs --cert"),
    (["--fault", "healthy", "--cert", "{cert}"], "cannot load certificate"),
    (["--fault", "tls-hang", "--no-tls"], "drop --no-tls"),
    (["--fault", "tls-hng"], "did you mean tls-hang"),
    (["--fault", "healthy", "--host", "localhost"], "--host must be an IP address"),
    (["--fault", "healthy", "--hostname", "not a name"], "--hostname must be"),
    (["--fault", "slow-first-message", "--delay", "-1"], "--delay must be"),
    (["--fault", "healthy", "--ping-interval", "0"], "--ping-interval must be"),
    ([], "simulate needs --fault"),
    (["--fault", "ping-timeout", "--ping-interval", "nan"],
     "--ping-interval must be more than 0 and at most 3600 seconds, got nan"),
    (["--fault", "healthy", "--ping-interval", "inf"], "--ping-interval must be"),
    (["--fault", "slow-first-message", "--delay", "nan"],
     "--delay must be 0 to 3600000 milliseconds, got nan"),
    (["--fault", "slow-first-message", "--delay", "inf"], "--delay must be"),
    (["--fault", "trickle", "--trickle-interval", "nan"],
     "--trickle-interval must be more than 0 and at most 3600 seconds, got nan"),
    (["--fault", "trickle", "--trickle-interval", "-1"], "--trickle-interval must be"),
    (["--fault", "healthy", "--symbols", ""], "--symbols is empty"),
    (["--fault", "healthy", "--symbols", ",,"], "--symbols is empty"),
    (["--fault", "healthy", "--symbols", "BTCUSDT,BTC-USDT"], "invalid symbol 'BTC-USDT'"),
    (["--fault", ""], "--fault is empty"),
    (["--fault", "healthy", "--hostname", "exa_mple.com"], "--hostname must be"),
]


@pytest.mark.parametrize(("args", "message"), BAD_INPUT)
def test_bad_input_exits_3_with_one_line(
    args: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """In-process through the real entry point (cli.main), to spare an interpreter each."""
    cert = tmp_path / "cert.pem"
    cert.write_text("not a certificate")
    monkeypatch.setattr(sys, "argv", ["binance-diag", "simulate",
                                      *(a.format(cert=cert) for a in args)])
    with pytest.raises(SystemExit) as exited:
        main()
    out, err = capsys.readouterr()
    assert exited.value.code == 3, err
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], err


@pytest.mark.timeout(10)
@pytest.mark.parametrize("option", ["--cert", "--key"])
def test_a_fifo_as_cert_or_key_is_exit_3_not_a_hang(
    option: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    leaf = trustme.CA().issue_cert("stream.binance.com")
    files = {"--cert": tmp_path / "cert.pem", "--key": tmp_path / "key.pem"}
    leaf.cert_chain_pems[0].write_to_path(str(files["--cert"]))
    leaf.private_key_pem.write_to_path(str(files["--key"]))
    files[option] = tmp_path / "fifo"
    os.mkfifo(files[option])
    monkeypatch.setattr(sys, "argv", ["binance-diag", "simulate", "--fault", "healthy",
                                      "--cert", str(files["--cert"]),
                                      "--key", str(files["--key"])])
    with pytest.raises(SystemExit) as exited:
        main()
    out, err = capsys.readouterr()
    assert exited.value.code == 3 and out == ""
    assert err == f"binance-diag: error: {option} {files[option]} is not a regular file\n"


def test_non_loopback_host_is_refused_before_anything_listens() -> None:
    """8.8.8.8 is only ever passed, never bound or sent to: refusal comes first."""
    result = run_cli("simulate", "--fault", "healthy", "--host", "8.8.8.8")
    assert result.returncode == 3
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "binance-diag: error: refusing to listen on non-loopback address 8.8.8.8: the "
        "simulator would be reachable from other machines; pass --allow-external if that is "
        "what you want"]
    out = io.StringIO()
    with pytest.raises(ConfigError, match="non-loopback"):
        serve(SimulateRequest(fault="healthy", host="8.8.8.8"), stdout=out, stderr=out)
    assert out.getvalue() == ""  # no banner, no note: it stopped before any peer started


def test_a_port_in_use_is_one_line_not_a_traceback() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = io.StringIO()
        with pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1 port {port}: "):
            serve(SimulateRequest(fault="healthy", port=port), stdout=out, stderr=out)
    assert out.getvalue() == ""


@pytest.mark.timeout(30)
def test_delay_holds_the_first_event() -> None:
    with simulator("--fault", "slow-first-message", "--delay", "300") as sim:
        result = sim.run_probe("--format", "json")
    report = report_of(result)
    assert result.returncode == 0, result.stderr
    streams = stages_of(report)["first_message"]["details"]["streams"]
    assert 280 <= streams["btcusdt@aggTrade"]["latency_ms"] < 300 + 700 * MS * 1000


@pytest.mark.timeout(30)
def test_after_sends_n_events_then_keeps_the_socket_silent() -> None:
    with simulator("--fault", "stall-after", "--after", "2", "--no-tls") as sim:
        url = sim.value("client").split()[0]
        assert url.startswith("ws://127.0.0.1:")
        with connect(url, open_timeout=2000 * MS, close_timeout=500 * MS) as client:
            events = [json.loads(client.recv(timeout=1000 * MS)) for _ in range(2)]
            with pytest.raises(TimeoutError):
                client.recv(timeout=500 * MS)
            client.send(json.dumps({"method": "LIST_SUBSCRIPTIONS", "id": 1}))
            answer = json.loads(client.recv(timeout=1000 * MS))  # the link is alive
    assert [e["e"] for e in events] == ["aggTrade", "aggTrade"]
    assert events[0]["a"] < events[1]["a"]
    assert answer == {"result": ["btcusdt@aggTrade"], "id": 1}


@pytest.mark.timeout(30)
def test_ping_interval_scales_binance_cadence() -> None:
    interval = 100 * MS
    with simulator("--fault", "healthy", "--ping-interval", f"{interval:g}") as sim:
        result = sim.run_probe("--duration", f"{5.5 * interval:g}", "--format", "json")
    assert result.returncode == 0, result.stderr
    hold = stages_of(report_of(result))["first_message"]["details"]["hold"]
    assert hold["pings_seen"] >= 3
    assert hold["pongs_sent"] == hold["pings_seen"]
    assert interval / 2 <= hold["ping_interval_s"] < 2 * interval


def test_symbols_not_given_means_any_and_zero_delay_is_allowed() -> None:
    from binance_diag.run.simulate import split_symbols

    assert split_symbols(None) == ()
    assert split_symbols(["btcusdt,", "ETHUSDT"]) == ("BTCUSDT", "ETHUSDT")
    options = server_options(SimulateRequest("slow-first-message", delay_ms=0),
                             FAULTS["slow-first-message"])
    assert options.delay == 0


def test_knobs_map_onto_the_fault_options() -> None:
    """Binance's cadence unless told (20 s, pong within 60 s); --after serves both faults."""
    default = server_options(SimulateRequest("healthy"), FAULTS["healthy"])
    assert (default.ping_interval, default.pong_timeout) == (20.0, 60.0)
    scaled = server_options(SimulateRequest("healthy", ping_interval=0.5), FAULTS["healthy"])
    assert (scaled.ping_interval, scaled.pong_timeout) == (0.5, 1.5)
    quick = server_options(SimulateRequest("ping-timeout"), FAULTS["ping-timeout"])
    assert quick.ping_interval is None  # the server's catalogued 0.25 s for this fault
    after = server_options(SimulateRequest("stall-after", after=7, delay_ms=250,
                                           symbols=("ETHUSDT",)), FAULTS["stall-after"])
    assert (after.message_count, after.shutdown_after, after.delay) == (7, 7, 0.25)
    assert after.known_symbols == frozenset({"ETHUSDT"})


@pytest.mark.timeout(30)
def test_ping_timeout_closes_a_client_that_never_pongs() -> None:
    """--ping-interval 0.1: a ping, then close 1008 after 3 intervals without a pong."""
    interval = 100 * MS
    with simulator("--fault", "ping-timeout", "--no-tls", "--ping-interval",
                   f"{interval:g}") as sim:
        host, port = sim.value("address").split()[0].rsplit(":", 1)
        started = time.monotonic()
        sock, protocol = raw_client(host, int(port))
        with sock:
            frames = read_frames(sock, protocol, answer=False)
        took = time.monotonic() - started
    assert [f.opcode for f in frames] == [Opcode.PING, Opcode.CLOSE]
    close = Close.parse(frames[-1].data)
    assert (close.code, close.reason) == (1008, "Pong timeout")
    assert 3.5 * interval <= took < 10 * interval  # the ping after 1 interval, close after 4


@pytest.mark.timeout(30)
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_stops_cleanly_with_a_client_connected(signum: int) -> None:
    with simulator("--fault", "healthy", "--no-tls", "--delay", "5") as sim:
        with connect(sim.value("client").split()[0], open_timeout=2000 * MS,
                     close_timeout=500 * MS) as client:
            assert json.loads(client.recv(timeout=1000 * MS))["e"] == "aggTrade"
            code, took = sim.stop(signum)
            with pytest.raises(ConnectionClosed):  # the server went: the stream ends
                while True:
                    client.recv(timeout=STOP_TIMEOUT)
        lines = sim.rest()
    assert code == 0, sim.stderr
    assert took < STOPPED_WITHIN
    # The note for an option the fault ignores, then the clean stop; no traceback.
    assert sim.stderr.strip().splitlines() == [
        "binance-diag: note: --delay has no effect on healthy (only on slow-first-message)",
        "binance-diag: simulator stopped"]
    assert any("GET /ws/btcusdt@aggTrade (Python/" in line for line in lines), lines


@pytest.mark.timeout(30)
def test_hostname_andipv6_loopback() -> None:
    if not ipv6_loopback():
        pytest.skip("no IPv6 loopback here")
    with simulator("--fault", "healthy", "--host", "::1", "--hostname", "stream.example.test",
                   "--no-tls") as sim:
        port = int(sim.value("address").split()[0].rsplit(":", 1)[1])
        assert sim.value("address").startswith(f"[::1]:{port} ")
        assert sim.value("client").startswith(f"ws://[::1]:{port}/")
        assert f"stream.example.test:{port}:::1" in sim.probe_line
        plain = sim.run_probe("--format", "json")
    assert plain.returncode == 0, plain.stderr
    with simulator("--fault", "healthy", "--hostname", "stream.example.test") as sim:
        tls = sim.run_probe("--format", "json")  # the run's CA covers --hostname
    assert tls.returncode == 0, tls.stderr
    assert stages_of(report_of(tls))["tls"]["details"]["sni"] == "stream.example.test"





@pytest.mark.timeout(30)
def test_usdm_market_path_can_be_simulated() -> None:
    with simulator("--fault", "healthy", "--hostname", "fstream.binance.com",
                   "--path-prefix", "market") as sim:
        assert any(word.endswith("/market") for word in sim.probe_line)
        result = sim.run_probe("--format", "json")
    assert result.returncode in (0, 1), result.stderr  # 1: the loopback answer is a warning
    stages = stages_of(report_of(result))
    assert stages["first_message"]["status"] == "ok"
    assert stages["ws_upgrade"]["details"]["path"].startswith("/market/ws/")


def test_a_bad_path_prefix_is_refused() -> None:
    from binance_diag.config.errors import ConfigError
    from binance_diag.run.simulate import SimulateRequest, server_options
    from binance_diag.simulate.faults import FAULTS

    with pytest.raises(ConfigError, match="--path-prefix '/a b': expected a path"):
        server_options(SimulateRequest(fault="healthy", path_prefix="/a b"), FAULTS["healthy"])
