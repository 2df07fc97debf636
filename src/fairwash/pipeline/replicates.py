"""Stage: "agrees with the paper" means within noise (issue 21).

Each cell of Tables 3 and 15 is the highest DI among the samples that pass every test at
the first level where one exists: an extreme-value statistic. The replicate rules rerun the
fairest search (:func:`fairwash.pipeline.audit.fairest_stage`, the same function as Table 3)
under K sampling seeds, sharing the main reference thresholds, and recompute the reference
thresholds from independent sets of honest draws. This module turns their files into the
spread tables: per cell our median, our 10–90 % range over the replicates, the paper's value
and whether it lies inside our range (and inside the looser min–max range).

A replicate that finds no undetected sample at any level is the paper's "–". In the order
of the values it counts as lower than every DI (``-inf``), so the range of a cell where some
replicates find nothing reaches down to "–", and the paper's "–" lies inside it exactly when
a quantile of ours is "–" too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairwash import paper_values
from fairwash.catalogue import TESTS
from fairwash.io import json_float, read_json
from fairwash.tables import paper_name, search_not_run, size_percent

__all__ = ["SPREAD_QUANTILES", "PAPER_ROUNDING", "TABLE_OF", "quantile_with_none", "spread", "inside",
           "replicate_values", "replicates_table", "reference_values", "replicates_reference_table",
           "PAPER_QUANTITY"]

#: The quantiles of "our range" (10 % and 90 %).
SPREAD_QUANTILES: tuple[float, float] = (0.1, 0.9)
#: Half a unit of the paper's last printed digit (two decimals): the paper's 0.54 is any value
#: in [0.535, 0.545], so it lies inside our range when that interval meets it.
PAPER_ROUNDING = 0.005
#: The fairest stage's test sets and the paper's table each answers.
TABLE_OF: dict[str, str] = {"seven": "Table 3", "ablation": "Table 15"}
PAPER_QUANTITY: dict[str, str] = {"seven": "fairest", "ablation": "fairest_no_mmd"}


def quantile_with_none(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile of ``values`` in which ``-inf`` stands for "–" (nothing undetected).

    numpy's default (linear) rule: the sorted values ``v``, position ``h = (K - 1) q``,
    ``v[⌊h⌋] + (h - ⌊h⌋)(v[⌈h⌉] - v[⌊h⌋])``; a quantile that falls on or next to a "–"
    is "–" (``-inf``), so a range never hides a replicate that found nothing.

    Parameters
    ----------
    values : sequence of float, non-empty; ``-inf`` for "–"
    q : float in [0, 1]

    Examples
    --------
    >>> quantile_with_none([0.9, 0.8, 0.85], 0.5)
    0.85
    >>> quantile_with_none([-math.inf, 0.8, 0.9], 0.25)
    -inf
    """
    v = np.sort(np.asarray(values, dtype=float))
    if v.size == 0:
        raise ValueError("no values to take a quantile of")
    if not 0 <= q <= 1:
        raise ValueError(f"q must be in [0, 1], got {q}")
    h = (v.size - 1) * q
    lo, hi = math.floor(h), math.ceil(h)
    if not np.isfinite(v[lo]):
        return -math.inf
    return float(v[lo] + (h - lo) * (v[hi] - v[lo]))


def spread(values: Sequence[float | None]) -> dict[str, Any]:
    """Median, 10–90 % range and min–max of one cell's replicates (``None`` = "–").

    Returns
    -------
    dict
        ``K`` (replicates), ``none`` (how many found nothing), ``median``, ``q10``, ``q90``,
        ``min``, ``max``; each ``-inf`` where it is "–".
    """
    v = [-math.inf if x is None or (isinstance(x, float) and math.isnan(x)) else float(x) for x in values]
    if not v:
        raise ValueError("a cell needs at least one replicate")
    lo_q, hi_q = SPREAD_QUANTILES
    return {"K": len(v), "none": sum(1 for x in v if x == -math.inf),
            "median": quantile_with_none(v, 0.5), "q10": quantile_with_none(v, lo_q),
            "q90": quantile_with_none(v, hi_q), "min": min(v), "max": max(v)}


def inside(paper: str, lo: float, hi: float, rounding: float = PAPER_ROUNDING) -> bool | None:
    """Whether the paper's printed value lies in ``[lo, hi]`` (``-inf`` = "–").

    A printed number ``x`` stands for ``[x - rounding, x + rounding]``; it is inside when
    that interval meets ``[lo, hi]``. The paper's "–" is inside when ``lo`` is "–".
    ``None`` when the paper gives no value (``""``).

    Examples
    --------
    >>> inside("0.54", 0.50, 0.537), inside("0.54", 0.55, 0.6), inside("–", -math.inf, 0.7)
    (True, False, True)
    """
    if paper == "":
        return None
    x = paper_values.as_float(paper)
    if math.isnan(x):  # the paper's "–"
        return bool(lo == -math.inf)
    return bool(x + rounding >= lo and x - rounding <= hi)


