"""Progress bars: drawn in a terminal, never in a log or on CI, never when switched off."""

from __future__ import annotations

import io

import pytest

from fairwash.progress import progress_bar, show_progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("tty", "ci", "progress", "expected"),
    [
        (True, "", None, True),
        (True, "", True, True),
        (True, "", False, False),
        (True, "true", True, False),  # CI wins over the config
        (False, "", True, False),  # a log file
        (False, "", None, False),
    ],
)
def test_show_progress(monkeypatch, tty, ci, progress, expected):
    monkeypatch.setattr("sys.stderr", _Terminal() if tty else io.StringIO())
    monkeypatch.setenv("CI", ci)
    assert show_progress(progress) is expected


def test_progress_bar_draws_only_in_a_terminal(monkeypatch):
    term = _Terminal()
    monkeypatch.setattr("sys.stderr", term)
    monkeypatch.delenv("CI", raising=False)
    assert list(progress_bar(range(3), desc="steps", mininterval=0)) == [0, 1, 2]
    assert "steps" in term.getvalue()
    log = io.StringIO()
    monkeypatch.setattr("sys.stderr", log)
    items = range(3)
    assert progress_bar(items, progress=True) is items
    assert log.getvalue() == ""
