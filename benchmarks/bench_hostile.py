"""Hostile auditee files (issue 20): exit status, first message line, time and peak memory.

Runs every case of ``tests/hostile_files.py`` as a ``fairwash`` subprocess, each under
``/usr/bin/time -v`` (peak resident memory of the command, in MB), with the source tree
given by ``--src`` first on ``PYTHONPATH``; so the same script gives the "before" table
(``--src /work/main/src``) and the "after" one (this tree's ``src``) in one run.

    python benchmarks/bench_hostile.py --src before=/work/main/src --src after=src \\
        --out benchmarks/RESULTS_hostile.md

A case that runs longer than ``--timeout`` seconds (the FIFO before the fix) is stopped
and reported as such; ``--mem-cap`` (MB, default 6000) bounds each run's address space so
a bomb that would exhaust the machine ends as a MemoryError instead.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from hostile_files import CASES, big_paper_check  # noqa: E402  (the fixtures live with the tests)

_MAIN = "import sys; from fairwash.cli import main; sys.exit(main())"


def _first_line(text: str, limit: int = 110) -> str:
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("\tCommand")]
    first = lines[0] if lines else ""
    first = first.encode("unicode_escape").decode("ascii")  # show the escapes the command printed
    first = first.replace("|", "\\|")
    return first[:limit] + ("…" if len(first) > limit else "")


def run_case(argv: list[str], src: str, timeout: float, mem_cap_mb: int) -> dict[str, object]:
    """One ``fairwash`` run: exit status, stderr's first line, stdout's size, seconds, peak MB."""
    env = dict(os.environ, PYTHONPATH=src, FAIRWASH_CACHE=tempfile.mkdtemp(prefix="fw-cache-"))
    limit = f"ulimit -v {mem_cap_mb * 1024};" if mem_cap_mb else ""
    quoted = " ".join("'" + a.replace("'", "'\\''") + "'" for a in argv)
    cmd = f"{limit} exec /usr/bin/time -v {sys.executable} -c '{_MAIN}' {quoted}"
    started = time.perf_counter()
    try:
        proc = subprocess.run(["bash", "-c", cmd], capture_output=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"exit": "timeout", "message": f"still running after {timeout:g} s (stopped)",
                "seconds": timeout, "peak_mb": float("nan"), "stdout_bytes": 0, "stderr_bytes": 0}
    seconds = time.perf_counter() - started
    err = proc.stderr.decode(errors="replace")
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", err)
    body = err.split("\tCommand being timed")[0]
    message = _first_line(body) or _first_line(proc.stdout.decode(errors="replace").splitlines()[-1]
                                               if proc.stdout.strip() else "")
    return {"exit": proc.returncode, "message": message, "seconds": seconds,
            "peak_mb": int(peak.group(1)) / 1024 if peak else float("nan"),
            "stdout_bytes": len(proc.stdout), "stderr_bytes": len(body)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--src", action="append", required=True, metavar="LABEL=DIR",
                    help="a source tree to run the cases with (repeatable: before=..., after=...)")
    ap.add_argument("--cases", default=None, help="comma-separated case names (default all)")
    ap.add_argument("--big", action="store_true", help="also the 6 M-row paper check (minutes)")
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--mem-cap", type=int, default=6000, help="MB of address space per run")
    ap.add_argument("--out", help="write the Markdown table here (else print it)")
    args = ap.parse_args()
    trees = [s.split("=", 1) for s in args.src]
    names = args.cases.split(",") if args.cases else list(CASES)
    cases = {n: CASES[n] for n in names if n in CASES}
    if args.big:
        cases["big_paper_check_6M"] = big_paper_check
    lines = ["| case | " + " | ".join(f"{lab} exit | {lab} message | {lab} s | {lab} peak MB"
                                        for lab, _ in trees) + " |",
             "|---|" + "---|---|---:|---:|" * len(trees)]
    work = Path(tempfile.mkdtemp(prefix="fw-hostile-"))
    for name, make in cases.items():
        root = work / name
        root.mkdir()
        argv = make(root)
        cells = []
        for _, src in trees:
            r = run_case(argv, str(Path(src).resolve()), args.timeout, args.mem_cap)
            cells.append(f"{r['exit']} | {r['message']} | {r['seconds']:.1f} | {r['peak_mb']:.0f}")
            print(name, r, file=sys.stderr, flush=True)
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    if args.out:
        Path(args.out).write_text(text)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
