"""Speed of a Table 2 job with exact W_A only where it decides (issue 18, slice 1), and of the
reference draws on 1 and 2 threads (slice 3).

Part 1 (ADULT, the authors' audited set, n = 5 000, exact W_A; m = 500 and 1 000): thresholds
from 19 honest draws (not timed), then one Table 2 job — ``detection`` on ``--samples`` samples
of each of ``--methods`` built at target 0.8 — with the paper's battery on every sample
(``w_a_rate_samples=None``) and lazily (``w_a_rate_samples=3``), alternately in the same run;
the verdict "evades all", the compliant samples passing all and every cheap test's rate are
checked identical; medians of ``--runs`` runs.

Part 2: ``reference_draws`` of ``--draws`` honest samples (m = 1 000, exact W_A) with 1 and 2
workers, alternately, checked byte-identical; medians of ``--runs`` runs.

Run: ``PYTHONPATH=src .venv/bin/python benchmarks/bench_detect.py [--append]`` (``--append``
adds the section to ``benchmarks/RESULTS.md``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import statistics
import sys
import time
from pathlib import Path

from fairwash.catalogue import LAZY_TESTS, TESTS
from fairwash.data.authors import load_authors
from fairwash.detect.context import BatteryContext
from fairwash.detect.thresholds import reference_draws, reference_thresholds
from fairwash.manipulate import run_method
from fairwash.protocol.detection_rates import detection, detection_summary

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from common import machine  # noqa: E402

CACHE = "/work/shared/authors"
RESULTS = Path(__file__).with_name("RESULTS.md")


def table2_job(ctx, mans, m, thr, n_samples, w_a_rate_samples):
    """One Table 2 job (every method at one m); returns (seconds, summaries, W_A solves)."""
    started = time.perf_counter()
    summaries, solves = {}, 0
    for k, man in enumerate(mans):
        frame = detection(None, man, m, thr, n_samples=n_samples, random_state=100 + k, context=ctx,
                          w_a_rate_samples=w_a_rate_samples)
        summaries[man.method] = detection_summary(frame)
        solves += int(frame["W_A_rejected"].notna().sum())
    return time.perf_counter() - started, summaries, solves


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))  # nan: no compliant sample


def same_verdicts(full, lazy) -> bool:
    for method, a in full.items():
        b = lazy[method]
        if a["evades_all"] != b["evades_all"] or not _same(a["compliant_pass_all"], b["compliant_pass_all"]):
            return False
        cheap = [t for t in TESTS if t not in LAZY_TESTS]
        if any(not _same(a["rejection_rate"][t], b["rejection_rate"][t]) for t in cheap):
            return False
    return True


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[500, 1000])
    ap.add_argument("--methods", nargs="+", default=["Matching", "Entropic_b", "Replace"])
    ap.add_argument("--samples", type=int, default=8)
    ap.add_argument("--draws", type=int, default=8)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--append", action="store_true")
    args = ap.parse_args()

    data = load_authors("ADULT", cache_dir=CACHE)
    ctx = BatteryContext.prepare(data.joint())
    mans = [run_method(me, data, target=0.8) for me in args.methods]
    lines = []
    for m in args.sizes:
        thr = reference_thresholds(None, m, n_draws=19, random_state=7, context=ctx)
        times = {"full": [], "lazy": []}
        ok = True
        for _ in range(args.runs):
            t_full, s_full, n_full = table2_job(ctx, mans, m, thr, args.samples, None)
            t_lazy, s_lazy, n_lazy = table2_job(ctx, mans, m, thr, args.samples, 3)
            times["full"].append(t_full)
            times["lazy"].append(t_lazy)
            ok &= same_verdicts(s_full, s_lazy)
        med = {k: statistics.median(v) for k, v in times.items()}
        evades = " ".join(f"{me}={'yes' if s['evades_all'] else 'no'}" for me, s in s_full.items())
        line = (f"| Table 2 job, m = {m} | {med['full']:.1f} s | {med['lazy']:.1f} s | "
                f"{med['full'] / med['lazy']:.2f}x | W_A solves {n_full} -> {n_lazy}; verdicts identical: "
                f"{'yes' if ok else 'NO'} ({evades}) |")
        print(line, flush=True)
        lines.append(line)

    m = max(args.sizes)
    times = {1: [], 2: []}
    draws = {}
    for _ in range(args.runs):
        for w in (1, 2):
            c = BatteryContext.prepare(data.joint())
            started = time.perf_counter()
            draws[w] = reference_draws(c, m, n_draws=args.draws, random_state=3, workers=w)
            times[w].append(time.perf_counter() - started)
    same = all(draws[1][t].tobytes() == draws[2][t].tobytes() for t in draws[1])
    med = {w: statistics.median(v) for w, v in times.items()}
    line = (f"| {args.draws} reference draws, m = {m}, 1 vs 2 workers | {med[1]:.1f} s | {med[2]:.1f} s | "
            f"{med[1] / med[2]:.2f}x | byte-identical draws: {'yes' if same else 'NO'} |")
    print(line, flush=True)
    lines.append(line)

    section = "\n".join([
        f"\n## Table 2 lazy W_A and threaded reference draws (issue 18; {dt.date.today()})\n",
        f"`benchmarks/bench_detect.py` on {machine()} (shared with other sessions), the authors' ADULT "
        f"(n = {data.n}), exact W_A, {args.samples} samples per method of {', '.join(args.methods)}, "
        f"medians of {args.runs} runs, both variants alternately in the same run:\n",
        "| what | before (full / 1 worker) | after (lazy / 2 workers) | ratio | notes |",
        "|---|---:|---:|---:|---|",
        *lines, ""])
    if args.append:
        with RESULTS.open("a") as f:
            f.write(section)
    print(section)


if __name__ == "__main__":
    main()
