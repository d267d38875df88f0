"""The HTML report in a real browser: Debian's `chromium`, headless, on file:// only.

Opt-in: skipped where chromium is not installed (as on CI: `apt-get install chromium`). It
checks what a person sees after the browser has parsed and laid the page out: the status,
a row per stage, the waterfall with a bar per stage that ran, the failing bar in red in the
screenshot's pixels. `BINANCE_DIAG_UPDATE_SCREENSHOT=1` also writes docs/report-html.png.

Chromium is kept off the network: a file:// URL, no proxy, no background networking, no
component update, no sync, its own empty profile.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from binance_diag.render.html import render_html
from tests.render.cases import CASES
from tests.render.dom import parse_dom
from tests.utils import ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (opt-in: "
                                                "apt-get install chromium)"),
    pytest.mark.timeout(180),
]
OFFLINE = ["--headless", "--no-sandbox", "--disable-gpu", "--no-proxy-server",
           "--disable-background-networking", "--disable-component-update", "--no-first-run",
           "--disable-sync", "--disable-extensions", "--disable-default-apps",
           "--hide-scrollbars", "--mute-audio"]
SCREENSHOT = ROOT / "docs" / "report-html.png"
RED = (0xCF, 0x22, 0x2E)  # --crit in the page's CSS: the failing bar
GREEN = (0x1A, 0x7F, 0x37)  # --ok: the bars that passed


def chromium(page: Path, profile: Path, *args: str) -> str:
    assert CHROMIUM is not None
    done = subprocess.run([CHROMIUM, *OFFLINE, f"--user-data-dir={profile}", *args,
                           page.as_uri()],
                          capture_output=True, text=True, timeout=90,
                          env={**os.environ, "HOME": str(profile)})
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def write_page(tmp_path: Path, case: str) -> Path:
    page = tmp_path / f"{case}.html"
    page.write_text(render_html(CASES[case]()), encoding="utf-8")
    return page


@pytest.mark.parametrize("case", ["tls_hang", "healthy", "restricted_location"])
def test_what_the_browser_shows(tmp_path: Path, case: str) -> None:
    report = CASES[case]()
    dom = parse_dom(chromium(write_page(tmp_path, case), tmp_path / "profile", "--dump-dom"))
    status = dom.find_all("p", lambda a: a.get("id") == "status")
    assert len(status) == 1
    headline = {"tls_hang": "FAILED at TLS handshake", "healthy": "HEALTHY",
                "restricted_location": "FAILED at WebSocket upgrade"}[case]
    assert headline in status[0].text
    rows = dom.find_all("tr", lambda a: "data-stage" in a)
    assert [r.children[0].text for r in rows] == [s.name.label for s in report.stages]
    svg = dom.find_all("svg")
    assert len(svg) == 1
    bars = svg[0].find_all("rect", lambda a: "bar" in a.get("class", "").split())
    assert [b.attrs["data-stage"] for b in bars] == \
        [s.name.value for s in report.stages if s.duration_ms is not None]
    assert not dom.find_all("script")


def test_screenshot_shows_the_failing_stage_in_red(tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    chromium(write_page(tmp_path, "tls_hang"), tmp_path / "profile",
             f"--screenshot={shot}", "--window-size=1100,1400")
    image = read_png(shot.read_bytes())
    assert (image.width, image.height) == (1100, 1400)
    assert image.count(RED) > 2000  # the TLS bar, 10 s long
    assert image.count(GREEN) > 20  # DNS and TCP: thin, but there
    healthy = tmp_path / "healthy.png"
    chromium(write_page(tmp_path, "healthy"), tmp_path / "profile",
             f"--screenshot={healthy}", "--window-size=1100,1400")
    image = read_png(healthy.read_bytes())
    assert image.count(RED) == 0 and image.count(GREEN) > 2000
    if os.environ.get("BINANCE_DIAG_UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(shot, SCREENSHOT)


@dataclass(frozen=True)
class Image:
    width: int
    height: int
    channels: int
    rows: list[bytes]

    def count(self, colour: tuple[int, int, int], tolerance: int = 12) -> int:
        """Pixels of about this colour."""
        total = 0
        for row in self.rows:
            for i in range(0, len(row), self.channels):
                if all(abs(row[i + c] - colour[c]) <= tolerance for c in range(3)):
                    total += 1
        return total


def read_png(data: bytes) -> Image:
    """An 8-bit, non-interlaced RGB or RGBA PNG (what Chromium writes), decoded without an
    imaging library."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, idat = 8, b""
    width = height = channels = 0
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        body = data[position + 8:position + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and interlace == 0 and colour in (2, 6)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        position += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        unfilter(kind, line, previous, channels)
        rows.append(bytes(line))
        previous = line
    return Image(width, height, channels, rows)


def unfilter(kind: int, line: bytearray, previous: bytearray, bpp: int) -> None:
    """Undo one row's PNG filter in place (PNG spec §9)."""
    if kind == 0:
        return
    if kind == 2:
        line[:] = bytes((a + b) & 0xFF for a, b in zip(line, previous, strict=True))
        return
    for i in range(len(line)):
        left = line[i - bpp] if i >= bpp else 0
        up = previous[i]
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + (left + up) // 2) & 0xFF
        else:
            corner = previous[i - bpp] if i >= bpp else 0
            guess = left + up - corner
            pa, pb, pc = abs(guess - left), abs(guess - up), abs(guess - corner)
            nearest = left if pa <= pb and pa <= pc else up if pb <= pc else corner
            line[i] = (line[i] + nearest) & 0xFF
