"""Speed of the exact DI law (issue 17) and the authors' sets' caps; prints markdown.

1. ``di_sf``, ``di_test`` and ``di_quantile`` at m = 10³, 10⁴, 10⁵ on n = 10⁶ rows with
   ADULT's cell proportions, against a naive baseline: the same sum over every ``k`` with
   full-support SciPy pmf / cdf calls (a Python loop over ``k``; above m = 10³ timed on 300
   central ``k`` values and extrapolated to the whole support, said so), and, at m ≤ 200, the enumeration
   of every count vector with :func:`scipy.stats.multivariate_hypergeom.pmf`.
2. ``recommended_sample_size`` at n = 10⁶ for full-data DIs 0.30 (ADULT), 0.6, 0.7.
3. ``--authors DIR``: for the authors' seven sets at m = 10 % and 20 % of n, the DI test's
   cap (95 % quantile) and its exact level, beside the paper battery's cell cap
   (:func:`fairwash.detect.cells.cell_di_cap` with W_P and KL_P at the authors' published
   thresholds; KS ignored, so a bound from above), and the recommended m.

Run: ``PYTHONPATH=src .venv/bin/python benchmarks/bench_dilaw.py [--authors /work/shared/authors]``.
One run, this machine; wall seconds, best of three for the fast calls.
"""

from __future__ import annotations

import argparse
import platform
import time
from types import SimpleNamespace

import numpy as np
from scipy.stats import hypergeom, multivariate_hypergeom

from fairwash.detect.dilaw import di_quantile, di_sf, di_test, recommended_sample_size

ADULT = np.array([1478, 160, 2267, 1095])


def _scaled(n: int, cells=ADULT) -> np.ndarray:
    C = np.round(cells / cells.sum() * n).astype(np.int64)
    C[0] += n - C.sum()
    return C


def _with_di(C: np.ndarray, di: float) -> np.ndarray:
    N0, N1 = C[0] + C[1], C[2] + C[3]
    a = int(round(di * C[3] / N1 * N0))
    return np.array([N0 - a, a, C[2], C[3]])


def _best(fn, repeat: int = 3) -> float:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return min(out)


def naive_sf(d: float, C: np.ndarray, m: int, ks: np.ndarray | None = None) -> float:
    """P(DI >= d) by the plain sum over every k, full supports, SciPy pmf and cdf."""
    C00, C01, C10, C11 = (int(c) for c in C)
    N0, N1 = C00 + C01, C10 + C11
    if ks is None:
        ks = np.arange(max(1, m - N1), min(m - 1, N0) + 1)
    total = 0.0
    for k in ks:
        a = np.arange(1, min(k, C01) + 1)
        f = np.floor(a * (m - k) / (k * d))
        total += hypergeom.pmf(k, N0 + N1, N0, m) * float(
            (hypergeom.pmf(a, N0, C01, k) * hypergeom.cdf(f, N1, C11, m - k)).sum())
    return total


def enumerate_sf(d: float, C: np.ndarray, m: int) -> float:
    """P(DI >= d) from every count vector and its multivariate hypergeometric pmf."""
    c01, c10, c11 = np.meshgrid(*(np.arange(m + 1),) * 3, indexing="ij")
    c = np.column_stack([m - c01.ravel() - c10.ravel() - c11.ravel(), c01.ravel(), c10.ravel(), c11.ravel()])
    c = c[(c >= 0).all(axis=1) & (c <= C).all(axis=1)]
    w = multivariate_hypergeom.pmf(c, m=C, n=m)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (c[:, 1] / (c[:, 0] + c[:, 1])) / (c[:, 3] / (c[:, 2] + c[:, 3]))
    return float(w[~np.isnan(t) & (t >= d)].sum())


