"""Power at the same overall level (issue 17): each protocol against each attack, on the authors' seven sets.

For each set and the paper's two sizes (10 %, 20 % of n), thresholds of the four cell tests
(KS, KL_P, W_P, MMD_P) from 99 honest draws (the paper's number), then, on the same samples:

* ``any`` — the four cell tests as the paper combines them (reject if one rejects): its
  overall level is above 5 % (measured here on ``--honest`` honest samples);
* ``minp`` — the same four tests, the smallest p-value calibrated on the same draws
  (exact level 5 %);
* ``optimal`` — membership and multiplicity, then the exact one-sided DI test (exact level).

Attacks: the non-Grad methods (Replace, Entropic_b, Entropic_p, Matching, SBS; Grad needs
the audited model and minutes per run at n = 20 000), each driven to DI 0.8 and to the
paper's own fairest undetected DI for that method and size (Table 3 / Table 5), ``--samples``
samples of size m from each manipulated distribution. W_A, KL_A and MMD_A are left out (hours
of exact W_A at n = 20 000): adding them to ``any`` can only raise both its power and its
false alarms; the seven-test figures on ADULT are in benchmarks/RESULTS.md.

Run: ``python benchmarks/bench_power.py [--authors-dir DIR] [--samples 100] [--honest 400] [--out FILE.md]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from bench_headline import SEED, cell_reference, emit  # the headline's reference and output, shared

from fairwash.catalogue import CELL_TESTS, COMPLIANCE_THRESHOLD
from fairwash.data.authors import AUTHORS_DATASETS, load_authors, short_name
from fairwash.manipulate import run_method
from fairwash.paper_values import as_float, lookup
from fairwash.protocol.compare import honest_frame, rejection_summary, verdict_frame
from fairwash.protocol.samples import draw_samples

METHODS = ("Replace", "Entropic_b", "Entropic_p", "Matching", "SBS")
PROTOCOLS = ("any", "minp", "optimal")


def _rates(frame: pd.DataFrame) -> dict[str, int]:
    s = rejection_summary(frame, PROTOCOLS).set_index("protocol")
    return {p: int(s.loc[p, "rejections"]) for p in PROTOCOLS}


def one_size(ds: str, data, full: np.ndarray, m: int, share: str, n_samples: int,
             n_honest: int) -> list[dict]:
    t0 = time.perf_counter()
    thr, ctx = cell_reference(full, m)
    honest = _rates(honest_frame(ctx, thr, n_honest, SEED + 1, tests=CELL_TESTS, protocols=PROTOCOLS))
    rows = [{"set": ds, "m": m, "method": "honest", "target": float("nan"), "samples": n_honest, **honest,
             "seconds": time.perf_counter() - t0}]
    for method in METHODS:
        paper = as_float(lookup(ds.upper(), method, f"fairest@{share}"))
        targets = [COMPLIANCE_THRESHOLD]
        if np.isfinite(paper) and paper != COMPLIANCE_THRESHOLD:
            targets.append(paper)
        for target in targets:
            t0 = time.perf_counter()
            try:
                q = run_method(method, data, target=float(target), random_state=SEED)
                idx = draw_samples(q, m, n_samples, SEED + 2, key=(int(m),))
            except (ValueError, RuntimeError) as exc:  # a method that cannot reach the target here
                rows.append({"set": ds, "m": m, "method": method, "target": target, "samples": 0,
                             "error": str(exc)[:80]})
                continue
            frame = verdict_frame(ctx, thr, q.joint(), idx, tests=CELL_TESTS, protocols=PROTOCOLS)
            rows.append({"set": ds, "m": m, "method": method, "target": target, "samples": n_samples,
                         "mean_di": float(np.nanmean(frame["di"])), **_rates(frame),
                         "seconds": time.perf_counter() - t0})
            print(rows[-1], file=sys.stderr, flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--authors-dir", default=os.environ.get("FAIRWASH_AUTHORS_DIR", "../shared/authors"))
    ap.add_argument("--samples", type=int, default=100)
    ap.add_argument("--honest", type=int, default=400)
    ap.add_argument("--sets", nargs="*", help="short names (adult, inc, ...); default all seven")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    t_all = time.perf_counter()
    rows = []
    for name in AUTHORS_DATASETS:
        if args.sets and short_name(name) not in args.sets:
            continue
        data = load_authors(name, cache_dir=args.authors_dir, download=False)
        full = data.joint()
        n = len(full)
        for share, m in (("10", n // 10), ("20", n // 5)):
            rows += one_size(short_name(name), data, full, m, share, args.samples, args.honest)
    df = pd.DataFrame(rows)
    lines = ["| set | m | attack | target DI | mean DI | samples | any (4 cell tests) | minp (same tests) | "
             "optimal | seconds |", "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in df.itertuples():
        if not r.samples:
            lines.append(f"| {r.set} | {r.m} | {r.method} | {r.target:.2f} | – | 0 | not reached | | | |")
            continue
        target = "–" if r.method == "honest" else f"{r.target:.2f}"
        mean_di = "" if r.method == "honest" else f"{r.mean_di:.3f}"
        lines.append(f"| {r.set} | {r.m} | {r.method} | {target} | {mean_di} | {r.samples} | {r.any} | "
                     f"{r.minp} | {r.optimal} | {r.seconds:.1f} |")
    lines.append(f"\nTotal {time.perf_counter() - t_all:.0f} s.")
    emit("\n".join(lines), args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
