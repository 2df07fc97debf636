"""Issue 20, parts 4 and 6: an auditee's file cannot exhaust the auditor's machine, and a typo is
reported before any heavy import.

Every case builds its own hostile file, small (low limits stand in for the machine's), and
runs the real command line: exit status 2, a message naming the file and the limit, no
traceback, no half-finished cache folder. The cases that could hang or exhaust memory run
in a subprocess with a timeout and an address-space cap, so a regression fails the test
instead of freezing the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import hostile_files as hf
import pytest

from fairwash.cli import main
from fairwash.protocol import limits

SRC = str(Path(__file__).resolve().parents[1] / "src")
_MAIN = "import sys; from fairwash.cli import main; sys.exit(main())"


def run(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def run_sub(argv, *, timeout=120, mem_mb=3000):
    """The command in a fresh interpreter, bounded in time and address space."""
    env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))

    def cap():  # pragma: no cover -- runs in the child
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (mem_mb * 1024**2, mem_mb * 1024**2))

    return subprocess.run([sys.executable, "-c", _MAIN, *map(str, argv)], capture_output=True, text=True,
                          timeout=timeout, env=env, preexec_fn=cap)


def no_partial(root: Path) -> bool:
    return not any(p.name.startswith("partial-") for p in root.rglob("*"))


def refused(code: int, err: str, root: Path, *words: str) -> None:
    """The shape of every refusal: exit 2, the words (file, number, limit), no traceback, no partial-*."""
    assert code == 2, err
    for w in words:
        assert w in err, (w, err)
    assert "Traceback" not in err and "internal error" not in err, err
    assert no_partial(root)


def test_fifo_as_full_data_is_refused_at_once(tmp_path):
    proc = run_sub(hf.fifo_full(tmp_path), timeout=60)  # reading it would wait forever
    refused(proc.returncode, proc.stderr, tmp_path, "full.csv", "named pipe (FIFO)", "regular files only")


def test_parquet_bomb_is_refused_from_its_metadata(tmp_path):
    # 3 M rows of zeros in a few hundred KB: refused by the row count in its footer, before reading
    argv = hf.parquet_bomb(tmp_path, rows=3_000_000)
    assert (tmp_path / "bomb.parquet").stat().st_size < 2_000_000
    proc = run_sub([*argv, "--max-rows", "1000000"], mem_mb=2000)
    refused(proc.returncode, proc.stderr, tmp_path, "bomb.parquet", "3,000,000 rows by its metadata",
            "--max-rows")


def test_parquet_bomb_is_refused_by_its_memory_size(tmp_path):
    argv = hf.parquet_bomb(tmp_path, rows=2_000_000)  # 2 M x 5 x 8 bytes = 76 MiB in memory
    proc = run_sub([*argv, "--max-bytes", "20M"], mem_mb=2000)
    refused(proc.returncode, proc.stderr, tmp_path, "bomb.parquet", "would take about 76.3 MiB",
            "--max-bytes")


def test_gzip_bomb_is_stopped_at_the_byte_cap(tmp_path):
    argv = hf.gzip_bomb(tmp_path, megabytes=40)  # 40 MB of text in about 100 KB
    assert (tmp_path / "bomb.csv.gz").stat().st_size < 1_000_000
    proc = run_sub([*argv, "--max-bytes", "8M"], mem_mb=2000)
    refused(proc.returncode, proc.stderr, tmp_path, "bomb.csv.gz",
            "more than 8.0 MiB of text once decompressed", "--max-bytes")


def test_rows_past_the_limit_are_refused_with_the_numbers(tmp_path, capsys):
    argv = hf._check(*_pair(tmp_path))
    code, _, err = run([*argv, "--max-rows", "100"], capsys)
    refused(code, err, tmp_path, "full.csv", "more than 100 rows (--max-rows)")


def test_columns_past_the_limit_are_refused_before_the_body(tmp_path, capsys):
    argv = hf._check(*_pair(tmp_path))
    code, _, err = run([*argv, "--max-columns", "3"], capsys)
    refused(code, err, tmp_path, "full.csv", "5 columns, more than the limit of 3 (--max-columns)")


def test_a_csv_larger_than_the_byte_limit_is_refused_by_its_size(tmp_path, capsys):
    argv = hf._check(*_pair(tmp_path))
    code, _, err = run([*argv, "--max-bytes", "1k"], capsys)
    refused(code, err, tmp_path, "full.csv", "more than the limit of 1.0 KiB (--max-bytes)")


def _pair(root: Path) -> tuple[Path, Path]:
    full = hf.decisions()
    f, s = root / "full.csv", root / "sample.csv"
    full.to_csv(f, index=False)
    full.sample(100, random_state=1).to_csv(s, index=False)
    return f, s


def test_battery_too_large_for_memory_is_refused_with_what_would_run(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(limits, "available_memory", lambda: 100_000)  # 100 kB: W_A needs 600 x 100 x 24
    argv = hf._check(*_pair(tmp_path))
    code, out, err = run([*argv, "--protocol", "paper", "--no-cache", "--draws", "19"], capsys)
    refused(code, err, tmp_path, "W_A (exact) on 600 full rows and samples of 100 rows needs about 1.4 MiB",
            "--protocol optimal", "--w-method subref")


def test_mmd_self_term_too_large_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(limits, "MMD_MAX_EVALUATIONS", 1000)
    argv = hf._check(*_pair(tmp_path))
    code, _, err = run([*argv, "--protocol", "paper", "--no-cache", "--draws", "19"], capsys)
    refused(code, err, tmp_path, "MMD_A on 600 full rows needs 1.80e+05 kernel evaluations",
            "--protocol optimal", "--no-mmd")


def test_the_optimal_protocol_runs_where_the_battery_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(limits, "available_memory", lambda: 100_000)
    code, out, err = run(hf._check(*_pair(tmp_path)), capsys)
    assert code == 0, err
    assert "optimal" in out.lower()


def test_battery_problem_matches_the_dense_matrices():
    p = limits.battery_problem(20_000, 2_000, ["W_A", "MMD_A"], "exact")
    assert p.w_bytes == 24 * 2_000 * 20_000 and p.mmd_evaluations == 20_000**2 // 2
    assert limits.battery_problem(20_000, 2_000, ["W_A"], "subref").w_bytes == 24 * 2_000 * 5_000
    none = limits.BatteryProblem(20_000, 2_000, 0, 0)
    assert limits.battery_problem(20_000, 2_000, ["KS"], "exact") == none
    with pytest.raises(limits.SizeError, match="more than the 1.0 KiB available"):
        limits.check_battery_size(20_000, 2_000, ["W_A"], "exact", available=1024)
    limits.check_battery_size(20_000, 2_000, ["W_A"], "exact", available=10**10)  # 0.96 GB: runs


@pytest.mark.parametrize("option, value, words", [
    ("--max-rows", "0", "--max-rows"), ("--max-bytes", "lots", "--max-bytes"),
    ("--max-columns", "-3", "--max-columns"),
])
def test_limit_options_are_validated(tmp_path, capsys, option, value, words):
    code, _, err = run([*hf._check(*_pair(tmp_path)), option, value], capsys)
    assert code == 2 and words in err and "Traceback" not in err


def test_an_input_error_comes_before_any_heavy_import(tmp_path):
    """A typo in a file name is reported without importing torch, POT or even pandas (issue 20, part 6;
    the whole call takes about 0.3 s, against 0.8-1.0 s with pandas loaded first)."""
    heavy = "('torch', 'ot', 'onnxruntime', 'matplotlib', 'pandas')"
    code = ("import sys; from fairwash.cli import main; rc = main(sys.argv[1:]); "
            f"print('HEAVY', sorted(m for m in {heavy} if m in sys.modules))")
    typo = str(tmp_path / "fulll.csv")
    for sub in (["check", "--full", typo, "--sample", str(tmp_path / "s.csv"), *hf.DATA],
                ["risk", "--full", typo, *hf.DATA, "--fraction", "0.1"]):
        env = dict(os.environ, PYTHONPATH=SRC + os.pathsep + os.environ.get("PYTHONPATH", ""))
        proc = subprocess.run([sys.executable, "-c", code, *sub], capture_output=True, text=True, env=env,
                              timeout=120)
        assert "fulll.csv" in proc.stderr, proc.stderr
        assert "HEAVY []" in proc.stdout, (sub[0], proc.stdout)


def test_many_text_levels_are_bounded_by_memory_not_only_by_count(tmp_path, capsys):
    """10 000 text levels allowed by --max-levels still may not build a matrix past --max-bytes."""
    full = hf.decisions(3_000)
    full["region"] = [f"r{i}" for i in range(len(full))]  # 3 000 x (2 + 3 000) x 3 x 8 B = 206 MiB
    f, s = tmp_path / "full.csv", tmp_path / "sample.csv"
    full.to_csv(f, index=False)
    full.sample(300, random_state=2).to_csv(s, index=False)
    code, _, err = run([*hf._check(f, s), "--max-levels", "20000", "--max-bytes", "100M"], capsys)
    refused(code, err, tmp_path, "3,000 rows x 3,002 encoded feature columns", "'region' with 3,000 levels",
            "(--max-bytes)", "--exclude")
