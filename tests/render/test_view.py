"""The shared report view: what every format says about the environment (pure)."""

from __future__ import annotations

from binance_diag.render.markup import plain
from binance_diag.render.view import environment_line, proxy_line

ENV_PROXY = "http://127.0.0.1:3128"


def test_a_proxy_from_the_environment_is_named_with_its_variable() -> None:
    line = plain(proxy_line({"proxy": ENV_PROXY, "proxy_reason": "HTTPS_PROXY",
                             "websockets_proxy": ENV_PROXY}))
    assert line == (f"proxy: {ENV_PROXY} (from HTTPS_PROXY); websockets.connect() picks it up "
                    "from the environment too")


def test_no_proxy_used_while_websockets_would_use_one() -> None:
    line = plain(proxy_line({"proxy": None, "proxy_reason": "proxy disabled by --no-proxy",
                             "websockets_proxy": ENV_PROXY,
                             "proxy_environment": {"HTTPS_PROXY": ENV_PROXY}}))
    assert line == (f"proxy: none used (proxy disabled by --no-proxy); environment has "
                    f"HTTPS_PROXY={ENV_PROXY}; websockets.connect() would use {ENV_PROXY} "
                    "unless given proxy=None")


def test_an_explicit_proxy_that_differs_from_the_environment() -> None:
    line = plain(proxy_line({"proxy": "socks5://127.0.0.1:1080", "proxy_reason": "--proxy",
                             "websockets_proxy": ENV_PROXY}))
    assert line.endswith(f"websockets.connect() would use {ENV_PROXY} from the environment "
                         "instead")


def test_no_proxy_anywhere() -> None:
    assert proxy_line({}) == "proxy: none (no HTTPS_PROXY/ALL_PROXY set)"
    assert environment_line({"tool": "0.1.0"}).endswith(
        " · proxy: none (no HTTPS_PROXY/ALL_PROXY set)")


def test_an_interrupted_run_says_so_not_healthy() -> None:
    """A signal during TLS: the stages before passed, none failed, the exit code is 130."""
    from dataclasses import replace

    from binance_diag.model import StageName, StageStatus
    from binance_diag.render.view import report_view
    from tests.reports import make_report

    report = make_report()
    stages = []
    for stage in report.stages:
        if stage.name is StageName.TLS:
            stage = replace(stage, status=StageStatus.SKIPPED, duration_ms=None, details={
                "reason": "interrupted by SIGINT after 120 ms, before it ended",
                "interrupted": "SIGINT", "interrupted_after_ms": 120.0})
        elif stage.name in (StageName.WS_UPGRADE, StageName.FIRST_MESSAGE):
            stage = replace(stage, status=StageStatus.SKIPPED, duration_ms=None, details={
                "reason": "not reached: the run was interrupted by SIGINT"})
        stages.append(stage)
    view = report_view(replace(report, stages=tuple(stages), findings=()))
    assert view.headline.startswith("INTERRUPTED at ") and "by SIGINT" in view.headline
    assert "HEALTHY" not in view.headline
    assert report_view(report).headline.startswith("HEALTHY")
