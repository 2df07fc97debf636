"""Hostile auditee files (issue 20): exit status, first message line, time and peak memory.

Runs every case of ``tests/hostile_files.py`` as a ``fairwash`` subprocess with the source
tree given by ``--src`` first on ``PYTHONPATH`` (default: this tree's ``src``), under the
default limits. Each run is started by a small fresh wrapper interpreter that caps the
command's address space (``--mem-cap``), waits for it and reports
``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``: the peak resident memory of that one
command. The "before" column quotes what issue 20 measured on the code before the fixes
(2026-12-01); ``--src`` may be repeated to rerun an old tree beside the current one:

    python benchmarks/bench_hostile.py --big --out /tmp/hostile.md
    git archive a774038 src | tar -x -C /tmp/before     # the code before the fixes
    python benchmarks/bench_hostile.py --src before=/tmp/before/src --src after=src \\
        --cases spoof_available_columns,s_code_unknown --timeout 30

Cases run one after the other, never in parallel, so the big ones (the 6 M-row CSV and the
two bombs) do not compete for memory. A case that runs longer than ``--timeout`` seconds is
stopped and reported as such.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from hostile_files import CASES, big_paper_check  # noqa: E402  (the fixtures live with the tests)

#: the wrapper: caps the command's address space, runs it, prints its peak RSS (kB) last on stderr
_WRAPPER = r"""
import resource, subprocess, sys
cap = int(sys.argv[1]) * 1024 ** 2
def limit():
    if cap:
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
code = subprocess.call([sys.executable, "-c",
                        "import sys; from fairwash.cli import main; sys.exit(main())", *sys.argv[2:]],
                       preexec_fn=limit)
