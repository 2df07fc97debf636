"""Issue 20, part 1: a string from an auditee's file cannot spoof the terminal or flood it.

Every case writes its own hostile file (``tests/hostile_files.py``) and runs ``fairwash``
in-process; the assertion is on what reached stdout / stderr.
"""

from __future__ import annotations

import json

import hostile_files as hf
import pytest

from fairwash.cli import main
from fairwash.text import MESSAGE_LIMIT, quoted, shown, shown_list

ESC = "\x1b"


def run(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def _no_control(text: str) -> bool:
    return not any(c in text for c in (ESC, "\r", "\x08", "\x07"))


# ----------------------------------------------------------------------------- the sanitiser
@pytest.mark.parametrize("bad", [ESC, "\r", "\x00", "\x08", "\u202e", "\x9b", "\n"])
def test_shown_escapes_every_control_character(bad):
    text = shown(f"a{bad}b")
    assert bad not in text and text.startswith("a") and text.endswith("b")
    assert all(c.isprintable() for c in text)


def test_shown_keeps_newlines_only_when_asked_and_bounds_length():
    assert shown("a\nb", newlines=True) == "a\nb"
    assert "\n" not in shown("a\nb")
    long = shown("x" * 10_000, 50)
    assert len(long) < 80 and "(+9950 characters)" in long


def test_shown_is_idempotent_on_printable_text():
    once = shown(hf.SPOOF)
    assert shown(once) == once and _no_control(once)
    assert quoted("a\x1b") == "'a\\x1b'"
    assert shown_list(["a"] * 30, limit=3).endswith("... (27 more)]")


# ----------------------------------------------------------------------------- the command line
def test_spoofing_column_in_the_available_columns_list_is_escaped(tmp_path, capsys):
    code, out, err = run(hf.spoof_available_columns(tmp_path), capsys)
    assert code == 2
    assert "no sensitive column 'sexx'" in err and "did you mean 'sex'" in err
    assert _no_control(err + out)
    assert "\\x1b[2K" in err  # the name is shown, escaped, not dropped


def test_spoofing_column_in_the_missing_value_report_is_escaped(tmp_path, capsys):
    code, out, err = run(hf.spoof_missing_report(tmp_path), capsys)
    assert code in (0, 1)
    assert "missing" in out and "\\x1b[2K" in out
    assert _no_control(out + err)
    verdicts = [ln for ln in out.splitlines() if ln.startswith(("REPRESENTATIVE", "NOT REPRESENTATIVE"))]
    assert len(verdicts) == 1  # the real verdict, once; the name's fake one is inside an escaped line


def test_spoofing_column_without_drop_missing_is_refused_escaped(tmp_path, capsys):
    argv = hf.spoof_missing_report(tmp_path)
    argv.remove("--drop-missing")
    code, out, err = run(argv, capsys)
    assert code == 2 and "missing values" in err and _no_control(err)


def test_spoofing_column_in_json_and_paper_report(tmp_path, capsys):
    argv = hf.spoof_ignored_column(tmp_path)
    code, out, err = run([*argv, "--json"], capsys)
    assert code in (0, 1) and _no_control(out + err)
    ignored = json.loads(out)["inputs"]["ignored_columns"]
    assert ignored == [shown(hf.SPOOF)]
    code, out, err = run([*argv, "--protocol", "paper", "--draws", "20", "--tests", "KS,KL_P",
                          "--cache-dir", tmp_path / "cache"], capsys)
    assert code in (0, 1) and _no_control(out + err) and "ignored" in out


def test_a_huge_cell_is_not_echoed_whole(tmp_path, capsys):
    code, out, err = run(hf.huge_cell(tmp_path), capsys)
    assert code == 2
    assert "non-numeric value(s)" in err and "characters)" in err
    assert len(err) < MESSAGE_LIMIT + 200  # 1 MB cell, a bounded message


def test_error_messages_are_bounded_and_escaped_at_the_last_gate(capsys, monkeypatch):
    from fairwash.cli import app
    from fairwash.data.base import DataError

    def boom(args, out):
        raise DataError("x\x1b[2K" + "y" * 100_000)

    parser = app.build_parser()
    args = parser.parse_args(["twins", "--demo"])
    args.func = boom
    monkeypatch.setattr(app, "build_parser", lambda: type("P", (), {"parse_args": lambda self, a: args})())
    code = app.main([])
    _, err = capsys.readouterr()
    assert code == 2 and _no_control(err) and len(err) < MESSAGE_LIMIT + 200