def _finite_or_nan(x: float) -> float:
    return x if np.isfinite(x) else math.nan


def replicate_values(results: Mapping[tuple[str, str, int], str | Path], *,
                     specs: Mapping[str, Mapping[str, Any]], n_audit: Mapping[str, int]) -> pd.DataFrame:
    """One row per (data set, method, size, table, replicate): the fairest stage's answer.

    Parameters
    ----------
    results : mapping (data set, method, k) -> a ``fairest_replicate`` JSON
    specs : mapping data set -> its config block (names the paper's data set)
    n_audit : mapping data set -> audited n (the paper's 10 % / 20 %)

    Columns: ``data set``, ``method``, ``m``, ``size %``, ``table`` (Table 3 / Table 15),
    ``k``, ``fairest DI`` (NaN: "–" or not run), ``found`` (an undetected sample exists),
    ``not run`` (the method failed at every level), ``level``, ``cell cap``, ``paper``.
    """
    rows = []
    for (ds, method, k), path in results.items():
        out = read_json(path)
        name = paper_name(specs.get(ds, {}))
        for m_str, by_set in sorted(out["sizes"].items(), key=lambda kv: int(kv[0])):
            m, pct = int(m_str), size_percent(int(m_str), int(n_audit[ds]))
            for which, table in TABLE_OF.items():
                r = by_set[which]
                best = None if r["best_di"] is None else json_float(r["best_di"])
                rows.append({
                    "data set": ds, "method": method, "m": m, "size %": "" if pct is None else str(pct),
                    "table": table, "k": int(k), "fairest DI": math.nan if best is None else best,
                    "found": best is not None, "not run": search_not_run(r),
                    "level": math.nan if r["level_found"] is None else json_float(r["level_found"]),
                    "cell cap": json_float(r["cell_cap"]),
                    "paper": "" if pct is None else paper_values.lookup(name, method,
                                                                         f"{PAPER_QUANTITY[which]}@{pct}"),
                })
    return pd.DataFrame(rows)


_KEYS = ["data set", "method", "m", "size %", "table"]


def _spread_row(values: Sequence[float | None], paper: str) -> dict[str, Any]:
    s = spread(values)
    return {"K": s["K"], "–": s["none"], "median": _finite_or_nan(s["median"]),
            "q10": _finite_or_nan(s["q10"]), "q90": _finite_or_nan(s["q90"]),
            "min": _finite_or_nan(s["min"]), "max": _finite_or_nan(s["max"]), "paper": paper,
            "in 10–90": inside(paper, s["q10"], s["q90"]), "in min–max": inside(paper, s["min"], s["max"])}


