r"""Detection rates of the battery on a manipulated distribution (paper, Section 7, Table 2).

Repeated samples of size ``m`` from a manipulated distribution ``Q``, each run through
the whole battery (:func:`fairwash.detect.battery.run_battery`); a method *evades* a
test at size ``m`` if some sample has DI > 0.8 and passes it
(:func:`detection_summary`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from fairwash.catalogue import COMPLIANCE_THRESHOLD, TESTS
from fairwash.detect.battery import check_thresholds, context_for_thresholds, run_battery
from fairwash.detect.context import BatteryContext
from fairwash.detect.thresholds import ReferenceThresholds
from fairwash.manipulate import Manipulation
from fairwash.protocol.samples import draw_samples, sample_di

__all__ = ["detection", "empty_detection", "detection_summary"]


def detection(
    full_rows,
    manipulation: Manipulation,
    m: int,
    thresholds: ReferenceThresholds,
    *,
    n_samples: int,
    tests: Sequence[str] = TESTS,
    target: float = COMPLIANCE_THRESHOLD,
    random_state: int | np.random.Generator,
    context: BatteryContext | None = None,
) -> pd.DataFrame:
    """Run the battery on repeated samples of size ``m`` from ``Q`` (Table 2).

    Parameters
    ----------
    full_rows : ndarray, shape (n, d + 2)
        The original data ``(x, s, ŷ)``; ignored when ``context`` is given.
    manipulation : Manipulation
        ``Q``.
    m : int
    thresholds : ReferenceThresholds
        For ``m`` on ``full_rows``.
    n_samples : int
    tests : sequence of str
    target : float
        Compliance threshold (a sample is *compliant* if its DI > target).
    random_state : int or Generator
    context : BatteryContext, optional

    Returns
    -------
    DataFrame
        One row per sample: ``sample``, ``di`` (nan if undefined), ``compliant``, and per
        test ``{t}_stat``, ``{t}_p``, ``{t}_rejected``; ``passed`` (no test rejects).
    """
    ctx = context if context is not None else context_for_thresholds(full_rows, thresholds)
    tests = tuple(tests)
    check_thresholds(ctx, thresholds, tests, m)
    idx = draw_samples(manipulation, m, n_samples, random_state, key=(int(m),))
    dis = sample_di(manipulation.S, manipulation.Y_hat, idx)
    rows = manipulation.joint()
    records = []
    for j in range(len(idx)):
        res = run_battery(None, rows[idx[j]], thresholds, tests=tests, context=ctx)
        rec: dict[str, Any] = {"sample": j, "di": float(dis[j]),
                               "compliant": bool(np.isfinite(dis[j]) and dis[j] > target)}
        for r in res.results:
            rec[f"{r.name}_stat"] = r.statistic
            rec[f"{r.name}_p"] = r.p_value
            rec[f"{r.name}_rejected"] = r.rejected
        rec["passed"] = res.passed
        records.append(rec)
    return pd.DataFrame(records)


def empty_detection(tests: Sequence[str] = TESTS) -> pd.DataFrame:
    """:func:`detection`'s frame with no sample (a method that could not build ``Q``)."""
    frame = pd.DataFrame({"sample": [], "di": [], "compliant": [], "passed": []})
    for t in tests:
        frame[f"{t}_stat"], frame[f"{t}_p"], frame[f"{t}_rejected"] = [], [], []
    return frame.astype({"compliant": bool, "passed": bool} | {f"{t}_rejected": bool for t in tests})


def detection_summary(frame: pd.DataFrame, tests: Sequence[str] = TESTS) -> dict[str, Any]:
    """Rejection rates and evasion of one (method, m) from :func:`detection`'s frame.

    Returns
    -------
    dict
        ``n_samples``, ``n_undefined`` (DI undefined), ``n_compliant`` (DI > target);
        ``rejection_rate[t]`` over all samples; ``compliant_pass_rate[t]``: share of the
        compliant samples passing ``t`` (nan if none); ``compliant_pass_all``: share passing
        every test; ``evades[t]``: some compliant sample passes ``t``; ``evades_all``: some
        compliant sample passes every test (the paper's "undetected at size m").
    """
    tests = tuple(tests)
    comp = frame["compliant"].to_numpy(bool)
    n_comp = int(comp.sum())
    out: dict[str, Any] = {
        "n_samples": len(frame),
        "n_undefined": int(frame["di"].isna().sum()),
        "n_compliant": n_comp,
        "di_mean": float(frame["di"].mean()) if len(frame) else math.nan,
        "rejection_rate": {}, "compliant_pass_rate": {}, "evades": {},
    }
    for t in tests:
        rej = frame[f"{t}_rejected"].to_numpy(bool)
        out["rejection_rate"][t] = float(rej.mean()) if len(frame) else math.nan
        out["compliant_pass_rate"][t] = float((~rej[comp]).mean()) if n_comp else math.nan
        out["evades"][t] = bool((~rej & comp).any())
    passed = frame["passed"].to_numpy(bool)
    out["pass_rate"] = float(passed.mean()) if len(frame) else math.nan
    out["compliant_pass_all"] = float(passed[comp].mean()) if n_comp else math.nan
    out["evades_all"] = bool((passed & comp).any())
    return out
