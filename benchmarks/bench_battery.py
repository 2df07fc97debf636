"""Speed of the seven-test battery, and how often the fast W_A estimators agree with the exact one.

Issue 4: exact optimal transport is the reference for W_A; any faster estimator must
report the share of verdicts it shares with the exact test (goal >= 99 %).

Part 1, speed (ASC_INC, the authors' audited set, n = 20 000): one honest sample of
m = 4 000 and of m = 2 000; the time of each test's statistic (one run each) for the
W_A estimators ``exact``, ``subref`` (exact OT against a fixed 5 000-row subsample of
the full data) and ``sliced`` (500 projections). The context set-up (KL_A row index,
MMD_A self term, W_A reference) is timed separately; the battery time is the sum of
the seven statistics (the threshold comparisons cost nothing). The paper reports about
32 s for the Wasserstein tests of one such call.

Part 2, verdict agreement (ADULT, the authors' audited set, n = 5 000, m = 500, where
exact OT is affordable): thresholds from 39 honest draws per estimator, all with the
same seed, hence the same honest samples; then honest samples and samples from
Matching and Entropic_b at a strong (0.8) and a weak (0.4; the model's DI is 0.30)
target. For each sample the exact battery is run in full; each fast estimator's context
only recomputes W_A, since the six other statistics and their thresholds do not depend
on the W_A estimator (same draws). A fast estimator's battery verdict is "reject" if
its W_A rejects or any of the six other tests of the exact battery rejects.
``subref`` sizes are n/4 and n/2 (at n = 20 000 the default 5 000 is n/4).

Run: ``.venv/bin/python benchmarks/bench_battery.py [--append]`` (one run, this machine;
``--append`` adds the section to ``benchmarks/RESULTS.md``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from fairwash.catalogue import TESTS
from fairwash.data.authors import load_authors
from fairwash.detect.battery import run_battery
from fairwash.detect.context import BatteryContext, WassersteinConfig
from fairwash.detect.thresholds import reference_thresholds
from fairwash.io import atomic_write_text
from fairwash.manipulate import run_method

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from common import machine  # noqa: E402

CACHE = "/work/shared/authors"
RESULTS = Path(__file__).with_name("RESULTS.md")
SEED = 0


def _prepared(full: np.ndarray, cfg: WassersteinConfig) -> tuple[BatteryContext, float]:
    """A context with every lazy reference built; returns it and the set-up seconds."""
    t = time.perf_counter()
    ctx = BatteryContext.prepare(full, w_config=cfg)
    _ = ctx.row_index, ctx.mmd_reference
    ctx.statistics(full[:1], ("W_A",))  # builds the W_A reference / projections (1 row: negligible)
    return ctx, time.perf_counter() - t


# ----------------------------------------------------------------------------- part 1
def speed(ms: tuple[int, ...] = (4_000, 2_000)) -> pd.DataFrame:
    data = load_authors("ASC_INC", cache_dir=CACHE)
    full = data.joint()
    configs = {
        "exact": WassersteinConfig("exact"),
        "subref 5000": WassersteinConfig("subref", subref_size=5_000, seed=SEED),
        "sliced 500": WassersteinConfig("sliced", n_projections=500, seed=SEED),
    }
    rng = np.random.default_rng(SEED)
    samples = {m: full[np.sort(rng.choice(data.n, m, replace=False))] for m in ms}
    rows = []
    for label, cfg in configs.items():
        ctx, setup = _prepared(full, cfg)
        for m, sample in samples.items():
            secs = {}
            for test in TESTS:
                t = time.perf_counter()
                ctx.statistics(sample, (test,))
                secs[test] = time.perf_counter() - t
            rows.append(
                {
                    "W_A estimator": label,
                    "m": m,
                    "set-up s": round(setup, 2),
                    "W_A s": round(secs["W_A"], 2),
                    "W_A + W_P s": round(secs["W_A"] + secs["W_P"], 2),
                    "MMD_A s": round(secs["MMD_A"], 2),
                    "other 4 s": round(sum(secs[k] for k in ("KS", "KL_A", "KL_P", "MMD_P")), 3),
                    "battery s": round(sum(secs.values()), 2),
                }
            )
            print(rows[-1], flush=True)
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- part 2
def _samples(data, full: np.ndarray, m: int, counts: dict[tuple[str, float | None], int]):
    """(kind, rows) pairs: honest draws from ``full`` and draws from manipulated sets."""
    out = []
    for (method, target), k in counts.items():
        if method == "honest":
            rng = np.random.default_rng(np.random.SeedSequence(SEED, spawn_key=(10_000,)))
            out += [("honest", full[rng.choice(len(full), m, replace=False)]) for _ in range(k)]
            continue
        man = run_method(method, data, target=target, random_state=SEED)
        Z = man.joint()
        rng = np.random.default_rng(np.random.SeedSequence(SEED, spawn_key=(20_000 + len(out),)))
        out += [(f"{method} {target}", Z[man.sample_indices(m, rng)]) for _ in range(k)]
    return out


def agreement(
    name: str,
    m: int,
    counts: dict[tuple[str, float | None], int],
    fast: dict[str, WassersteinConfig],
    n_draws: int = 39,
) -> tuple[pd.DataFrame, dict[str, float]]:
    data = load_authors(name, cache_dir=CACHE)
    full = data.joint()
    samples = _samples(data, full, m, counts)
    w_secs: dict[str, float] = {}

    ctx, _ = _prepared(full, WassersteinConfig("exact"))
    t = time.perf_counter()
    thr = reference_thresholds(None, m, n_draws=n_draws, random_state=SEED, context=ctx)
    print(f"{name}: exact thresholds {time.perf_counter() - t:.1f} s", flush=True)
    exact_wa, others = [], []
    t = time.perf_counter()
    for _, rows in samples:
        res = run_battery(None, rows, thr, context=ctx)
        exact_wa.append(res["W_A"].rejected)
        others.append(any(r.rejected for r in res.results if r.name != "W_A"))
    w_secs["exact"] = (time.perf_counter() - t) / len(samples)
    exact_wa, others = np.array(exact_wa), np.array(others)

    kinds = np.array([k for k, _ in samples])
    table = []
    for label, cfg in fast.items():
        fctx, _ = _prepared(full, cfg)
        fthr = reference_thresholds(None, m, tests=("W_A",), n_draws=n_draws, random_state=SEED, context=fctx)
        t = time.perf_counter()
        wa = np.array([run_battery(None, rows, fthr, tests=("W_A",), context=fctx)["W_A"].rejected
                       for _, rows in samples])
        w_secs[label] = (time.perf_counter() - t) / len(samples)
        for kind in [*dict.fromkeys(kinds), "all"]:
            sel = np.ones(len(kinds), bool) if kind == "all" else kinds == kind
            table.append(
                {
                    "estimator": label,
                    "samples": kind,
                    "N": int(sel.sum()),
                    "exact W_A rejects %": round(100 * exact_wa[sel].mean(), 1),
                    "fast W_A rejects %": round(100 * wa[sel].mean(), 1),
                    "W_A verdicts shared %": round(100 * (wa[sel] == exact_wa[sel]).mean(), 1),
                    "battery rejects %": round(100 * (others | exact_wa)[sel].mean(), 1),
                    "battery verdicts shared %": round(
                        100 * ((others | wa)[sel] == (others | exact_wa)[sel]).mean(), 1
                    ),
                }
            )
        print(pd.DataFrame(table[-len(set(kinds)) - 1:]).to_string(index=False), flush=True)
    return pd.DataFrame(table), w_secs


# ----------------------------------------------------------------------------- report
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--append", action="store_true", help="append the section to RESULTS.md")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-adult", action="store_true")
    parser.add_argument("--large", action="store_true", help="also the small agreement check at n = 20 000")
    args = parser.parse_args()

    header = f"# machine: {machine()}; {dt.date.today().isoformat()}"
    print(header, flush=True)
    parts = [f"## Battery speed and fast W_A estimators (`benchmarks/bench_battery.py`)\n\n{header[2:]}\n"]
    if not args.skip_speed:
        sp = speed()
        parts.append(
            "ASC_INC (authors' set, n = 20 000, d = 8), one honest sample, one run per cell; "
            "seconds per statistic. The paper: about 32 s for the Wasserstein tests of one call.\n\n"
            + sp.to_markdown(index=False)
            + "\n"
        )
    counts = {
        ("honest", None): 100,
        ("Matching", 0.8): 60,
        ("Entropic_b", 0.8): 60,
        ("Matching", 0.4): 40,
        ("Entropic_b", 0.4): 40,
    }
    fast = {
        "subref 1250": WassersteinConfig("subref", subref_size=1_250, seed=SEED),
        "subref 2500": WassersteinConfig("subref", subref_size=2_500, seed=SEED),
        "sliced 500": WassersteinConfig("sliced", n_projections=500, seed=SEED),
    }
    if not args.skip_adult:
        ag, w_secs = agreement("ADULT", 500, counts, fast)
        parts.append(
            "Verdict agreement with exact W_A on ADULT (authors' set, n = 5 000, d = 34, DI 0.30), "
            "m = 500, 39 honest draws per estimator (same seed); the six other tests are shared. "
            "Mean W_A seconds per sample: "
            + ", ".join(f"{k} {v:.3f}" for k, v in w_secs.items())
            + ".\n\n"
            + ag.to_markdown(index=False)
            + "\n"
        )
    if args.large:
        large = {("honest", None): 10, ("Matching", 0.8): 5, ("Entropic_b", 0.8): 5}
        fast20 = {
            "subref 5000": WassersteinConfig("subref", subref_size=5_000, seed=SEED),
            "sliced 500": WassersteinConfig("sliced", n_projections=500, seed=SEED),
        }
        ag, w_secs = agreement("ASC_INC", 2_000, large, fast20, n_draws=19)
        parts.append(
            "Small agreement check on ASC_INC (n = 20 000, DI 0.67), m = 2 000, 19 honest draws "
            "(the fewest the 95 % quantile allows). Mean W_A seconds per sample: "
            + ", ".join(f"{k} {v:.3f}" for k, v in w_secs.items())
            + ".\n\n"
            + ag.to_markdown(index=False)
            + "\n"
        )
    text = "\n".join(parts)
    print("\n" + text)
    if args.append:
        atomic_write_text(RESULTS.read_text().rstrip("\n") + "\n\n" + text, RESULTS)


if __name__ == "__main__":
    main()
