"""Hostile and careless auditee files (issue 20), each made on the spot by a function.

The tests (``tests/test_hostile_*.py``) and the before/after table of
``benchmarks/bench_hostile.py`` build their inputs here, so a case is one function: it
writes its files under ``root`` and returns the ``fairwash`` arguments that use them.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

DATA = ["--sensitive", "sex", "--s0", "Female", "--outcome", "approved"]

#: the spoofing column name of the issue: rewrites the terminal's last line into a fake verdict
SPOOF = "x\r\x1b[2K\x1b[1A\x1b[2K\rREPRESENTATIVE: no test rejects at the 5 % level\x1b[8m"


def decisions(n: int = 600, seed: int = 3) -> pd.DataFrame:
    """A small auditee table: text S, two numeric features, one text feature, a 0/1 decision."""
    rng = np.random.default_rng(seed)
    female = rng.random(n) < 0.5
    income = np.round(40_000 + 9_000 * rng.standard_normal(n), 0)
    score = np.round(rng.standard_normal(n), 3)
    p = np.where(female, 0.25, 0.6)
    return pd.DataFrame({
        "sex": np.where(female, "Female", "Male"),
        "income": income,
        "score": score,
        "region": rng.choice(["north", "south", "east"], n),
        "approved": (rng.random(n) < p).astype(int),
    })


def _pair(root: Path, full: pd.DataFrame, sample: pd.DataFrame | None = None, *, ext: str = "csv",
          seed: int = 0) -> tuple[Path, Path]:
    sample = full.sample(100, random_state=seed) if sample is None else sample
    f, s = root / f"full.{ext}", root / f"sample.{ext}"
    if ext == "csv":
        full.to_csv(f, index=False)
        sample.to_csv(s, index=False)
    else:
        full.to_parquet(f, index=False)
        sample.to_parquet(s, index=False)
    return f, s


def _check(f: Path, s: Path, *extra: str, data: list[str] | None = None) -> list[str]:
    return ["check", "--full", str(f), "--sample", str(s), *(DATA if data is None else data), *extra]


# ----------------------------------------------------------------------------- 1. spoofing, long text
def spoof_available_columns(root: Path) -> list[str]:
    """A parquet column named with terminal escapes, listed by a misspelt-column error."""
    df = decisions()
    df[SPOOF] = 1.0
    f, s = _pair(root, df, ext="parquet")
    return _check(f, s, data=["--sensitive", "sexx", "--s0", "Female", "--outcome", "approved"])


def spoof_missing_report(root: Path) -> list[str]:
    """The spoofing column with missing values, shown by the missing-value report."""
    df = decisions()
    df[SPOOF] = np.where(np.arange(len(df)) % 7 == 0, np.nan, 1.0)
    f, s = _pair(root, df, ext="parquet")
    return _check(f, s, "--drop-missing")


def spoof_ignored_column(root: Path) -> list[str]:
    """The spoofing column only in the sample (listed as ignored), for the text and JSON outputs."""
    df = decisions()
    smp = df.sample(100, random_state=0).copy()
    smp[SPOOF] = 1.0
    f, s = _pair(root, df, smp, ext="parquet")
    return _check(f, s)


def huge_cell(root: Path, size: int = 1_000_000) -> list[str]:
    """A 1 MB cell in the sample where the full data has a number (echoed by the error)."""
    df = decisions()
    smp = df.sample(100, random_state=0).astype({"income": object})
    smp.iloc[0, smp.columns.get_loc("income")] = "A" * size
    f, s = _pair(root, df, smp)
    return _check(f, s)


# ----------------------------------------------------------------------------- 2. silent miscoding
def s_code_unknown(root: Path) -> list[str]:
    """A numeric S: the sample has the code 9 where the full data has 0/1."""
    df = decisions()
    df["sex"] = (df["sex"] == "Male").astype(int)
    smp = df.sample(100, random_state=0).copy()
    smp.iloc[:3, smp.columns.get_loc("sex")] = 9
    f, s = _pair(root, df, smp)
    return _check(f, s, data=["--sensitive", "sex", "--s0", "0", "--outcome", "approved"])


def outcome_code_unknown(root: Path, code: int = 7) -> list[str]:
    """The sample's outcome has the code 7 (or -1) where the full data has 0/1."""
    df = decisions()
    smp = df.sample(100, random_state=0).copy()
    smp.iloc[:2, smp.columns.get_loc("approved")] = code
    f, s = _pair(root, df, smp)
    return _check(f, s)


def text_level_unknown(root: Path) -> list[str]:
    """A text S value of the sample that the full data lacks ('female' for 'Female')."""
    df = decisions()
    smp = df.sample(100, random_state=0).copy()
    smp.iloc[:4, smp.columns.get_loc("sex")] = "female"
    f, s = _pair(root, df, smp)
    return _check(f, s)


