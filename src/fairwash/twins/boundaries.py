"""Decision boundaries along a numeric feature, by bisection on the model itself.

For a numeric feature (income) the audit locates, for each twin, the value at which the
model's decision switches (:func:`decision_boundaries`, vectorised over rows), for every
profile (:func:`profile_boundaries`) or exactly, with every switch, for one profile
(:func:`income_boundary`), and reports the gap: how much more income the disadvantaged
twin needs for the same decision.  :func:`approval_curves` gives both twins' approval
probability along a grid (the figures draw it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from fairwash.io import to_jsonable
from fairwash.twins.probe import ModelProbe
from fairwash.twins.profiles import BASE_INCOME_RANGE, Proxy, check_range, make_twins

__all__ = ["decision_boundaries", "profile_boundaries", "income_boundary", "approval_curves"]



def decision_boundaries(
    model: Any,
    rows: pd.DataFrame,
    feature: str,
    lo: float | np.ndarray,
    hi: float | np.ndarray,
    *,
    feature_columns: Sequence[str] | None = None,
    transform: Callable[[np.ndarray], Any] | None = None,
    tol: float = 1.0,
) -> pd.DataFrame:
    """Where each row's decision switches as ``feature`` moves over ``[lo, hi]``, by bisection.

    All rows are bisected at once (one model call per halving): the interval
    ``[a, b]`` with ``h(a) != h(b)`` is halved until ``b - a <= tol``; the
    boundary is reported as ``b`` for an increasing switch (the smallest value
    found approved) and ``a`` for a decreasing one.  Rows whose decision is the
    same at both ends have no boundary in ``[lo, hi]`` (NaN).  With more than one
    switch in ``[lo, hi]`` the bisection finds one of them; :func:`income_boundary`
    first locates every switch on a grid.

    Parameters
    ----------
    lo, hi : float or ndarray, shape (n_rows,)
        Search interval, common or per row.

    Returns
    -------
    DataFrame, one row per input row
        ``boundary`` (float, NaN if none), ``decision_lo``, ``decision_hi``
        (int8), ``status`` (``"increasing"``, ``"decreasing"``,
        ``"always approved"``, ``"always rejected"``).
    """
    n = len(rows)
    lo_arr = np.broadcast_to(np.asarray(lo, dtype=np.float64), (n,)).copy()
    hi_arr = np.broadcast_to(np.asarray(hi, dtype=np.float64), (n,)).copy()
    if not (np.all(np.isfinite(lo_arr)) and np.all(np.isfinite(hi_arr)) and np.all(lo_arr < hi_arr)):
        raise ValueError("lo and hi must be finite with lo < hi for every row")
    if not tol > 0:
        raise ValueError(f"tol must be positive, got {tol}")
    probe = ModelProbe.of(model, feature_columns, transform)
    if feature not in probe.feature_columns:
        raise ValueError(f"feature {feature!r} is not a model input ({list(probe.feature_columns)})")
    frame = rows.reset_index(drop=True).copy()

    def decide_at(x: np.ndarray) -> np.ndarray:
        frame[feature] = x
        return probe.decide(frame)

    d_lo, d_hi = decide_at(lo_arr), decide_at(hi_arr)
    a, b = lo_arr, hi_arr
    width = float(np.max(hi_arr - lo_arr)) if n else 0.0
    n_iter = int(np.ceil(np.log2(width / tol))) if width > tol else 0
    for _ in range(n_iter):  # bisection steps, vectorised over rows
        mid = 0.5 * (a + b)
        same_as_lo = decide_at(mid) == d_lo
        a = np.where(same_as_lo, mid, a)
        b = np.where(same_as_lo, b, mid)
    switch = d_lo != d_hi
    increasing = switch & (d_hi == 1)
    boundary = np.where(switch, np.where(increasing, b, a), np.nan)
    status = np.select(
        [increasing, switch, d_lo == 1],
        ["increasing", "decreasing", "always approved"],
        "always rejected",
    )
    return pd.DataFrame({"boundary": boundary, "decision_lo": d_lo, "decision_hi": d_hi, "status": status})


def profile_boundaries(
    model: Any,
    base: pd.DataFrame,
    feature: str,
    lo: float,
    hi: float,
    *,
    s_column: str,
    values: tuple[int, int] = (0, 1),
    feature_columns: Sequence[str] | None = None,
    transform: Callable[[np.ndarray], Any] | None = None,
    proxies: Sequence[Proxy] = (),
    tol: float = 1.0,
) -> pd.DataFrame:
    """Each profile's decision boundary in ``feature`` for both of its twins, and their gap.

    The twins of every row of ``base`` (:func:`make_twins`) are bisected together on
    ``[lo, hi]`` (:func:`decision_boundaries`, one model call per halving for all rows).
    Where a twin's decision switches more than once in ``[lo, hi]`` one switch is found;
    :func:`income_boundary` lists every switch of a single profile.

    Returns
    -------
    DataFrame, one row per profile
        ``boundary_s0``, ``boundary_s1`` (NaN where the decision does not switch),
        ``status_s0``, ``status_s1`` and ``gap = boundary_s0 - boundary_s1``.
    """
    lo, hi = check_range(lo, hi, name="[lo, hi]")
    twins = make_twins(base.reset_index(drop=True), s_column, values=values, proxies=proxies)
    table = decision_boundaries(model, twins.drop(columns=["pair", "twin"]), feature, lo, hi,
                                feature_columns=feature_columns, transform=transform, tol=tol)
    b = table["boundary"].to_numpy()
    st = table["status"].to_numpy()
    return pd.DataFrame({
        "boundary_s0": b[0::2], "boundary_s1": b[1::2],
        "status_s0": st[0::2], "status_s1": st[1::2],
        "gap": b[0::2] - b[1::2],
    })


def income_boundary(
    model: Any,
    base_row: pd.Series | Mapping[str, Any],
    feature: str = "income",
    lo: float = BASE_INCOME_RANGE[0],
    hi: float = BASE_INCOME_RANGE[1],
    *,
    s_column: str,
    values: tuple[int, int] = (0, 1),
    feature_columns: Sequence[str] | None = None,
    transform: Callable[[np.ndarray], Any] | None = None,
    proxies: Sequence[Proxy] = (),
    tol: float = 1.0,
    n_grid: int = 2001,
    labels: Mapping[int, str] | None = None,
) -> dict[str, Any]:
    """Decision boundary in ``feature`` for each twin of ``base_row``, and the gap.

    For each twin of ``base_row`` (S = ``values[0]`` and ``values[1]``, everything
    else identical) the decision is evaluated on a grid of ``n_grid`` points over
    ``[lo, hi]``; every interval of the grid where it changes is then bisected on
    the model down to ``tol`` (:func:`decision_boundaries`), so the switch points
    are exact up to ``tol``, not sampled.  (A pocket narrower than the grid step
    ``(hi - lo) / (n_grid - 1)`` can be missed.)

    The twin's ``boundary`` is the single switch point when the decision is
    monotone in ``feature``.  When it is not (a fully grown tree copies the other
    group's label in a gap of this group's training data, leaving "pockets"), all
    switches are listed, ``monotone`` is False, and ``boundary`` is the switch
    point of the monotone decision with the same measure of approved values on
    ``[lo, hi]``: ``lo`` plus the measure of the rejected values (increasing), or
    plus the measure of the approved values (decreasing).  It is computed from the
    bisected switch points, and its difference between the twins is the
    difference of their approval shares times ``hi - lo``.

    The gap

    .. math:: \\Delta = b_{s_0} - b_{s_1}

    is how much more of ``feature`` (income) the ``S = values[0]`` twin needs for
    the same decision (negative: the ``S = values[1]`` twin needs more).

    Returns
    -------
    dict
        ``feature``, ``lo``, ``hi``, ``tol``, ``n_grid``; ``s0`` and ``s1``, each
        with ``value``, ``label``, ``boundary`` (None if the decision is the same
        at ``lo`` and ``hi``), ``status``, ``approved_share``, ``switches``
        (list), ``first_switch``, ``last_switch``, ``monotone``;
        ``gap`` (None unless both boundaries exist) and ``message``.
    """
    lo, hi = check_range(lo, hi, name="[lo, hi]")
    if int(n_grid) < 2:
        raise ValueError(f"n_grid must be at least 2, got {n_grid}")
    grid = np.linspace(lo, hi, int(n_grid))
    curves = approval_curves(
        model, base_row, feature, grid, s_column=s_column, values=values,
        feature_columns=feature_columns, transform=transform, proxies=proxies, with_proba=False,
    )
    names = labels or {values[0]: f"{s_column}={values[0]}", values[1]: f"{s_column}={values[1]}"}
    out: dict[str, Any] = {
        "feature": feature, "lo": lo, "hi": hi, "tol": float(tol), "n_grid": int(n_grid),
    }
    for key, i in (("s0", 0), ("s1", 1)):
        d = curves[f"decision_{key}"].to_numpy()
        where = np.flatnonzero(np.diff(d) != 0)
        switches: list[float] = []
        if where.size:
            rows = pd.DataFrame([dict(base_row)] * where.size)
            rows[s_column] = values[i]
            table = decision_boundaries(
                model, rows, feature, grid[where], grid[where + 1],
                feature_columns=feature_columns, transform=transform, tol=tol,
            )
            switches = [float(x) for x in table["boundary"]]
        out[key] = {"value": values[i], "label": names[values[i]], **_twin_boundary(d, switches, lo, hi)}
    out.update(_gap(out["s0"], out["s1"], feature, lo, hi, tol))
    return to_jsonable(out)


def _twin_boundary(d: np.ndarray, switches: list[float], lo: float, hi: float) -> dict[str, Any]:
    """One twin's boundary from its decisions ``d`` on the grid and the bisected ``switches``.

    The decision toggles at each switch: segments ``[lo, s_1], [s_1, s_2], ..., [s_k, hi]``;
    the boundary is that of the monotone decision with the same measure of approved values.
    """
    status = (
        ("increasing" if d[-1] == 1 else "decreasing") if d[0] != d[-1]
        else ("always approved" if d[0] == 1 else "always rejected")
    )
    edges = np.concatenate([[lo], switches, [hi]])
    seg_decision = (int(d[0]) + np.arange(edges.size - 1)) % 2
    approved = float(np.sum(np.diff(edges) * seg_decision))
    if status == "increasing":
        boundary: float | None = hi - approved  # lo + measure of the rejected incomes
    elif status == "decreasing":
        boundary = lo + approved
    else:
        boundary = None
    return {
        "boundary": boundary,
        "status": status,
        "approved_share": approved / (hi - lo),
        "switches": switches,
        "first_switch": switches[0] if switches else None,
        "last_switch": switches[-1] if switches else None,
        "monotone": len(switches) <= 1,
    }


def _gap(s0: Mapping[str, Any], s1: Mapping[str, Any], feature: str, lo: float, hi: float,
         tol: float) -> dict[str, Any]:
    """``gap`` between the twins' boundaries (None unless both exist) and its ``message``."""
    b0, b1 = s0["boundary"], s1["boundary"]
    if b0 is not None and b1 is not None:
        out: dict[str, Any] = {"gap": b0 - b1}
        out["message"] = (
            f"the {s0['label']} twin needs {b0 - b1:+,.0f} more {feature} than the {s1['label']} "
            f"twin for the same decision (boundaries {b0:,.0f} and {b1:,.0f}, tolerance {tol:g})"
        )
    else:
        missing = [g["label"] for g in (s0, s1) if g["boundary"] is None]
        out = {"gap": None, "message": f"no boundary in [{lo:g}, {hi:g}] for: " + ", ".join(missing)}
    if not (s0["monotone"] and s1["monotone"]):
        out["message"] += (
            f"; the decision is not monotone in {feature}: boundaries are those of the monotone decision "
            "with the same approved share (see switches)"
        )
    return out


