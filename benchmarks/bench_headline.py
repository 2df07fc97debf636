"""The headline of issue 17 on the authors' seven audited sets: what each protocol costs an
honest auditee (false alarms), what it leaves an attacker (the highest DI a passing sample
can show), and how long an auditor waits.

For each set and the paper's two sizes (10 %, 20 % of n):

* **optimal** (membership + exact one-sided DI test): its exact level ``P(DI > q)``, its cap
  ``q`` (the (1 - α) quantile of an honest sample's DI; attained by real rows, so it *is* the
  fairest undetected DI of an attacker who knows the protocol), and the recommended size
  (smallest m from which the cap stays below 0.8) — all exact, timed;
* **the paper's battery, its cell tests** (KS, KL_P, W_P, MMD_P: they see a sample only
  through its four (s, ŷ) counts, and so does its DI): thresholds from 99 honest draws (the
  paper's), their cell cap (no attack can pass them with a higher DI: an upper bound of
  Table 3 that W_A, KL_A and MMD_A can only lower), and the false-alarm rate of these four
  tests on ``--honest`` honest samples against that reference (a lower bound of the seven
  tests' rate: adding tests to "any" can only add rejections), with its Clopper-Pearson
  interval, and of the optimal protocol on the same samples;
* the paper's own fairest undetected DI (Table 3, max over its methods) for comparison.

W_A, KL_A and MMD_A are left out because exact W_A costs 11-13 s per draw at m = 2 000,
n = 20 000 (hours for the seven sets): the full seven-test figures are the pipeline's
``results/tables/protocols_<ds>.md`` (ADULT in benchmarks/RESULTS.md).

Run: ``python benchmarks/bench_headline.py [--authors-dir DIR] [--honest 400] [--out FILE.md]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from fairwash.catalogue import CELL_TESTS, COMPLIANCE_THRESHOLD
from fairwash.data.authors import AUTHORS_DATASETS, load_authors, short_name
from fairwash.detect.cells import cell_di_cap
from fairwash.detect.context import BatteryContext
from fairwash.detect.dilaw import cell_counts, di_quantile, recommended_sample_size
from fairwash.detect.thresholds import ReferenceThresholds, reference_thresholds
from fairwash.paper_values import as_float
from fairwash.pipeline.cap_replicates import paper_fairest_max
from fairwash.protocol.compare import honest_frame, rejection_summary

ALPHA = 0.05
SEED = 2026


def _paper_fairest(ds: str, share: str) -> float:
    """The paper's fairest undetected DI at ``share`` % (Table 3), the max over its methods."""
    return as_float(paper_fairest_max(ds, int(share), "Table 3"))


def cell_reference(full: np.ndarray, m: int) -> tuple[ReferenceThresholds, BatteryContext]:
    """The four cell tests' thresholds from 99 honest draws (the paper's number) and their context."""
    ctx = BatteryContext.prepare(full)
    thr = reference_thresholds(full, m, tests=CELL_TESTS, n_draws=99, level=1 - ALPHA, rule="quantile",
                               random_state=SEED, context=ctx)
    return thr, ctx


def emit(text: str, out: Path | None) -> None:
    """Print the result table and write it to ``out`` if given."""
    print(text)
    if out:
        out.write_text(text + "\n")


def one(ds: str, m: int, full: np.ndarray, cells: np.ndarray, n_honest: int) -> dict:
    t0 = time.perf_counter()
    q = di_quantile(cells, m, ALPHA)
    t_opt = time.perf_counter() - t0
    t0 = time.perf_counter()
    thr, ctx = cell_reference(full, m)
    cap = cell_di_cap(ctx, thr, m, CELL_TESTS)
    t_bat = time.perf_counter() - t0
    frame = honest_frame(ctx, thr, n_honest, SEED + 1, tests=CELL_TESTS, protocols=("any", "optimal"))
    rates = rejection_summary(frame, ("any", "optimal")).set_index("protocol")
    return {"set": ds, "m": m, "optimal_level": q.size, "optimal_cap": q.value, "optimal_ms": 1e3 * t_opt,
            "honest_n": n_honest,
            "optimal_false_alarms": int(rates.loc["optimal", "rejections"]),
            "cells_false_alarms": int(rates.loc["any", "rejections"]),
            "cells_rate_lo": float(rates.loc["any", "lo"]), "cells_rate_hi": float(rates.loc["any", "hi"]),
            "battery_cell_cap": cap, "battery_cells_s": t_bat}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--authors-dir", default=os.environ.get("FAIRWASH_AUTHORS_DIR", "../shared/authors"))
    ap.add_argument("--honest", type=int, default=400)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    rows = []
    for name in AUTHORS_DATASETS:
        data = load_authors(name, cache_dir=args.authors_dir, download=False)
        full = data.joint()
        cells = cell_counts(data.S, data.Y_hat)
        t0 = time.perf_counter()
        rec = recommended_sample_size(cells, COMPLIANCE_THRESHOLD, ALPHA)
        t_rec = time.perf_counter() - t0
        n = len(full)
        for share, m in (("10", n // 10), ("20", n // 5)):
            r = one(short_name(name), m, full, cells, args.honest)
            r.update(paper_fairest=_paper_fairest(short_name(name).upper(), share), recommended_m=rec.m,
                     recommended_s=t_rec)
            rows.append(r)
            print(r, file=sys.stderr, flush=True)
    df = pd.DataFrame(rows)
    lines = ["| set | m | paper's fairest (Table 3) | battery cell cap | optimal cap | optimal exact level | "
             f"false alarms of the 4 cell tests / {args.honest} (95 % CI) | optimal false alarms | "
             "optimal: cap + level (ms) | battery cell tests: 99 draws + cap (s) | recommended m (optimal) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in df.itertuples():
        paper = f"{r.paper_fairest:.2f}" if np.isfinite(r.paper_fairest) else "–"
        ci = f"{100 * r.cells_rate_lo:.1f}–{100 * r.cells_rate_hi:.1f} %"
        lines.append(
            f"| {r.set} | {r.m} | {paper} | {r.battery_cell_cap:.3f} | {r.optimal_cap:.3f} | "
            f"{r.optimal_level:.4f} | {r.cells_false_alarms} ({ci}) | {r.optimal_false_alarms} | "
            f"{r.optimal_ms:.1f} | {r.battery_cells_s:.1f} | {r.recommended_m} ({r.recommended_s:.1f} s) |")
    emit("\n".join(lines), args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