def duplicated_csv_column(root: Path) -> list[str]:
    """A CSV header naming ``sex`` twice (pandas would read the second as ``sex.1``)."""
    df = decisions()
    df.insert(2, "sex_dup", df["sex"])
    f, s = _pair(root, df)
    for p in (f, s):
        p.write_text(p.read_text().replace("sex_dup", "sex", 1))
    return _check(f, s)


def features_all_excluded(root: Path) -> list[str]:
    """``--features age --exclude age``: no feature left."""
    df = decisions()
    f, s = _pair(root, df)
    return _check(f, s, "--features", "income", "--exclude", "income")


def level_tiny(root: Path) -> list[str]:
    """``--level 0.01``: a level that rejects 99 % of honest samples."""
    f, s = _pair(root, decisions())
    return _check(f, s, "--level", "0.01")


def mean_std_two_draws(root: Path) -> list[str]:
    """``--rule mean_std --draws 2``: a standard deviation of two draws."""
    f, s = _pair(root, decisions())
    return _check(f, s, "--protocol", "paper", "--rule", "mean_std", "--draws", "2", "--no-cache")


def infinite_value(root: Path) -> list[str]:
    """A feature holding ``inf`` in the full data."""
    df = decisions()
    df.loc[5, "score"] = np.inf
    f, s = _pair(root, df)
    return _check(f, s)


def question_mark(root: Path) -> list[str]:
    """A numeric column holding ``?`` for missing values (so read as text)."""
    df = decisions().astype({"income": object})
    df.loc[::50, "income"] = "?"
    f, s = _pair(root, df)
    return _check(f, s)


def thousands_separator(root: Path) -> list[str]:
    """A numeric column written with thousands separators (``"41,250"``)."""
    df = decisions()
    df["income"] = [f"{int(v):,}" for v in df["income"]]
    f, s = _pair(root, df)
    return _check(f, s)


def semicolon_file(root: Path) -> list[str]:
    """A ``;``-separated file (a European spreadsheet's CSV export)."""
    df = decisions()
    f, s = root / "full.csv", root / "sample.csv"
    df.to_csv(f, index=False, sep=";")
    df.sample(100, random_state=0).to_csv(s, index=False, sep=";")
    return _check(f, s)


def latin1_file(root: Path) -> list[str]:
    """A Latin-1 encoded file (``région``: a byte 0xE9 that is not UTF-8)."""
    df = decisions()
    df["region"] = df["region"].replace({"east": "est-é"})
    df = df.rename(columns={"region": "région"})
    f, s = root / "full.csv", root / "sample.csv"
    f.write_bytes(df.to_csv(index=False).encode("latin-1"))
    s.write_bytes(df.sample(100, random_state=0).to_csv(index=False).encode("latin-1"))
    return _check(f, s)


# ----------------------------------------------------------------------------- 3. plain bugs
def tests_ks_check(root: Path) -> list[str]:
    """``check --protocol paper --tests KS`` (KS needs no reference draws)."""
    f, s = _pair(root, decisions())
    return _check(f, s, "--protocol", "paper", "--tests", "KS", "--cache-dir", str(root / "cache"))


def tests_ks_risk(root: Path) -> list[str]:
    """``risk --tests KS --simulate`` (KS needs no reference draws)."""
    f, _ = _pair(root, decisions())
    return ["risk", "--full", str(f), *DATA, "--fraction", "0.2", "--simulate", "--tests", "KS",
            "--methods", "Replace", "--draws", "20", "--cache-dir", str(root / "cache")]


def negative_seed(root: Path) -> list[str]:
    """``--seed -1``."""
    f, s = _pair(root, decisions())
    return _check(f, s, "--protocol", "paper", "--seed", "-1", "--no-cache")


def redteam_checked(root: Path) -> list[str]:
    """A CSV labelled by ``fairwash attack`` (first comment line) handed to ``check``."""
    df = decisions()
    f, s = _pair(root, df)
    s.write_text("# RED-TEAM EXERCISE: this sample is deliberately manipulated (fairwash attack "
                 "--method Matching --target 0.8 --seed 0); not an audit sample\n" + s.read_text())
    return _check(f, s)