sys.stderr.write("\nFW-PEAK-KB %d\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(code)
"""

#: what issue 20 reports for each case on the code before the fixes (2026-12-01)
BEFORE: dict[str, str] = {
    "spoof_available_columns": "column list printed raw: a fake REPRESENTATIVE line drawn",
    "spoof_missing_report": "column name printed raw (terminal escapes run)",
    "spoof_ignored_column": "column name printed raw (terminal escapes run)",
    "huge_cell": "the whole cell echoed to stderr (30 MB)",
    "s_code_unknown": "accepted: 9 silently read as S = 1",
    "outcome_code_7": "accepted: 7 silently read as 0",
    "outcome_code_minus_1": "accepted: -1 silently read as 0",
    "text_level_unknown": "(not in the issue's list)",
    "duplicated_csv_column": "accepted: the copy became a feature `sex.1`",
    "features_all_excluded": "accepted: ran with zero features",
    "level_tiny": "accepted without a word",
    "mean_std_two_draws": "accepted without a word",
    "infinite_value": "called \"missing values (NaN)\"",
    "question_mark": "called \"an identifier\"",
    "thousands_separator": "called \"an identifier\"",
    "semicolon_file": "no --sep hint",
    "latin1_file": "no --encoding hint",
    "tests_ks_check": "always \"tests is empty\"; a partial-* folder left",
    "tests_ks_risk": "always \"tests is empty\"",
    "negative_seed": "message does not name --seed",
    "redteam_checked": "RED-TEAM label dropped silently",
    "model_json_list": "exit 3",
    "model_json_nested": "exit 3",
    "model_json_threshold_list": "exit 3",
    "fifo_full": "hangs forever",
    "parquet_bomb": "683 KB file took 5 GB",
    "gzip_bomb": "4.4 MB file took 8.3 GB",
    "big_paper_check_6M": "3.7 GB to read, then MemoryError (22.4 GiB) \"this is a bug\"",
}


def _first_line(text: str, work: str = "", limit: int = 110) -> str:
    """The message's first error line (else its first line), escapes shown, temp folder elided."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    errors = [ln for ln in lines if "error:" in ln or "Error" in ln]
    first = (errors or lines or [""])[0].replace(work, "<tmp>") if work else (errors or lines or [""])[0]
    first = first.encode("unicode_escape").decode("ascii")  # show the escapes the command printed
    first = first.replace("|", "\\|")
    return first[:limit] + ("…" if len(first) > limit else "")


def run_case(argv: list[str], src: str, timeout: float, mem_cap_mb: int, work: str = "") -> dict[str, object]:
    """One ``fairwash`` run: exit status, first message line, seconds, peak MB, output sizes."""
    with tempfile.TemporaryDirectory(prefix="fw-cache-") as cache:  # a fresh cache, removed after
        return _run_once(argv, dict(os.environ, PYTHONPATH=src, FAIRWASH_CACHE=cache), timeout, mem_cap_mb,
                         work)


def _run_once(argv: list[str], env: dict[str, str], timeout: float, mem_cap_mb: int,
              work: str) -> dict[str, object]:
    started = time.perf_counter()
    # its own session, so a timeout stops the wrapper *and* the command (a FIFO reader would stay)
    proc = subprocess.Popen([sys.executable, "-c", _WRAPPER, str(mem_cap_mb), *argv], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return {"exit": "timeout", "message": f"still running after {timeout:g} s (stopped)",
                "seconds": timeout, "peak_mb": float("nan"), "stdout_bytes": 0, "stderr_bytes": 0,
                "raw_control": 0}
    seconds = time.perf_counter() - started
    err = stderr.decode(errors="replace")
    body, _, tail = err.rpartition("\nFW-PEAK-KB ")
    peak_kb = int(tail.split()[0]) if tail.strip() else -1
    out = stdout.decode(errors="replace")
    message = _first_line(body, work) or _first_line(out, work)
    # terminal control characters the command printed raw (a spoofed line needs ESC or CR)
    raw = sum((body + out).count(c) for c in ("\x1b", "\r", "\b", "\x9b"))
    return {"exit": proc.returncode, "message": message, "seconds": seconds,
            "peak_mb": peak_kb / 1024 if peak_kb >= 0 else float("nan"),
            "stdout_bytes": len(out), "stderr_bytes": len(body), "raw_control": raw}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--src", action="append", metavar="LABEL=DIR",
                    help="a source tree to run the cases with (repeatable; default after=<this tree>/src)")
    ap.add_argument("--cases", default=None, help="comma-separated case names (default all)")
    ap.add_argument("--big", action="store_true", help="also the 6 M-row paper check (minutes)")
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--mem-cap", type=int, default=6000, help="MB of address space per run (0: none)")
    ap.add_argument("--out", help="write the Markdown table here (else print it)")
    ap.add_argument("--json", help="also write every run's numbers here")
    args = ap.parse_args()
    trees = [s.split("=", 1) for s in (args.src or [f"after={HERE.parent / 'src'}"])]
    names = args.cases.split(",") if args.cases else list(CASES)
    unknown = [n for n in names if n not in CASES and n != "big_paper_check_6M"]
    if unknown:
        ap.error(f"unknown case(s): {', '.join(unknown)}; known: {', '.join(CASES)}")
    cases = {n: CASES[n] for n in names if n in CASES}
    if args.big or "big_paper_check_6M" in names:
        cases["big_paper_check_6M"] = big_paper_check
    head = " | ".join(f"{lab} exit | {lab} message | {lab} raw ESC/CR | {lab} s | {lab} peak MB"
                      for lab, _ in trees)
    lines = [f"| case | input MB | before (issue 20) | {head} |",
             "|---|---:|---|" + "---|---|---:|---:|---:|" * len(trees)]
    work = Path(tempfile.mkdtemp(prefix="fw-hostile-"))
    records = []
    for name, make in cases.items():
        root = work / name
        root.mkdir()
        argv = make(root)
        size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())  # what the auditee sent
        cells = []
        for label, src in trees:
            r = run_case(argv, str(Path(src).resolve()), args.timeout, args.mem_cap, str(root))
            cells.append(f"{r['exit']} | {r['message']} | {r['raw_control']} | {r['seconds']:.1f} | "
                         f"{r['peak_mb']:.0f}")
            records.append({"case": name, "tree": label, "input_bytes": size, **r})
            print(name, label, r, file=sys.stderr, flush=True)
        lines.append(f"| {name} | {size / 1e6:.2f} | {BEFORE.get(name, '')} | " + " | ".join(cells) + " |")
        shutil.rmtree(root)  # the big inputs are hundreds of MB
    shutil.rmtree(work)
    text = "\n".join(lines) + "\n"
    if args.out:
        Path(args.out).write_text(text)
    else:
        print(text)
    if args.json:
        Path(args.json).write_text(json.dumps(records, indent=1, default=str) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
