from __future__ import annotations

import pytest

from binance_diag.config.errors import ConfigError
from binance_diag.diagnose.thresholds import parse_thresholds
from binance_diag.model import StageName


def test_parses_stages_aliases_and_units() -> None:
    thresholds = parse_thresholds(["tls=500", "upgrade=250ms", "dns=12.5"], ["tls=900"])
    assert thresholds.warn == {StageName.TLS: 500.0, StageName.WS_UPGRADE: 250.0,
                               StageName.DNS: 12.5}
    assert thresholds.crit == {StageName.TLS: 900.0}


@pytest.mark.parametrize(
    ("warn", "crit", "message"),
    [
        (["tls"], [], "expected STAGE=MS"),
        (["tsl=5"], [], "invalid --warn stage 'tsl'"),
        ([], ["tls=abc"], "is not a number"),
        (["tls=0"], [], "above 0"),
        (["tls=nan"], [], "above 0"),
        (["tls=-5"], [], "above 0"),
        (["tls=900"], ["tls=500"], "--warn tls=900 is above --crit tls=500"),
    ],
)
def test_bad_thresholds_are_config_errors(warn: list[str], crit: list[str],
                                          message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        parse_thresholds(warn, crit)


def test_a_tiny_threshold_is_not_printed_as_zero() -> None:
    from binance_diag.model import Thresholds
    from tests.reports import make_report

    report = make_report(thresholds=Thresholds(warn={StageName.TLS: 0.001}))
    titles = [f.title for f in report.findings if f.id == "threshold.warning"]
    assert titles and titles[0].endswith("over the warning threshold 0.001 ms")
