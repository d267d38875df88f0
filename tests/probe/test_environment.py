"""The report's environment: proxy variables shown, their passwords never."""

from __future__ import annotations

import pytest

from binance_diag.probe.environment import redact_url


@pytest.mark.parametrize(("url", "shown"), [
    ("http://alice:s3cret@proxy.example:3128", "http://alice:***@proxy.example:3128"),
    ("http://alice:s3cret@[::1]:3128", "http://alice:***@[::1]:3128"),
    ("socks5h://bob@127.0.0.1:1080", "socks5h://bob@127.0.0.1:1080"),
    ("http://proxy.example:3128", "http://proxy.example:3128"),
    ("http://[::1", "<unparsable>"),
])
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown
    assert "s3cret" not in redact_url(url)
