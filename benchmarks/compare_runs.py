"""Compare two finished ``results/`` trees file by file, timings aside.

Used to show that a refactor changed no result: every table (CSV, Markdown, LaTeX), every
JSON summary and every parquet frame of ``results/`` is compared between two runs of the
same config; measured times (``seconds``, ``resumed_seconds``, ``method_seconds``,
columns named ``seconds`` / ``ms`` / ``time``, the cost table) are dropped first, since
they differ from run to run by nature.

Usage::

    python benchmarks/compare_runs.py RESULTS_A RESULTS_B

Prints one line per differing file and a summary; exits 1 if anything but timings differs.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import pandas as pd

_TIMING_KEY = re.compile(r"(^|_)(seconds|ms|time|elapsed|wall)($|_)|peak|memory|mem_mb", re.I)
#: Files that hold only measurements (times, memory) or run provenance.
_SKIP = re.compile(r"(^|/)(cost\.(csv|md|tex)|benchmarks/|logs/|report/|cache/|resume/)")


def _strip(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _strip(v) for k, v in obj.items() if not _TIMING_KEY.search(str(k))}
    if isinstance(obj, list):
        return [_strip(v) for v in obj]
    return obj


def _same_json(a: Path, b: Path) -> bool:
    return _strip(json.loads(a.read_text())) == _strip(json.loads(b.read_text()))


def _same_frame(a: Path, b: Path) -> bool:
    fa, fb = pd.read_parquet(a), pd.read_parquet(b)
    keep = [c for c in fa.columns if not _TIMING_KEY.search(str(c))]
    if keep != [c for c in fb.columns if not _TIMING_KEY.search(str(c))]:
        return False
    return fa[keep].equals(fb[keep])


def _same_table(a: Path, b: Path) -> bool:
    """A CSV table, its timing columns dropped; its Markdown / LaTeX twins follow the CSV."""
    fa, fb = pd.read_csv(a), pd.read_csv(b)
    keep = [c for c in fa.columns if not _TIMING_KEY.search(str(c))]
    return keep == [c for c in fb.columns if not _TIMING_KEY.search(str(c))] and fa[keep].equals(fb[keep])


def compare(root_a: Path, root_b: Path) -> tuple[list[str], list[str], int]:
    """(differing files, files present in only one tree, files compared)."""
    files_a = {p.relative_to(root_a).as_posix() for p in root_a.rglob("*") if p.is_file()}
    files_b = {p.relative_to(root_b).as_posix() for p in root_b.rglob("*") if p.is_file()}
    keep = {f for f in files_a | files_b if not _SKIP.search(f) and not f.endswith((".pdf", ".html"))}
    only = sorted(f for f in keep if (f in files_a) != (f in files_b))
    differ, n = [], 0
    for rel in sorted(keep & files_a & files_b):
        a, b = root_a / rel, root_b / rel
        n += 1
        if rel.endswith(".json"):
            same = _same_json(a, b)
        elif rel.endswith(".parquet"):
            same = _same_frame(a, b)
        elif rel.endswith(".csv"):
            same = _same_table(a, b)
        elif rel.endswith((".md", ".tex")) and a.with_suffix(".csv").exists() \
                and a.read_bytes() != b.read_bytes():
            # a rendering of the CSV beside it: equal if the CSV is, timings aside
            csv_a, csv_b = a.with_suffix(".csv"), b.with_suffix(".csv")
            same = csv_b.exists() and _same_table(csv_a, csv_b)
        else:
            same = a.read_bytes() == b.read_bytes()
        if not same:
            differ.append(rel)
    return differ, only, n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a", type=Path)
    ap.add_argument("b", type=Path)
    args = ap.parse_args(argv)
    differ, only, n = compare(args.a, args.b)
    for f in differ:
        print(f"differs: {f}")
    for f in only:
        print(f"only in one: {f}")
    print(f"{n} files compared, {len(differ)} differ, {len(only)} in one tree only "
          "(timings aside; figures as PNG bytes)")
    return 1 if differ or only else 0


if __name__ == "__main__":
    sys.exit(main())
