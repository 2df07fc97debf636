"""Headless Chromium for the report: a screenshot and the parsed DOM of a page (tests, screenshots)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

__all__ = ["find_chromium", "screenshot", "dump_dom", "CHROMIUM_FLAGS"]

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--force-device-scale-factor=1")


def find_chromium() -> str | None:
    """The Chromium executable (Debian's ``/usr/bin/chromium`` first), or ``None``."""
    for name in ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _run(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    exe = find_chromium()
    if exe is None:
        raise FileNotFoundError("chromium not found (Debian: apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="fairwash-chromium-") as profile:
        return subprocess.run([exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=timeout, check=True)


def screenshot(page: str | Path, out: str | Path, *, width: int = 1200, height: int = 3000,
               timeout: float = 120.0) -> Path:
    """A PNG screenshot of the HTML file ``page`` at ``width`` x ``height`` pixels, written to ``out``."""
    out = Path(out).resolve()
    _run([f"--screenshot={out}", f"--window-size={width},{height}", Path(page).resolve().as_uri()], timeout)
    if not out.is_file():
        raise RuntimeError(f"chromium wrote no screenshot to {out}")
    return out


def dump_dom(page: str | Path, *, timeout: float = 120.0) -> str:
    """The DOM of the HTML file ``page`` after Chromium parsed it (``--dump-dom``)."""
    return _run(["--dump-dom", Path(page).resolve().as_uri()], timeout).stdout
