r"""Detection rates of the battery on a manipulated distribution (paper, Section 7, Table 2).

Repeated samples of size ``m`` from a manipulated distribution ``Q``, each run through
the battery; a method *evades* a test at size ``m`` if some sample has DI > 0.8 and
passes it (:func:`detection_summary`).

The cheap tests are computed on every sample. Exact W_A (:data:`LAZY_TESTS`: network
simplex on ``m x n``, seconds a sample) is computed only where it can change the verdict
"some compliant sample evades every test" — on compliant samples that pass every other
test — and on a seeded subsample of ``w_a_rate_samples`` samples (``full_battery``), over
which its own rejection rate is reported. The verdicts are
:class:`fairwash.detect.lazy.LazyBattery`'s (those of
:func:`fairwash.detect.battery.run_battery`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from fairwash.catalogue import COMPLIANCE_THRESHOLD, COST_ORDER, LAZY_TESTS, TESTS
from fairwash.detect.battery import check_thresholds, context_for_thresholds
from fairwash.detect.context import BatteryContext
from fairwash.detect.lazy import LazyBattery, TestCounters
from fairwash.detect.thresholds import ReferenceThresholds
from fairwash.manipulate import Manipulation
from fairwash.protocol.samples import draw_samples, sample_di
from fairwash.seeding import spawn_stream

__all__ = ["detection", "empty_detection", "detection_summary", "full_battery_mask"]


def full_battery_mask(n_samples: int, w_a_rate_samples: int | None, random_state: int | np.random.Generator,
                      m: int) -> np.ndarray:
    """Which of ``n_samples`` samples get every test (the subsample of :data:`LAZY_TESTS`' rates).

    ``None`` (or at least ``n_samples``) = all of them (the paper's battery on every sample);
    otherwise ``w_a_rate_samples`` samples chosen without replacement from the stream
    ``SeedSequence(random_state, spawn_key=(m,))`` (the samples' own streams have keys ``(m, j)``).
    """
    mask = np.ones(int(n_samples), dtype=bool)
    if w_a_rate_samples is None or int(w_a_rate_samples) >= n_samples:
        return mask
    if int(w_a_rate_samples) < 0:
        raise ValueError(f"w_a_rate_samples must be >= 0 or None, got {w_a_rate_samples}")
    rng = spawn_stream(random_state, (int(m),))
    chosen = rng.choice(int(n_samples), int(w_a_rate_samples), replace=False)
    mask[:] = False
    mask[chosen] = True
    return mask


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
    w_a_rate_samples: int | None = None,
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
    w_a_rate_samples : int, optional
        Samples (seeded, :func:`full_battery_mask`) on which :data:`LAZY_TESTS` are computed
        whatever the other tests say; ``None`` = every sample (every test everywhere).

    Returns
    -------
    DataFrame
        One row per sample: ``sample``, ``di`` (nan if undefined), ``compliant``, and per
        test ``{t}_stat``, ``{t}_p`` (nan where not computed), ``{t}_rejected`` (pandas
        ``boolean``, NA where not computed); ``passed`` (no test rejects: False where a
        computed test rejects, NA where a test was not computed and none rejects — a
        non-compliant sample, which decides no evasion); ``full_battery``: the sample is in the
        seeded subsample on which every test is computed whatever the verdicts (the rates of
        :data:`~fairwash.catalogue.LAZY_TESTS` are over these; other samples may have every
        test computed too, chosen by their verdicts).
    """
    ctx = context if context is not None else context_for_thresholds(full_rows, thresholds)
    tests = tuple(tests)
    check_thresholds(ctx, thresholds, tests, m)
    idx = draw_samples(manipulation, m, n_samples, random_state, key=(int(m),))
    dis = sample_di(manipulation.S, manipulation.Y_hat, idx)
    full = full_battery_mask(len(idx), w_a_rate_samples, random_state, m)
    lazy = tuple(t for t in COST_ORDER if t in tests and t in LAZY_TESTS)
    cheap = tuple(t for t in COST_ORDER if t in tests and t not in LAZY_TESTS)
    rows = manipulation.joint()
    counters = TestCounters()
    records = []
    for j in range(len(idx)):
        compliant = bool(np.isfinite(dis[j]) and dis[j] > target)
        bat = LazyBattery(ctx, thresholds, rows[idx[j]], counters)
        cheap_rejects = [bat.rejects(t) for t in cheap]  # every cheap test, for its own rate
        if full[j] or (compliant and not any(cheap_rejects)):
            for t in lazy:
                bat.rejects(t)
        rec: dict[str, Any] = {"sample": j, "di": float(dis[j]), "compliant": compliant}
        for t in tests:
            done = t in bat.rejected
            rec[f"{t}_stat"] = bat.stats[t] if done else math.nan
            rec[f"{t}_p"] = bat.p_values[t] if done else math.nan
            rec[f"{t}_rejected"] = bat.rejected[t] if done else pd.NA
        rec["passed"] = (False if any(bat.rejected.values())
                         else True if len(bat.rejected) == len(tests) else pd.NA)
        rec["full_battery"] = bool(full[j])
        records.append(rec)
    if not records:
        return empty_detection(tests)
    frame = pd.DataFrame(records)
    return frame.astype({"compliant": bool, "full_battery": bool, "passed": "boolean"}
                        | {f"{t}_rejected": "boolean" for t in tests})


def empty_detection(tests: Sequence[str] = TESTS) -> pd.DataFrame:
    """:func:`detection`'s frame with no sample (a method that could not build ``Q``)."""
    cols: dict[str, Any] = {"sample": pd.Series(dtype="int64"), "di": pd.Series(dtype="float64"),
                            "compliant": pd.Series(dtype=bool)}
    for t in tests:
        cols[f"{t}_stat"] = pd.Series(dtype="float64")
        cols[f"{t}_p"] = pd.Series(dtype="float64")
        cols[f"{t}_rejected"] = pd.Series(dtype="boolean")
    cols["passed"] = pd.Series(dtype="boolean")
    cols["full_battery"] = pd.Series(dtype=bool)
    return pd.DataFrame(cols)


def _known(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(value with NA as False, computed) of a nullable boolean column."""
    col = column.astype("boolean")
    return col.fillna(False).to_numpy(bool), col.notna().to_numpy(bool)


def detection_summary(frame: pd.DataFrame, tests: Sequence[str] = TESTS) -> dict[str, Any]:
    """Rejection rates and evasion of one (method, m) from :func:`detection`'s frame.

    A rate is over the samples where its test was computed; for a test missing on some
    samples (:data:`LAZY_TESTS`), over the ``full_battery`` subsample only: the other
    samples where it was computed were chosen by the other tests' verdicts.

    Returns
    -------
    dict
        ``n_samples``, ``n_undefined`` (DI undefined), ``n_compliant`` (DI > target),
        ``n_full_battery`` (every test computed);
        ``rejection_rate[t]`` and the number of samples it is over, ``rejection_n[t]``;
        ``compliant_pass_rate[t]``: share of those compliant samples passing ``t`` (nan if
        none); ``compliant_pass_all``: share of the compliant samples passing every test;
        ``evades[t]``: some compliant sample passes ``t`` (``None``: none of those computed
        does, and ``t`` was not computed on every compliant sample); ``pass_rate``: share
        passing every test (over ``full_battery`` if some verdict is missing);
        ``evades_all``: some compliant sample passes every test (the paper's "undetected at
        size m"; :func:`detection` decides it on every compliant sample).
    """
    tests = tuple(tests)
    n = len(frame)
    comp = frame["compliant"].to_numpy(bool)
    full = frame["full_battery"].to_numpy(bool) if "full_battery" in frame else np.ones(n, bool)
    n_comp = int(comp.sum())
    out: dict[str, Any] = {
        "n_samples": n,
        "n_undefined": int(frame["di"].isna().sum()),
        "n_compliant": n_comp,
        "n_full_battery": int(full.sum()),
        "di_mean": float(frame["di"].mean()) if n else math.nan,
        "rejection_rate": {}, "rejection_n": {}, "compliant_pass_rate": {}, "evades": {},
    }
    for t in tests:
        rej, known = _known(frame[f"{t}_rejected"])
        over = known if known.all() else known & full
        out["rejection_rate"][t] = float(rej[over].mean()) if over.any() else math.nan
        out["rejection_n"][t] = int(over.sum())
        comp_over = comp & over
        out["compliant_pass_rate"][t] = float((~rej[comp_over]).mean()) if comp_over.any() else math.nan
        found = bool((~rej & known & comp).any())
        out["evades"][t] = True if found else (False if known[comp].all() else None)
    passed, known = _known(frame["passed"])
    over = known if known.all() else known & full
    out["pass_rate"] = float(passed[over].mean()) if over.any() else math.nan
    comp_known = comp & known
    out["compliant_pass_all"] = float(passed[comp_known].mean()) if comp_known.any() else math.nan
    found = bool((passed & comp).any())
    out["evades_all"] = True if found else (False if known[comp].all() else None)
    return out