def replicates_table(values: pd.DataFrame, caps: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per (data set, method, size, table): our spread over K replicates beside the paper's value.

    Parameters
    ----------
    values : frame of :func:`replicate_values`
    caps : frame of :func:`reference_values`, optional
        The reference-threshold replicates: their cell caps' median and 10–90 % range are
        added beside each cell (NaN where that data set has none).

    Columns: the keys, ``K``, ``–`` (replicates that found nothing), ``median``, ``q10``,
    ``q90``, ``min``, ``max`` (NaN where "–"), ``paper``, ``in 10–90`` and ``in min–max``
    (whether the paper's value lies inside; empty where the paper has none; see
    :func:`inside`), ``main`` (replicate 0: the main run's seed, its Table 3 cell),
    ``cell cap`` (of the shared thresholds: the highest DI a passing sample can show), and
    ``cap median``, ``cap q10``, ``cap q90`` over the reference sets, and ``not run``
    (replicates where the method ran at no level; those are left out of the spread).
    """
    rows = []
    for key, grp in values.groupby(_KEYS, sort=False):
        ran = grp[~grp["not run"]]
        row = dict(zip(_KEYS, key, strict=True))
        if ran.empty:
            row.update({"K": 0, "paper": grp["paper"].iloc[0]})
        else:
            found = [v if f else None for v, f in zip(ran["fairest DI"], ran["found"], strict=True)]
            row.update(_spread_row(found, grp["paper"].iloc[0]))
        main = grp[grp["k"] == 0]
        row["main"] = main["fairest DI"].iloc[0] if len(main) else math.nan
        row["cell cap"] = float(grp["cell cap"].iloc[0]) if grp["cell cap"].nunique() == 1 else math.nan
        row.update(_cap_spread(caps, key[0], int(key[2]), key[4]))
        row["not run"] = int(grp["not run"].sum())
        rows.append(row)
    return pd.DataFrame(rows)


def _cap_spread(caps: pd.DataFrame | None, ds: str, m: int, table: str) -> dict[str, float]:
    out = {"cap median": math.nan, "cap q10": math.nan, "cap q90": math.nan}
    if caps is None or caps.empty:
        return out
    sel = caps[(caps["data set"] == ds) & (caps["m"] == m) & (caps["quantity"] == f"cell cap ({table})")]
    if sel.empty:
        return out
    v = sel["value"].to_numpy(float)
    lo_q, hi_q = SPREAD_QUANTILES
    return {"cap median": float(np.quantile(v, 0.5)), "cap q10": float(np.quantile(v, lo_q)),
            "cap q90": float(np.quantile(v, hi_q))}


def reference_values(references: Mapping[tuple[str, int, int], str | Path], *,
                     audited: Mapping[str, str | Path],
                     ablation: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """One row per (data set, m, set r, quantity): each test's threshold and the cell caps.

    Parameters
    ----------
    references : mapping (data set, m, r) -> a reference threshold JSON (set 0: the main one)
    audited : mapping data set -> its audited parquet (the full data of the cell cap)
    ablation : mapping data set -> the tests of Table 15

    The quantities are the name of each test (its threshold, eq. 3) and ``cell cap
    (Table 3)`` / ``cell cap (Table 15)``: :func:`fairwash.detect.cells.cell_di_cap` under
    those thresholds, with the seven tests and without MMD.
    """
    # imported here: the battery imports POT, which reading the replicate files does not need
    from fairwash.data.base import AuditData
    from fairwash.detect.battery import context_for_thresholds
    from fairwash.detect.cells import cell_di_cap
    from fairwash.store import read_thresholds

    full = {ds: AuditData.load(p).joint() for ds, p in audited.items()}
    rows = []
    for (ds, m, r), path in references.items():
        thr = read_thresholds(path)
        for test, value in thr.thresholds.items():
            rows.append({"data set": ds, "m": int(m), "r": int(r), "quantity": test, "value": float(value)})
        ctx = context_for_thresholds(full[ds], thr)
        for which, tests in (("Table 3", TESTS), ("Table 15", tuple(ablation[ds]))):
            rows.append({"data set": ds, "m": int(m), "r": int(r), "quantity": f"cell cap ({which})",
                         "value": float(cell_di_cap(ctx, thr, int(m), tests))})
    return pd.DataFrame(rows)


def replicates_reference_table(
    values: pd.DataFrame, *, specs: Mapping[str, Mapping[str, Any]],
    authors_thresholds: Mapping[str, Mapping[int, Mapping[str, float]]] | None = None,
) -> pd.DataFrame:
    """Per (data set, m, quantity): the spread over independent sets of honest draws.

    Columns: ``data set``, ``m``, ``quantity``, ``sets``, ``main`` (set 0: the thresholds
    every other table uses), ``median``, ``q10``, ``q90``, ``min``, ``max``, and for the
    authors' data sets ``authors`` (their ``dic_threshold.json``: mean + 1.96 std of 30
    draws, KL in their form, so not like for like) with ``in 10–90`` / ``in min–max``
    (exact comparison, no rounding).
    """
    rows = []
    for (ds, m, quantity), grp in values.groupby(["data set", "m", "quantity"], sort=False):
        v = grp["value"].to_numpy(float)
        spec = specs.get(ds, {})
        a = math.nan
        is_test = not quantity.startswith("cell")
        if authors_thresholds is not None and spec.get("source") == "authors" and is_test:
            theirs = authors_thresholds.get(str(spec.get("params", {}).get("dataset", "")), {})
            a = theirs.get(int(m), {}).get(quantity, math.nan)
        lo_q, hi_q = SPREAD_QUANTILES
        q10, q90 = float(np.quantile(v, lo_q)), float(np.quantile(v, hi_q))
        main = grp.loc[grp["r"] == 0, "value"]
        rows.append({"data set": ds, "m": int(m), "quantity": quantity, "sets": len(v),
                     "main": float(main.iloc[0]) if len(main) else math.nan,
                     "median": float(np.quantile(v, 0.5)), "q10": q10, "q90": q90,
                     "min": float(v.min()), "max": float(v.max()), "authors": a,
                     "in 10–90": None if math.isnan(a) else bool(q10 <= a <= q90),
                     "in min–max": None if math.isnan(a) else bool(v.min() <= a <= v.max())})
    return pd.DataFrame(rows)
