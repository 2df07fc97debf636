"""Issue 20, part 2: no silent miscoding of a submitted sample.

Each case is a careless or hostile file made here (``tests/hostile_files.py``); before the
fix each ran to a verdict (a code 9 became S = 1, an outcome 7 became Ŷ = 0, a duplicated
column became a feature ...); now each stops with exit status 2 and a message naming the
column, the value and how many rows have it.
"""

from __future__ import annotations

import hostile_files as hf
import numpy as np
import pandas as pd
import pytest

from fairwash.cli import main
from fairwash.data.base import DataError
from fairwash.inputs import prepare, read_table


def run(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_unknown_numeric_s_code_names_column_value_and_rows(tmp_path, capsys):
    code, _, err = run(hf.s_code_unknown(tmp_path), capsys)
    assert code == 2
    assert "column 'sex' has value(s) the full data never takes: 9 (3 row(s))" in err
    assert "[0, 1]" in err


@pytest.mark.parametrize("bad", [7, -1])
def test_unknown_outcome_code_is_refused(tmp_path, capsys, bad):
    code, _, err = run(hf.outcome_code_unknown(tmp_path, bad), capsys)
    assert code == 2 and f"column 'approved' has value(s) the full data never takes: {bad} (2 row(s))" in err


def test_unknown_text_level_counts_rows(tmp_path, capsys):
    code, _, err = run(hf.text_level_unknown(tmp_path), capsys)
    assert code == 2 and "'female' (4 row(s))" in err and "'Female'" in err


def test_honest_sample_passes_the_coding_check(tmp_path):
    """The check refuses only what the full data lacks: an honest sample of every coding passes."""
    df = hf.decisions()
    df["code"] = (df["sex"] == "Male").astype(int)
    df["flag"] = df["approved"].astype(bool)
    smp = df.sample(80, random_state=1)
    cases = (("sex", "Female", "approved"), ("code", "0", "approved"), ("sex", "Female", "flag"))
    for sens, s0, outcome in cases:
        rest = [c for c in ("sex", "code") if c != sens]
        full, sample, _ = prepare(df, smp, sensitive=sens, outcome=outcome, s0=s0,
                                  exclude=[*rest, *(["approved"] if outcome == "flag" else ["flag"])])
        assert sample is not None and sample.n == 80
        np.testing.assert_array_equal(sample.S, (smp[sens].astype(str) != s0).astype(int).to_numpy())


def test_threshold_rule_accepts_any_number(tmp_path):
    """With --s-threshold the sensitive column is cut, not coded: a new age is not an error."""
    df = hf.decisions()
    df["age"] = np.arange(len(df)) % 60 + 18
    smp = df.sample(50, random_state=2).copy()
    smp.iloc[0, smp.columns.get_loc("age")] = 101
    _, sample, _ = prepare(df, smp, sensitive="age", outcome="approved", s_threshold=25, exclude=["sex"])
    assert sample.S[0] == 1


def test_duplicated_csv_column_is_refused_before_pandas_renames_it(tmp_path, capsys):
    code, _, err = run(hf.duplicated_csv_column(tmp_path), capsys)
    assert code == 2 and "names the column(s) ['sex'] more than once" in err


def test_features_also_excluded_are_refused(tmp_path, capsys):
    code, _, err = run(hf.features_all_excluded(tmp_path), capsys)
    assert code == 2 and "--features and --exclude both name ['income']" in err


def test_level_below_one_half_is_refused_with_the_reason(tmp_path, capsys):
    code, _, err = run(hf.level_tiny(tmp_path), capsys)
    assert code == 2 and "reject about 99 % of honest samples" in err and "--level 0.99" in err


def test_mean_std_with_two_draws_is_refused_with_the_reason(tmp_path, capsys):
    code, _, err = run(hf.mean_std_two_draws(tmp_path), capsys)
    assert code == 2 and "standard deviation of 2 draw(s)" in err and "--draws 10" in err


def test_infinite_value_is_called_infinite(tmp_path, capsys):
    code, _, err = run(hf.infinite_value(tmp_path), capsys)
    assert code == 2 and "column 'score' has 1 infinite value(s)" in err and "NaN" not in err


@pytest.mark.parametrize("case, words", [
    (hf.question_mark, ["holds numbers except for '?' (12 row(s))", "placeholder"]),
    (hf.thousands_separator, ["thousands separators (e.g. '", ",", "600 row(s)"]),
])
def test_numbers_read_as_text_are_explained(tmp_path, capsys, case, words):
    code, _, err = run(case(tmp_path), capsys)
    assert code == 2 and "identifier" not in err
    for w in words:
        assert w in err


def test_a_real_identifier_is_still_called_one(tmp_path):
    df = hf.decisions()
    df["name"] = [f"person-{i}" for i in range(len(df))]
    with pytest.raises(DataError, match="looks like an identifier"):
        prepare(df, None, sensitive="sex", s0="Female", outcome="approved")


def test_semicolon_file_gets_a_sep_hint_and_reads_with_it(tmp_path, capsys):
    argv = hf.semicolon_file(tmp_path)
    code, _, err = run(argv, capsys)
    assert code == 2 and "--sep ';'" in err
    code, out, err = run([*argv, "--sep", ";"], capsys)
    assert code in (0, 1) and "REPRESENTATIVE" in out


def test_latin1_file_gets_an_encoding_hint_and_reads_with_it(tmp_path, capsys):
    argv = hf.latin1_file(tmp_path)
    code, _, err = run(argv, capsys)
    assert code == 2 and "not utf-8 text (byte 0xE9" in err and "--encoding latin-1" in err
    code, out, err = run([*argv, "--encoding", "latin-1"], capsys)
    assert code in (0, 1), err
    frame = read_table(tmp_path / "full.csv", encoding="latin-1")
    assert "région" in frame.columns and "est-é" in set(frame["région"])


def test_unknown_encoding_is_named(tmp_path):
    p = tmp_path / "a.csv"
    pd.DataFrame({"a": [1]}).to_csv(p, index=False)
    with pytest.raises(DataError, match="--encoding klingon: not an encoding"):
        read_table(p, encoding="klingon")
