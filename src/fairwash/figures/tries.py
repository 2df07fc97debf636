"""The data of Figs. 9 and 11: how many tries an auditee needs (hypergeometric estimates).

Computed from the audit stage's files (per-sample verdicts, the fairest search's levels);
drawn by :mod:`fairwash.figures.audit`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairwash.catalogue import TESTS
from fairwash.io import read_json
from fairwash.store import read_audit_frame

__all__ = ["all_fail_curve", "detection_frame", "detection_tries", "fairest_tries", "read_fairest"]


def all_fail_curve(n: int, n_fail: int, max_tries: int | None = None) -> np.ndarray:
    """P(all of ``k`` tries fail) for ``k = 1 … max_tries``, from ``n_fail`` failures in ``n`` recorded tries.

    The ``k`` tries are ``k`` of the ``n`` recorded samples taken in random order
    (without replacement), so the probability is hypergeometric:

    .. math:: \\hat P_k = \\binom{n_{\\mathrm{fail}}}{k} \\Big/ \\binom{n}{k}
              = \\prod_{i=0}^{k-1} \\frac{n_{\\mathrm{fail}} - i}{n - i},

    the unbiased estimate of :math:`p^k` for independent tries failing with
    probability ``p`` (a U-statistic); it is 0 once ``k > n_fail``.

    Parameters
    ----------
    n : int, >= 1
        Recorded tries.
    n_fail : int, 0 <= n_fail <= n
    max_tries : int, optional
        At most ``n`` (default ``n``).

    Returns
    -------
    ndarray, shape (max_tries,)

    Examples
    --------
    >>> all_fail_curve(4, 2).tolist()
    [0.5, 0.16666666666666666, 0.0, 0.0]
    """
    n, n_fail = int(n), int(n_fail)
    if n < 1 or not 0 <= n_fail <= n:
        raise ValueError(f"need n >= 1 and 0 <= n_fail <= n, got n={n}, n_fail={n_fail}")
    kmax = n if max_tries is None else int(max_tries)
    if not 1 <= kmax <= n:
        raise ValueError(f"max_tries must lie in [1, n={n}], got {max_tries}")
    i = np.arange(kmax, dtype=np.float64)
    return np.cumprod(np.clip(n_fail - i, 0.0, None) / (n - i))


def detection_frame(paths: Mapping[tuple[str, int], str | Path]) -> pd.DataFrame:
    """The per-sample battery verdicts of one data set (Table 2 samples), stacked.

    Parameters
    ----------
    paths : mapping (method, m) -> ``results/audit/{ds}/{method}_m{m}.parquet``

    Returns
    -------
    DataFrame
        The files' rows with ``method`` and ``m`` columns in front.
    """
    frames = []
    for (method, m), path in paths.items():
        f = read_audit_frame(path)
        f.insert(0, "m", int(m))
        f.insert(0, "method", str(method))
        frames.append(f)
    if not frames:
        raise ValueError("no detection files given")
    return pd.concat(frames, ignore_index=True)


def detection_tries(verdicts: pd.DataFrame, tests: Sequence[str] = TESTS) -> pd.DataFrame:
    """Fig. 9 data: P(each of ``k`` samples is rejected), per method, m and test.

    For each test, and for the battery as a whole (``"any"``: a sample is rejected
    when at least one of ``tests`` rejects it), the probability that an auditee
    drawing ``k`` samples from the method's distribution sees every one rejected
    (:func:`all_fail_curve` on the recorded verdicts).

    Parameters
    ----------
    verdicts : DataFrame
        :func:`detection_frame` output: ``method``, ``m`` and ``{test}_rejected`` columns
        (nullable: a test not computed on every sample counts over the ``full_battery``
        samples only, its seeded subsample; ``any`` likewise).

    Returns
    -------
    DataFrame
        Columns ``method``, ``m``, ``test``, ``k``, ``p_all_rejected``, ``n``, ``n_rejected``.
    """
    for t in tests:
        if f"{t}_rejected" not in verdicts:
            raise KeyError(f"the verdicts have no column {t}_rejected; columns: {list(verdicts.columns)}")
    rows = []
    for (method, m), g in verdicts.groupby(["method", "m"], sort=False):
        full = g["full_battery"].to_numpy(bool) if "full_battery" in g else np.ones(len(g), bool)
        cols = {t: g[f"{t}_rejected"].astype("boolean") for t in tests}
        rej = {t: c.fillna(False).to_numpy(bool) for t, c in cols.items()}
        known = {t: c.notna().to_numpy(bool) for t, c in cols.items()}
        rej["any"] = np.logical_or.reduce([rej[t] for t in tests])
        known["any"] = np.logical_and.reduce([known[t] for t in tests])
        for test, r in rej.items():
            # a test missing on some samples: only its seeded subsample (the rest were chosen by verdicts)
            over = known[test] if known[test].all() else known[test] & full
            n, k = int(over.sum()), int(r[over].sum())
            if n == 0:
                continue
            rows.append(pd.DataFrame({"method": method, "m": int(m), "test": test, "k": np.arange(1, n + 1),
                                      "p_all_rejected": all_fail_curve(n, k), "n": n, "n_rejected": k}))
    return pd.concat(rows, ignore_index=True)



def fairest_tries(results: Mapping[str, Mapping[str, Any]], *, tests: str = "seven") -> pd.DataFrame:
    """Fig. 11 data: P(no undetected sample above the fairest level within ``k`` tries).

    For each method and sample size ``m``, at the level where the fairest-undetected
    search (Table 3) found its sample, ``n_passed`` of the ``n_samples`` samples drawn
    had a DI above the level and passed every test; an auditee drawing ``k`` samples
    from the same distribution finds none with probability :func:`all_fail_curve`
    ``(n_samples, n_samples − n_passed)``.  Methods that found no undetected sample at
    any level are left out (the table says "–").

    Parameters
    ----------
    results : mapping method -> the parsed ``results/audit/{ds}/fairest_{method}.json``
    tests : {"seven", "ablation"}, default "seven"
        The seven-test search (Table 3) or the no-MMD one (Table 15).

    Returns
    -------
    DataFrame
        Columns ``method``, ``m``, ``level``, ``best_di``, ``n``, ``n_passed``, ``k``,
        ``p_none``, ``median_tries`` (the smallest ``k`` with ``p_none <= 0.5``; NaN
        if none within ``n``).
    """
    rows = []
    for method, res in results.items():
        for m, per in (res.get("sizes") or {}).items():
            r = per.get(tests)
            if not r or r.get("level_found") is None:
                continue
            level = float(r["level_found"])
            found = [lv for lv in r["levels"] if lv.get("status") == "searched"
                     and math.isclose(float(lv["level"]), level)]
            if not found:
                continue
            n = int(r["n_samples"])
            passed = int(found[-1]["n_passed"])
            curve = all_fail_curve(n, n - passed)
            below = np.flatnonzero(curve <= 0.5)
            rows.append(pd.DataFrame({
                "method": str(method), "m": int(m), "level": level, "best_di": r.get("best_di"), "n": n,
                "n_passed": passed, "k": np.arange(1, n + 1), "p_none": curve,
                "median_tries": float(below[0] + 1) if below.size else np.nan}))
    cols = ["method", "m", "level", "best_di", "n", "n_passed", "k", "p_none", "median_tries"]
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=cols)


def read_fairest(paths: Mapping[str, str | Path]) -> dict[str, dict[str, Any]]:
    """``{method: parsed fairest json}`` from ``{method: results/audit/{ds}/fairest_{method}.json}``."""
    return {method: read_json(p) for method, p in paths.items()}
