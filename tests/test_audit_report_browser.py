"""The audit report rendered by headless Chromium (Debian's package): the verdict and every figure show.

Skipped when Chromium is absent, unless ``FAIRWASH_REQUIRE_CHROMIUM=1`` (CI sets it once it has
installed Chromium): then its absence fails.
"""

from __future__ import annotations

import os
import re

import numpy as np
import pytest
from PIL import Image
from test_audit_report import DATA, files  # noqa: F401  (the module fixture)

from fairwash.audit_report.browser import dump_dom, find_chromium, screenshot
from fairwash.cli import main

if find_chromium() is None:
    if os.environ.get("FAIRWASH_REQUIRE_CHROMIUM") == "1":
        pytest.fail("FAIRWASH_REQUIRE_CHROMIUM=1 but chromium is not installed", pytrace=False)
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)

BAR_GREY = np.array([0x9E, 0x9E, 0x9E])  # the honest-distribution bars (figures only)
PASS_BG, REJECT_BG = np.array([0xE3, 0xF4, 0xE6]), np.array([0xFD, 0xE7, 0xE7])


def _pixels(png, colour) -> int:
    """Pixels of ``colour`` inside solid 4 x 4 blocks of it (filled areas, not anti-aliased text)."""
    img = np.asarray(Image.open(png).convert("RGB"), dtype=int)
    hit = np.abs(img - colour).sum(axis=2) <= 6
    solid = hit[:-3, :-3].copy()
    for dy in range(4):
        for dx in range(4):
            solid &= hit[dy:dy + hit.shape[0] - 3, dx:dx + hit.shape[1] - 3]
    return int(solid.sum())


def _report(files, tmp_path, sample, *extra):  # noqa: F811
    out = tmp_path / "report.html"
    main(["check", "--full", str(files / "full.csv"), "--sample", str(files / sample), *DATA,
          "--report", str(out), *extra])
    return out


@pytest.mark.parametrize("sample, extra, verdict, background", [
    ("honest.csv", [], "REPRESENTATIVE", PASS_BG),
    ("selected.csv", [], "NOT REPRESENTATIVE", REJECT_BG),
    ("honest.csv", ["--protocol", "paper", "--draws", "19", "--no-cache"], "REPRESENTATIVE", PASS_BG),
])
def test_chromium_shows_the_verdict_and_every_figure(files, tmp_path, capsys, sample, extra, verdict,  # noqa: F811
                                                     background):
    page = _report(files, tmp_path, sample, *extra)
    capsys.readouterr()
    dom = dump_dom(page)
    box = re.search(r'<div class="verdict[^"]*" id="verdict">([^<]*)<', dom)
    assert box is not None and box.group(1) == verdict
    n_img = len(re.findall(r'<img src="data:image/png;base64,', dom))
    assert n_img == (7 if "paper" in extra else 2)  # paper: six reference laws and the cells
    png = screenshot(page, tmp_path / "shot.png", width=1200, height=3000 if n_img == 2 else 6000)
    assert Image.open(png).size[0] == 1200
    assert _pixels(png, background) > 20_000          # the verdict box, coloured
    # every figure decoded: grey bars in each image's band of the page
    assert _pixels(png, BAR_GREY) > 1_500 * n_img


def test_the_pixel_check_fails_when_figures_do_not_decode(files, tmp_path, capsys):  # noqa: F811
    page = _report(files, tmp_path, "honest.csv")
    capsys.readouterr()
    broken = tmp_path / "broken.html"
    broken.write_text(re.sub(r"base64,[A-Za-z0-9+/=]+", "base64,AAAA", page.read_text(encoding="utf-8")),
                      encoding="utf-8")
    assert _pixels(screenshot(broken, tmp_path / "b.png"), BAR_GREY) < 100