def approval_curves(
    model: Any,
    base_row: pd.Series | Mapping[str, Any],
    feature: str,
    grid: np.ndarray,
    *,
    s_column: str,
    values: tuple[int, int] = (0, 1),
    feature_columns: Sequence[str] | None = None,
    transform: Callable[[np.ndarray], Any] | None = None,
    proxies: Sequence[Proxy] = (),
    with_proba: bool = True,
) -> pd.DataFrame:
    """Approval probability and decision of both twins of ``base_row`` along ``grid``.

    Returns
    -------
    DataFrame, ``len(grid)`` rows
        ``feature`` value, ``decision_s0``, ``decision_s1`` and (``with_proba``)
        ``proba_s0``, ``proba_s1``.
    """
    grid = np.asarray(grid, dtype=np.float64).reshape(-1)
    if grid.size == 0 or not np.all(np.isfinite(grid)):
        raise ValueError("grid must be a non-empty array of finite values")
    probe = ModelProbe.of(model, feature_columns, transform)
    base = pd.DataFrame([dict(base_row)] * grid.size)
    base[feature] = grid
    twins = make_twins(base, s_column, values=values, proxies=proxies)
    d = probe.decide(twins)
    out = pd.DataFrame({feature: grid, "decision_s0": d[0::2], "decision_s1": d[1::2]})
    if with_proba:
        p = probe.proba(twins)
        out["proba_s0"], out["proba_s1"] = p[0::2], p[1::2]
    return out


