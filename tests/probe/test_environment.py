"""The report's environment: proxy variables shown, their passwords never."""

from __future__ import annotations

import pytest

from binance_diag.probe.environment import redact_url


@pytest.mark.parametrize(("url", "shown"), [
    ("http://alice:s3cret@proxy.example:3128", "http://***@proxy.example:3128"),
    ("http://alice:s3cret@[::1]:3128", "http://***@[::1]:3128"),
    ("socks5h://bob@127.0.0.1:1080", "socks5h://***@127.0.0.1:1080"),
    ("http://proxy.example:3128", "http://proxy.example:3128"),
    ("http://[::1", "http://[::1"),
])
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown
    assert "s3cret" not in redact_url(url)


def test_redact_url_masks_credentials_a_url_parser_would_cut() -> None:
    for url in ("http://bob:p@ss/w#rd?x y@[::1", "http://bob:p/w@host:1", "bob:pw@host:3128"):
        assert "p" not in redact_url(url).partition("@")[0].removeprefix("http://"), url