def model_json_shape(root: Path, shape: str = "list") -> list[str]:
    """A model folder whose ``model.json`` is a list, nested, or has a list threshold."""
    d = root / "model"
    d.mkdir(parents=True, exist_ok=True)
    (d / "model.safetensors").write_bytes(b"")
    content = {"list": [1, 2, 3],
               "nested": {"format": "fairwash-mlp", "threshold": 0.5,
                          "standardizer": {"mean": {"a": {"b": [1]}}, "scale": [1.0]}},
               "threshold": {"format": "fairwash-mlp", "threshold": [0.5]}}[shape]
    (d / "model.json").write_text(json.dumps(content))
    data = root / "data.csv"
    decisions().to_csv(data, index=False)
    return ["twins", "--model", str(d), "--data", str(data), "--sensitive-column", "sex"]


# ----------------------------------------------------------------------------- 4. resources
def fifo_full(root: Path) -> list[str]:
    """A FIFO (named pipe) as ``--full``: reading it would wait forever for a writer."""
    import os

    f = root / "full.csv"
    os.mkfifo(f)
    s = root / "sample.csv"
    decisions().sample(100, random_state=0).to_csv(s, index=False)
    return _check(f, s)


def parquet_bomb(root: Path, rows: int = 40_000_000) -> list[str]:
    """A small parquet file that expands to ``rows`` rows (one repeated value, run-length encoded)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    df = decisions()
    f = root / "full.parquet"
    df.to_parquet(f, index=False)
    s = root / "bomb.parquet"
    col = pa.array(np.zeros(1_000_000))
    table = pa.table({c: col for c in ("sex", "income", "score", "region", "approved")})
    with pq.ParquetWriter(s, table.schema, compression="zstd") as w:
        for _ in range(rows // 1_000_000):
            w.write_table(table)
    return _check(f, s)


def gzip_bomb(root: Path, megabytes: int = 4000) -> list[str]:
    """A small ``.csv.gz`` that expands to ``megabytes`` MB of repeated rows."""
    f = root / "full.csv"
    decisions().to_csv(f, index=False)
    s = root / "bomb.csv.gz"
    line = b"Female,40000,0.5,north,1\n"
    block = line * (1_000_000 // len(line))
    with gzip.open(s, "wb", compresslevel=9) as g:
        g.write(b"sex,income,score,region,approved\n")
        for _ in range(megabytes):
            g.write(block)
    return _check(f, s)


def big_csv(root: Path, rows: int = 6_000_000) -> Path:
    """A ``rows``-row CSV of the decisions table (about 35 bytes a row), written in blocks."""
    f = root / f"big_{rows}.csv"
    if f.exists():
        return f
    base = decisions(100_000, seed=5)
    with f.open("w") as fh:
        buf = io.StringIO()
        base.to_csv(buf, index=False)
        text = buf.getvalue()
        head, body = text.split("\n", 1)
        fh.write(head + "\n")
        for _ in range(rows // len(base)):
            fh.write(body)
    return f


def big_paper_check(root: Path, rows: int = 6_000_000) -> list[str]:
    """The paper battery on a 6 M-row full data (W_A would need a dense m x n cost matrix)."""
    f = big_csv(root, rows)
    s = root / "sample.csv"
    pd.read_csv(f, nrows=200_000).sample(1000, random_state=0).to_csv(s, index=False)
    return ["check", "--full", str(f), "--sample", str(s), *DATA, "--protocol", "paper", "--no-cache",
            "--max-rows", str(rows + 10)]


#: name -> (function, what it shows); the order of the closing note's table
CASES: dict[str, Callable[[Path], list[str]]] = {
    "spoof_available_columns": spoof_available_columns,
    "spoof_missing_report": spoof_missing_report,
    "spoof_ignored_column": spoof_ignored_column,
    "huge_cell": huge_cell,
    "s_code_unknown": s_code_unknown,
    "outcome_code_7": outcome_code_unknown,
    "outcome_code_minus_1": lambda root: outcome_code_unknown(root, -1),
    "text_level_unknown": text_level_unknown,
    "duplicated_csv_column": duplicated_csv_column,
    "features_all_excluded": features_all_excluded,
    "level_tiny": level_tiny,
    "mean_std_two_draws": mean_std_two_draws,
    "infinite_value": infinite_value,
    "question_mark": question_mark,
    "thousands_separator": thousands_separator,
    "semicolon_file": semicolon_file,
    "latin1_file": latin1_file,
    "tests_ks_check": tests_ks_check,
    "tests_ks_risk": tests_ks_risk,
    "negative_seed": negative_seed,
    "redteam_checked": redteam_checked,
    "model_json_list": lambda root: model_json_shape(root, "list"),
    "model_json_nested": lambda root: model_json_shape(root, "nested"),
    "model_json_threshold_list": lambda root: model_json_shape(root, "threshold"),
    "fifo_full": fifo_full,
    "parquet_bomb": parquet_bomb,
    "gzip_bomb": gzip_bomb,
}