def speed() -> None:
    C = _scaled(1_000_000)
    print("## Exact DI law: speed (n = 10⁶, ADULT's cell proportions, d = 0.35)\n")
    print("| m | di_sf s | di_test s | di_quantile s | naive sum over k s | ratio | |sf - naive| |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for m in (1_000, 10_000, 100_000):
        t_sf = _best(lambda m=m: di_sf(0.35, C, m))
        obs = np.round(C / C.sum() * m).astype(int)
        obs[0] += m - obs.sum()
        t_test = _best(lambda m=m, obs=obs: di_test(obs, C))
        t_q = _best(lambda m=m: di_quantile(C, m), repeat=1)
        ours = di_sf(0.35, C, m)
        if m <= 1_000:
            t0 = time.perf_counter()
            ref = naive_sf(0.35, C, m)
            t_naive, note, diff = time.perf_counter() - t0, "", f"{abs(ours - ref):.1e}"
        else:  # time 300 central values of k and extrapolate to the whole support
            N0 = C[0] + C[1]
            ks_all = np.arange(max(1, m - (C[2] + C[3])), min(m - 1, N0) + 1)
            mid = int(round(m * N0 / C.sum()))
            t0 = time.perf_counter()
            naive_sf(0.35, C, m, np.arange(mid - 150, mid + 150))
            t_naive, note, diff = (time.perf_counter() - t0) * len(ks_all) / 300, " (extrapolated)", "–"
        print(f"| {m} | {t_sf:.4f} | {t_test:.4f} | {t_q:.3f} | {t_naive:.1f}{note} | "
              f"{t_naive / t_sf:.0f}× | {diff} |")
    print("\n| m (n = 2 000) | di_sf s | enumeration of count vectors s | ratio | |difference| |")
    print("|---:|---:|---:|---:|---:|")
    C2 = _scaled(2_000)
    for m in (100, 200):
        t_sf = _best(lambda m=m: di_sf(0.35, C2, m))
        t0 = time.perf_counter()
        ref = enumerate_sf(0.35, C2, m)
        t_en = time.perf_counter() - t0
        print(f"| {m} | {t_sf:.4f} | {t_en:.2f} | {t_en / t_sf:.0f}× | {abs(di_sf(0.35, C2, m) - ref):.1e} |")


def sample_size() -> None:
    print("\n## Recommended sample size (τ = 0.8, α = 0.05, n = 10⁶)\n")
    print("| full-data DI | m* | last unsafe m | exact evaluations | seconds |")
    print("|---:|---:|---:|---:|---:|")
    base = _scaled(1_000_000)
    for C in (base, _with_di(base, 0.6), _with_di(base, 0.7)):
        t0 = time.perf_counter()
        r = recommended_sample_size(C)
        secs = time.perf_counter() - t0
        print(f"| {r.di_full:.3f} | {r.m} | {r.last_unsafe} | {r.evaluations} | {secs:.2f} |")


def authors(cache_dir: str) -> None:
    from fairwash.catalogue import sample_size as size_of
    from fairwash.data.authors import AUTHORS_DATASETS, load_authors, load_authors_thresholds
    from fairwash.detect.cells import cell_di_cap
    from fairwash.detect.dilaw import cell_counts

    thr = load_authors_thresholds(cache_dir=cache_dir, download=False)
    print("\n## The authors' seven sets: caps at m = 10 % / 20 % of n (α = 0.05)\n")
    print("| set | n | DI | m | DI-test cap | exact level | battery cell cap (W_P, KL_P) | "
          "recommended m | seconds (cap, m*) |")
    print("|:---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name in AUTHORS_DATASETS:
        d = load_authors(name, cache_dir=cache_dir, download=False)
        C = cell_counts(d.S, d.Y_hat)
        t0 = time.perf_counter()
        rec = recommended_sample_size(C)
        t_rec = time.perf_counter() - t0
        for frac in (0.1, 0.2):
            m = size_of(frac, d.n)
            t0 = time.perf_counter()
            q = di_quantile(C, m)
            t_q = time.perf_counter() - t0
            th = thr.get(name, {}).get(m)
            if th is None:
                battery = "–"
            else:
                ctx = SimpleNamespace(cells=C / C.sum(), kl_form="authors", gamma=1.0)
                battery = f"{cell_di_cap(ctx, SimpleNamespace(thresholds=th), m, ('W_P', 'KL_P')):.3f}"
            print(f"| {name} | {d.n} | {float(d.meta['di']):.3f} | {m} | {q.value:.3f} | {q.size:.5f} | "
                  f"{battery} | {rec.m} | {t_q:.2f}, {t_rec:.2f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--authors", help="folder holding the authors' Result/ (section 3)")
    ap.add_argument("--skip-speed", action="store_true")
    args = ap.parse_args()
    print(f"# Exact DI law benchmarks ({platform.processor() or platform.machine()}, "
          f"python {platform.python_version()})\n")
    if not args.skip_speed:
        speed()
        sample_size()
    if args.authors:
        authors(args.authors)


if __name__ == "__main__":
    main()
