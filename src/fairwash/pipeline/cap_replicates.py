r"""Stage: the spread of the battery's cell cap over independent sets of honest draws (issue 21).

Four of the seven tests (KS on the binary ŷ, KL_P, W_P, MMD_P) see a sample only through
its four (s, ŷ) cell counts, as its DI does, so under one set of reference thresholds
(eq. 3) the highest DI a passing sample can show is a number of the thresholds alone, the
*cell cap* (:func:`fairwash.detect.cells.cell_di_cap`): no attack that passes the battery
shows more, and W_A, KL_A, MMD_A can only lower it. Table 3's cell is the highest DI of the
passing samples an attack produced, so it sits at or under the cap of the thresholds it was
searched with — and those thresholds are one draw of a random quantity.

This stage recomputes the cell tests' thresholds under ``K`` independent sets of honest
draws per (data set, m) — set 0 with the main reference's seed, so its thresholds are the
main reference file's — and reports the caps' spread beside the paper's fairest undetected
DI (the max over its methods, Tables 3 and 15): whether the paper's figure lies within the
noise of the cap. Only cell statistics are drawn (milliseconds a draw), so it runs on every
data set, the authors' n = 20 000 sets included, without exact W_A.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairwash import paper_values
from fairwash.catalogue import CELL_TESTS, REPORTED_DI_MAX, TESTS
from fairwash.data.base import AuditData
from fairwash.io import atomic_write_parquet
from fairwash.pipeline.replicates import PAPER_QUANTITY, PAPER_ROUNDING, SPREAD_QUANTILES, TABLE_OF, inside
from fairwash.tables import paper_name, size_percent

__all__ = ["cell_cap_values", "optimal_caps", "cap_replicates_stage", "read_caps", "paper_fairest_max",
           "caps_table"]

#: Table -> the paper's quantity (:data:`fairwash.pipeline.replicates.PAPER_QUANTITY` by table name).
_PAPER_QUANTITY = {TABLE_OF[which]: quantity for which, quantity in PAPER_QUANTITY.items()}


def cell_cap_values(full: np.ndarray, sets: Sequence[tuple[int, int, int]], *, n_draws: int, level: float,
                    rule: str, ablation: Sequence[str]) -> pd.DataFrame:
    """The cell tests' thresholds and the cell caps of each set of honest draws.

    Parameters
    ----------
    full : ndarray, shape (n, d + 2)
        The full data ``(x, s, ŷ)``.
    sets : sequence of (m, r, seed)
        One set of ``n_draws`` honest draws of size ``m`` per entry, drawn with ``seed``
        (the seed of reference set ``r``: :func:`fairwash.detect.thresholds.reference_thresholds`
        with the same seed draws the same samples as the reference file of that seed).
    n_draws, level, rule
        As the battery's reference (eq. 3).
    ablation : sequence of str
        The tests of Table 15.

    Returns
    -------
    DataFrame
        Columns ``m``, ``r``, ``quantity`` (a cell test's name: its threshold; ``cell cap
        (Table 3)`` / ``cell cap (Table 15)``: the cap under the seven tests / Table 15's),
        ``value``, ``seconds`` (the set's draws and caps).
    """
    # imported here: the battery imports POT, which the table and figure rules do not need
    from fairwash.detect.cells import cell_di_cap
    from fairwash.detect.context import BatteryContext
    from fairwash.detect.thresholds import reference_thresholds

    ctx = BatteryContext.prepare(full)  # the full data's statistics, once for every set and size
    rows: list[dict[str, Any]] = []
    for m, r, seed in sets:
        t0 = time.perf_counter()
        thr = reference_thresholds(full, int(m), tests=CELL_TESTS, n_draws=int(n_draws), level=float(level),
                                   rule=rule, random_state=int(seed), context=ctx)
        found = [(t, float(thr.thresholds[t])) for t in CELL_TESTS if t in thr.thresholds]
        for which, tests in (("Table 3", TESTS), ("Table 15", tuple(ablation))):
            found.append((f"cell cap ({which})", float(cell_di_cap(ctx, thr, int(m), tests))))
        seconds = time.perf_counter() - t0
        rows += [{"m": int(m), "r": int(r), "quantity": q, "value": v, "seconds": seconds} for q, v in found]
    return pd.DataFrame(rows, columns=["m", "r", "quantity", "value", "seconds"])


def cap_replicates_stage(*, audited_parquet: str | Path, dataset: str, sets: Sequence[Sequence[int]],
                         n_draws: int, level: float, rule: str, ablation: Sequence[str],
                         out_parquet: str | Path) -> pd.DataFrame:
    """Rule ``cap_replicates``: :func:`cell_cap_values` of one data set, written to ``out_parquet``."""
    full = AuditData.load(audited_parquet).joint()
    sets = [tuple(int(x) for x in s) for s in sets]
    frame = cell_cap_values(full, sets, n_draws=n_draws, level=level, rule=rule, ablation=ablation)
    frame = pd.concat([frame, optimal_caps(full, sorted({m for m, _, _ in sets}), alpha=1 - float(level))],
                      ignore_index=True)
    frame.insert(0, "data set", dataset)
    atomic_write_parquet(frame, out_parquet)
    return frame


def optimal_caps(full: np.ndarray, sizes: Sequence[int], *, alpha: float) -> pd.DataFrame:
    """The optimal protocol's cap at each size: exact, so one value (``r = 0``), no spread.

    The (1 − α) quantile of an honest sample's DI under the multivariate hypergeometric law
    of its four cell counts (:func:`fairwash.detect.dilaw.di_quantile`).
    """
    # imported here: as above (the honest law's module is loaded only by the stage itself)
    from fairwash.detect.dilaw import cell_counts, di_quantile

    cells = cell_counts(full[:, -2], full[:, -1])
    rows = []
    for m in sizes:
        t0 = time.perf_counter()
        q = di_quantile(cells, int(m), float(alpha))
        rows.append({"m": int(m), "r": 0, "quantity": "optimal cap", "value": float(q.value),
                     "seconds": time.perf_counter() - t0})
    return pd.DataFrame(rows)


def read_caps(paths: Sequence[str | Path]) -> pd.DataFrame:
    """The :func:`cap_replicates_stage` files of several data sets, as one frame."""
    frames = [pd.read_parquet(p) for p in paths]
    if not frames:
        raise ValueError("no cell-cap replicate file given")
    return pd.concat(frames, ignore_index=True)


def paper_fairest_max(name: str | None, pct: int | None, table: str) -> str:
    """The paper's fairest undetected DI of a data set and size, the max over its methods, as printed.

    ``""`` when the paper has no such cell (not its data set, not 10 % / 20 %); ``"–"`` when
    every method's cell is "–" (nothing undetected).
    """
    if name is None or pct is None:
        return ""
    quantity = f"{_PAPER_QUANTITY[table]}@{pct}"
    printed = [paper_values.lookup(name, me, quantity) for me in paper_values.METHODS]
    printed = [p for p in printed if p != ""]
    numbers = [(paper_values.as_float(p), p) for p in printed]
    numbers = [(x, p) for x, p in numbers if not math.isnan(x)]
    if numbers:
        return max(numbers)[1]
    return "–" if printed else ""


def caps_table(values: pd.DataFrame, *, specs: Mapping[str, Mapping[str, Any]],
               n_audit: Mapping[str, int]) -> pd.DataFrame:
    """Per (data set, m, table): the cell cap's spread over the sets beside the paper's fairest DI.

    Parameters
    ----------
    values : frame of :func:`cap_replicates_stage` (several data sets concatenated)
    specs : mapping data set -> its config block (names the paper's data set)
    n_audit : mapping data set -> audited n (the paper's 10 % / 20 %)

    Columns: ``data set``, ``m``, ``size %``, ``table``, ``sets``, ``main`` (set 0: the cap
    of the thresholds every other table uses), ``median``, ``q10``, ``q90``, ``min``, ``max``,
    ``paper`` (the paper's fairest undetected DI, max over its methods, as printed; the caps are
    compared with it as ``min(cap, 1)``, since Table 3 caps the DI at 1),
    ``in 10–90`` / ``in min–max`` (the printed value, ± half its last digit, meets the range;
    see :func:`fairwash.pipeline.replicates.inside`), ``paper ≤ cap max`` (the paper's value
    is at most the largest cap of our sets: it is attainable under some honest draws; "–" is),
    ``paper − median``, ``optimal cap``
    (the optimal protocol's exact cap at that m, :func:`optimal_caps`) and ``seconds`` (all
    the data set's sets at that m).
    """
    rows = []
    optimal = values[values["quantity"] == "optimal cap"].set_index(["data set", "m"])["value"]
    caps = values[values["quantity"].str.startswith("cell cap")]
    lo_q, hi_q = SPREAD_QUANTILES
    for (ds, m, quantity), grp in caps.groupby(["data set", "m", "quantity"], sort=False):
        table = quantity[len("cell cap ("):-1]
        if table not in TABLE_OF.values():
            raise ValueError(f"unknown cap quantity {quantity!r}")
        v = grp["value"].to_numpy(float)
        pct = size_percent(int(m), int(n_audit[ds]))
        paper = paper_fairest_max(paper_name(specs.get(ds, {})), pct, table)
        q10, q90 = float(np.quantile(v, lo_q)), float(np.quantile(v, hi_q))
        main = grp.loc[grp["r"] == 0, "value"]
        x = paper_values.as_float(paper) if paper else math.nan
        med = float(np.quantile(v, 0.5))
        top = min(float(v.max()), REPORTED_DI_MAX)
        under = None if not paper else bool(math.isnan(x) or x - PAPER_ROUNDING <= top)
        rows.append({"data set": ds, "m": int(m), "size %": "" if pct is None else str(pct), "table": table,
                     "sets": len(v), "main": float(main.iloc[0]) if len(main) else math.nan,
                     "median": med, "q10": q10, "q90": q90, "min": float(v.min()), "max": float(v.max()),
                     "paper": paper,
                     "in 10–90": inside(paper, min(q10, REPORTED_DI_MAX), min(q90, REPORTED_DI_MAX)),
                     "in min–max": inside(paper, min(float(v.min()), REPORTED_DI_MAX), top),
                     "paper ≤ cap max": under,
                     "paper − median": x - min(med, REPORTED_DI_MAX) if np.isfinite(med) else math.nan,
                     "optimal cap": float(optimal.get((ds, int(m)), math.nan)),
                     "seconds": float(grp.drop_duplicates("r")["seconds"].sum())})
    return pd.DataFrame(rows)

