"""Redaction: no credential given to a run appears in anything it writes
(binance_diag/safety/redact.py).

The pure layer is tested directly; the whole guarantee is tested on the installed command, with
credentials that hypothesis draws from every character a URL makes special, from every source
(--proxy with and without a scheme, the proxy variables websockets and curl read, a variable
`--no-proxy` leaves unused, --endpoint, a --proxy whose port is bad), in every format.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from binance_diag.safety import redact
from binance_diag.safety.redact import collect_secrets, redact_text, redact_url, register, scrub
from tests.utils import MS

SPECIAL = "/#?@ :%&=+;,$!*'\"\\<>[]`|~^{}"
FORMATS = ("rich", "markdown", "json", "junit", "nagios", "html")


@pytest.fixture(autouse=True)
def _no_secrets_between_tests() -> None:
    redact.forget_secrets()


def test_redact_url_masks_the_whole_user_info_up_to_the_last_at() -> None:
    assert redact_url("http://alice:s3/c#r?e t@x@proxy:3128") == "http://***@proxy:3128"
    assert redact_url("alice:pw@proxy:3128") == "***@proxy:3128"
    assert redact_url("socks5h://token@[::1]:1080") == "socks5h://***@[::1]:1080"
    assert redact_url("http://proxy:3128") == "http://proxy:3128"
    assert redact_url("wss://stream.binance.com:9443/ws/btcusdt@aggTrade") == \
        "wss://stream.binance.com:9443/ws/btcusdt@aggTrade", "an @ in a path is no user-info"


def test_registered_secrets_are_scrubbed_in_every_escaped_form() -> None:
    collect_secrets(["--proxy", 'http://al:p"a<s>s\\w&rd@h:1'], {})
    for shown in ('p"a<s>s\\w&rd', 'p\\"a<s>s\\\\w&rd', "p&quot;a&lt;s&gt;s\\w&amp;rd",
                  "p%22a%3Cs%3Es%5Cw%26rd"):
        assert "***" in scrub(f"x {shown} y") and shown not in scrub(f"x {shown} y"), shown


def test_unused_proxy_variables_are_secrets_but_other_variables_are_not() -> None:
    collect_secrets([], {"socks_proxy": "socks5://tok3n@127.0.0.1:1",
                         "BOT_URL": "wss://stream.binance.com:9443/ws/btcusdt@aggTrade"})
    assert scrub("token tok3n") == "token ***"
    assert scrub("stream.binance.com:9443/ws/btcusdt") == "stream.binance.com:9443/ws/btcusdt"


def test_short_pieces_are_masked_only_inside_urls() -> None:
    collect_secrets(["--proxy", "http://ab:cd@h:1"], {})
    assert scrub("cd and ab stay words") == "cd and ab stay words"
    assert redact_text("see http://ab:cd@h:1 now") == "see http://***@h:1 now"


def test_register_ignores_what_is_too_short_to_scrub_safely() -> None:
    register("pw")
    assert scrub("pw") == "pw"


def _refused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(args: list[str], env: dict[str, str], tmp: Path) -> str:
    """Everything the command wrote: stdout, stderr, the step summary."""
    summary, output = tmp / "summary.md", tmp / "report.out"
    summary.unlink(missing_ok=True)
    output.unlink(missing_ok=True)
    if args[0] == "probe":
        args = [*args, "--output", str(output)]
    clean = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    result = subprocess.run(
        [sys.executable, "-m", "binance_diag", *args],
        env={**clean, **env, "GITHUB_STEP_SUMMARY": str(summary), "NO_COLOR": "1"},
        capture_output=True, text=True, timeout=20000 * MS, stdin=subprocess.DEVNULL,
    )
    assert "Traceback" not in result.stderr, result.stderr
    written = result.stdout + result.stderr
    for path in (summary, output):
        if path.exists():
            written += path.read_text()
    return written


def _sources(user: str, password: str, port: int) -> list[tuple[list[str], dict[str, str]]]:
    """(arguments, environment) pairs that hand the run the credential one way each."""
    target = ["probe", "BTCUSDT", "--endpoint", f"ws://127.0.0.1:{port}", "--connect-timeout",
              "1", "--message-timeout", "1"]
    info = f"{user}:{password}"
    return [
        ([*target, "--proxy", f"http://{info}@127.0.0.1:{port}"], {}),
        ([*target, "--proxy", f"{info}@127.0.0.1:{port}"], {}),
        ([*target, "--proxy", f"http://{info}@127.0.0.1:99999"], {}),
        (target, {"WSS_PROXY": f"http://{info}@127.0.0.1:{port}"}),
        (target, {"SOCKS_PROXY": f"socks5://{info}@127.0.0.1:{port}"}),
        ([*target, "--no-proxy"], {"HTTPS_PROXY": f"http://{info}@127.0.0.1:{port}"}),
        (target, {"NO_PROXY": "127.0.0.1", "https_proxy": f"http://{info}@127.0.0.1:{port}"}),
        (["probe", "BTCUSDT", "--endpoint", f"ws://{info}@127.0.0.1:{port}"], {}),
    ]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("output_format", FORMATS)
def test_a_nasty_password_reaches_no_output_from_any_source(
        output_format: str, tmp_path: Path) -> None:
    password = "p/a#s?s@w o:r%d\"&<'"
    for args, env in _sources("alice", password, _refused_port()):
        written = _run([*args, "--format", output_format], env, tmp_path)
        for secret in (password, "alice:p"):
            assert secret not in written, (args, env, written)


@pytest.mark.timeout(120)
@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    user=st.text(alphabet=st.sampled_from("abcXYZ019" + SPECIAL.replace(":", "")),
                 min_size=4, max_size=12),
    password=st.text(alphabet=st.sampled_from("abcXYZ019" + SPECIAL), min_size=6, max_size=16)
    .filter(lambda p: any(c in SPECIAL for c in p) and any(c.isalpha() for c in p)),
    output_format=st.sampled_from(FORMATS),
    source=st.integers(min_value=0, max_value=7),
)
def test_no_generated_credential_reaches_any_output(
        user: str, password: str, output_format: str, source: int, tmp_path: Path) -> None:
    args, env = _sources(user, password, _refused_port())[source]
    written = _run([*args, "--format", output_format], env, tmp_path)
    assert password not in written, (args, env, written)
