"""Issue 20, parts 3 and 7: plain bugs an auditor hit, and formula cells in ``attack``'s CSV."""

from __future__ import annotations

import hostile_files as hf
import pandas as pd
import pytest

from fairwash.cli import main
from fairwash.cli.attack import neutralise_formulas


def run(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_check_with_ks_alone_runs_and_leaves_no_partial_folder(tmp_path, capsys):
    code, out, err = run(hf.tests_ks_check(tmp_path), capsys)
    assert code in (0, 1), err
    assert "KS" in out and "none needed" in out
    cache = tmp_path / "cache"
    assert not cache.exists() or not any(p.name.startswith("partial-") for p in cache.iterdir())


def test_risk_with_ks_alone_runs(tmp_path, capsys):
    code, out, err = run(hf.tests_ks_risk(tmp_path), capsys)
    assert code == 0, err
    assert "tests KS" in out


def test_negative_seed_names_the_option(tmp_path, capsys):
    code, _, err = run(hf.negative_seed(tmp_path), capsys)
    assert code == 2 and "argument --seed" in err and "'-1'" in err


def test_redteam_label_is_kept_in_the_report_and_warned(tmp_path, capsys):
    argv = hf.redteam_checked(tmp_path)
    code, out, err = run(argv, capsys)
    assert code in (0, 1)
    assert "RED-TEAM" in out and "warning: RED-TEAM EXERCISE" in err
    code, out, err = run([*argv, "--json"], capsys)
    assert '"redteam": "RED-TEAM EXERCISE' in out


@pytest.mark.parametrize("shape, words", [
    ("list", "expected a JSON object"),
    ("nested", "'standardizer' must hold"),
    ("threshold", "'threshold' must be a number, got a list"),
])
def test_bad_model_json_shapes_are_a_usage_error(tmp_path, capsys, shape, words):
    code, _, err = run(hf.model_json_shape(tmp_path, shape), capsys)
    assert code == 2 and words in err and "internal error" not in err


# ----------------------------------------------------------------------------- formula cells
def test_neutralise_formulas_prefixes_text_cells_only():
    frame = pd.DataFrame({"t": ["=HYPERLINK(\"http://x\")", "+1", "-cmd", "@SUM(A1)", "\tx", "\rx", "ok"],
                          "n": [-1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]})
    out, k = neutralise_formulas(frame)
    assert k == 6
    assert out["t"].tolist()[:6] == ["'" + v for v in frame["t"].tolist()[:6]]
    assert out["t"].iloc[6] == "ok" and out["n"].tolist() == frame["n"].tolist()


def test_attack_csv_holds_no_formula_cell(tmp_path, capsys):
    df = hf.decisions()
    df["note"] = "=HYPERLINK(\"http://evil.example\",\"click\")"
    df.loc[::2, "note"] = "plain"
    full = tmp_path / "full.csv"
    df.to_csv(full, index=False)
    out_file = tmp_path / "redteam.csv"
    code, out, err = run(["attack", "--full", full, *hf.DATA, "--exclude", "note", "--method", "Replace",
                          "--size", 100, "--out", out_file], capsys)
    assert code == 0, err
    assert "neutralised" in out
    body = out_file.read_text().splitlines()[1:]
    cells = [c for line in body for c in line.split(",")]
    assert not any(c.startswith(("=", "@", "+", '"=')) for c in cells)
