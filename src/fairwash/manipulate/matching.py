r"""Matching M_W(XSŶ): greedy constrained matching of individuals (eq. 11, Appendix 0.A eq. 12).

Every individual ``z_i = (x_i, s_i, ŷ_i)`` belongs to a bin ``(s, ŷ)``.  A move sends an
individual of a source bin onto its nearest neighbour (Euclidean distance on
``(x, s, ŷ)``) in a destination bin: the moved row becomes a copy of that neighbour.  The
greedy loop (:func:`fairwash.manipulate.greedy.run_greedy`) picks, at each evaluation,
the move type maximising

.. math::
    \frac{DI_{new} - DI}{c(z_i, z_j)}                                    \qquad (11)

over the cheapest unused source of each move type, and stops as soon as DI ≥ t.  The
same loop with the metric "minus a gap" gives statistical parity or equality of odds
(eq. 12).  It never calls a model (Remark 5).

Nearest neighbours are found per destination bin (k-d tree in low dimension, blocked
exact distances otherwise): the n × n cost matrix of the authors' code is never built.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import numpy as np
from scipy.spatial import cKDTree

from fairwash.catalogue import COMPLIANCE_THRESHOLD
from fairwash.data.base import AuditData
from fairwash.manipulate.base import Manipulation
from fairwash.manipulate.greedy import (
    DI_MOVES,
    GreedyMetric,
    MoveQueue,
    MoveType,
    build_manipulation,
    di_from_counts,
    identity_manipulation,
    run_greedy,
)

__all__ = ["matching", "eo_matching", "nearest_neighbours", "MATCHING_MOVES"]

#: Matching's four move types (Fig. 2), bins written ``(s, ŷ)``, cells ``2 s + ŷ``.
MATCHING_MOVES = DI_MOVES

Cost = Literal["euclidean", "sqeuclidean"]
NNMethod = Literal["auto", "kdtree", "blocked"]

#: Above this dimension a k-d tree degenerates towards brute force; blocked BLAS is faster.
_KDTREE_MAX_DIM = 12


def nearest_neighbours(
    queries: np.ndarray, points: np.ndarray, *, method: NNMethod = "auto", block: int = 1024
) -> tuple[np.ndarray, np.ndarray]:
    """Exact Euclidean nearest neighbour in ``points`` of each row of ``queries``.

    Parameters
    ----------
    queries : ndarray, shape (q, d)
    points : ndarray, shape (p, d), p >= 1
    method : {"auto", "kdtree", "blocked"}, default "auto"
        ``"kdtree"``: :class:`scipy.spatial.cKDTree`; ``"blocked"``: exact distances by
        blocks of ``block`` queries (memory O(block · p), never q × p); ``"auto"``:
        k-d tree for d ≤ 12, blocked above.
    block : int, default 1024

    Returns
    -------
    index : ndarray of int64, shape (q,)
        Row of ``points`` nearest to each query (ties: the lowest row).
    distance : ndarray of float64, shape (q,)
    """
    queries = np.asarray(queries, dtype=np.float64)
    points = np.asarray(points, dtype=np.float64)
    if points.shape[0] == 0:
        raise ValueError("nearest_neighbours: no points to search")
    if queries.shape[0] == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    if method == "auto":
        method = "kdtree" if points.shape[1] <= _KDTREE_MAX_DIM else "blocked"
    if method == "kdtree":
        dist, idx = cKDTree(points).query(queries, k=1)
        return np.asarray(idx, dtype=np.int64), np.asarray(dist, dtype=np.float64)
    if method != "blocked":
        raise ValueError(f"nearest_neighbours: method must be 'auto', 'kdtree' or 'blocked', not {method!r}")
    pn = np.einsum("ij,ij->i", points, points)
    idx = np.empty(queries.shape[0], dtype=np.int64)
    for start in range(0, queries.shape[0], block):
        qb = queries[start : start + block]
        # ||q - p||² up to the constant ||q||²: enough for the argmin.
        d2 = pn[None, :] - 2.0 * (qb @ points.T)
        idx[start : start + block] = np.argmin(d2, axis=1)
    # exact distances of the chosen pairs (no cancellation error)
    dist = np.sqrt(((queries - points[idx]) ** 2).sum(axis=1))
    return idx, dist


def _queues(
    Z: np.ndarray, cells: np.ndarray, moves: tuple[MoveType, ...], cost: Cost, nn: NNMethod
) -> list[MoveQueue]:
    """For each move type: its sources, their nearest destination rows and costs, cheapest first."""
    if cost not in ("euclidean", "sqeuclidean"):
        raise ValueError(f"Matching: cost must be 'euclidean' or 'sqeuclidean', not {cost!r}")
    rows_of = {c: np.flatnonzero(cells == c) for c in np.unique(cells)}
    out = []
    for mv in moves:
        src = rows_of.get(mv.source, np.zeros(0, dtype=np.int64))
        dst_rows = rows_of.get(mv.dest, np.zeros(0, dtype=np.int64))
        if len(src) == 0 or len(dst_rows) == 0:
            out.append(MoveQueue(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)))
            continue
        j, d = nearest_neighbours(Z[src], Z[dst_rows], method=nn)
        c = d**2 if cost == "sqeuclidean" else d
        order = np.argsort(c, kind="stable")
        out.append(MoveQueue(src[order], dst_rows[j][order], c[order]))
    return out


# ---------------------------------------------------------------------- metrics on counts
def _sp_gap(counts: np.ndarray) -> float:
    c00, c01, c10, c11 = (float(v) for v in counts[:4])
    n0, n1 = c00 + c01, c10 + c11
    if n0 <= 0 or n1 <= 0:
        return float("nan")
    return abs(c01 / n0 - c11 / n1)


def _eo_value(gap: str) -> Callable[[np.ndarray], float]:
    """Equality-of-odds gap from the 8 counts ``c[4 y + 2 s + ŷ]``."""

    def rate(c: np.ndarray, y: int, s: int) -> float:
        tot = float(c[4 * y + 2 * s] + c[4 * y + 2 * s + 1])
        return float(c[4 * y + 2 * s + 1]) / tot if tot > 0 else float("nan")

    def value(c: np.ndarray) -> float:
        tpr = abs(rate(c, 1, 0) - rate(c, 1, 1))
        if gap == "tpr":
            return tpr
        fpr = abs(rate(c, 0, 0) - rate(c, 0, 1))
        return max(tpr, fpr) if gap == "max" else tpr + fpr

    return value


def _eo_moves() -> tuple[MoveType, ...]:
    """Every change of bin ``(s, ŷ)`` inside a true-label stratum y (12 per stratum)."""
    bins = [(0, 0), (0, 1), (1, 0), (1, 1)]
    out = []
    for y in (0, 1):
        for a in bins:
            for b in bins:
                if a != b:
                    name = f"y={y}: {a[0]},{a[1]}->{b[0]},{b[1]}"
                    out.append(MoveType(name, 4 * y + 2 * a[0] + a[1], 4 * y + 2 * b[0] + b[1]))
    return tuple(out)


def _check(data: AuditData, target: float, method: str, *, gap: bool) -> float:
    t = float(target)
    if not np.isfinite(t) or t < 0 or (not gap and t == 0):
        what = "a gap in [0, 1)" if gap else "a positive DI"
        raise ValueError(f"{method}: target must be {what}, got {target!r}")
    data.require_y_hat()
    return t


def _run(
    data: AuditData,
    method: str,
    target: float,
    cells: np.ndarray,
    n_cells: int,
    moves: tuple[MoveType, ...],
    metric: GreedyMetric,
    *,
    speed: int,
    cost: Cost,
    nn: NNMethod,
    info: dict[str, Any],
) -> Manipulation:
    counts = np.bincount(cells, minlength=n_cells)
    v0 = metric.value(counts)
    if not np.isfinite(v0):
        raise ValueError(
            f"{method}: the {metric.name} of {data.name!r} is undefined (cell counts {counts.tolist()})"
        )
    info = {
        **info,
        "metric": metric.name,
        "direction": metric.direction,
        "value0": v0,
        "speed": int(speed),
        "cost_kind": cost,
    }
    if metric.meets(v0, target):
        return identity_manipulation(data, method, target, info)
    queues = _queues(data.joint(), cells, moves, cost, nn)
    traj = run_greedy(cells, n_cells, moves, queues, metric, target, speed=speed, method=method)
    return build_manipulation(data, method, target, traj, info, metric)


def matching(
    data: AuditData,
    target: float = COMPLIANCE_THRESHOLD,
    *,
    speed: int = 1,
    metric: Literal["di", "sp"] = "di",
    cost: Cost = "euclidean",
    nn: NNMethod = "auto",
) -> Manipulation:
    r"""Matching M_W(XSŶ), the paper's best attack (Section 5.2.2, eq. 11).

    Bins written ``(s, ŷ)``; four move types (Fig. 2):
    ``0,0->0,1`` (S=0 negative onto an S=0 positive), ``0,0->1,0`` (S=0 negative onto an
    S=1 negative), ``1,1->0,1`` (S=1 positive onto an S=0 positive), ``1,1->1,0`` (S=1
    positive onto an S=1 negative).  Each source's destination is its nearest neighbour
    in the destination bin, with cost :math:`c = \|z_i - z_j\|_2`, ``z = (x, s, ŷ)``.
    At each evaluation the cheapest unused source of each move type is scored by
    :math:`(DI_{new} - DI) / c` and the best is applied; the source is retired (each
    individual moves at most once), destinations may be reused.  Stops as soon as
    :math:`DI \ge t`.

    Parameters
    ----------
    data : AuditData
        The audited set (standardised X, S, Y_hat).
    target : float, default 0.8
        Target unbounded DI (``metric="di"``), or the largest allowed gap
        :math:`|p_0 - p_1|` (``metric="sp"``, e.g. 0.05).
    speed : int, default 1
        Moves applied per evaluation (Alg. 2).
    metric : {"di", "sp"}, default "di"
        Disparate Impact (raised to ``target``) or statistical-parity gap (lowered to it).
    cost : {"euclidean", "sqeuclidean"}, default "euclidean"
        Move cost; the nearest neighbour is the same for both.
    nn : {"auto", "kdtree", "blocked"}, default "auto"
        Nearest-neighbour search (:func:`nearest_neighbours`).

    Returns
    -------
    Manipulation
        Method ``"Matching"``: moved points (row ``source`` becomes a copy of row
        ``dest``), uniform weights, ``origin[i] = i``, the trajectory.  ``info``:
        ``cost`` (Σ cost / n, as reported in the paper), ``cost_total``, ``n_moves``,
        ``moves_by_type``, ``value0``, ``value``, ``reached``, ``already_fair``.

    Raises
    ------
    ValueError
        Missing ``Y_hat``; undefined original metric; unreachable target (no admissible
        move improves the metric any more, e.g. an empty bin).

    Examples
    --------
    >>> import numpy as np
    >>> from fairwash.data.base import AuditData
    >>> rng = np.random.default_rng(0)
    >>> d = AuditData.from_arrays("toy", rng.normal(size=(200, 3)), S=np.repeat([0, 1], 100),
    ...                           Y_hat=np.r_[[1] * 20, [0] * 80, [1] * 60, [0] * 40])
    >>> q = matching(d, 0.8)
    >>> bool(q.di >= 0.8), q.info["n_moves"] > 0, q.info["cost"] > 0
    (True, True, True)
    """
    method = "Matching"
    if metric not in ("di", "sp"):
        raise ValueError(f"{method}: metric must be 'di' or 'sp', not {metric!r}")
    t = _check(data, target, method, gap=metric == "sp")
    cells = 2 * data.S.astype(np.int64) + np.asarray(data.Y_hat, dtype=np.int64)
    m = GreedyMetric("di", di_from_counts, "max") if metric == "di" else GreedyMetric("sp", _sp_gap, "min")
    info: dict[str, Any] = {}
    if metric == "di":
        info["di0"] = di_from_counts(np.bincount(cells, minlength=4))
    return _run(data, method, t, cells, 4, MATCHING_MOVES, m, speed=speed, cost=cost, nn=nn, info=info)


def eo_matching(
    data: AuditData,
    target: float = 0.1,
    *,
    gap: Literal["max", "sum", "tpr"] = "max",
    speed: int = 1,
    cost: Cost = "euclidean",
    nn: NNMethod = "auto",
) -> Manipulation:
    r"""Matching under an equality-of-odds constraint (Appendix 0.A, eq. 12).

    The loop of :func:`matching` with the metric "minus the equality-of-odds gap": cells
    are ``(y, s, ŷ)`` with ``y`` the true label; a move changes the bin ``(s, ŷ)`` of an
    individual inside its label stratum (every one of the 12 bin changes per stratum is
    a candidate; only moves that shrink the gap are ever applied), onto its nearest
    neighbour in the destination cell.  Stops when the gap is ≤ ``target``.

    Parameters
    ----------
    data : AuditData
        Needs the true labels ``Y`` as well as ``Y_hat``.
    target : float, default 0.1
        Largest allowed gap.
    gap : {"max", "sum", "tpr"}, default "max"
        ``max(|ΔTPR|, |ΔFPR|)`` (fairlearn's equalized-odds difference, as
        :attr:`fairwash.fairness.EqualityOfOdds.difference`), ``|ΔTPR| + |ΔFPR|``, or
        ``|ΔTPR|`` alone (equal opportunity, the authors' code).
    speed, cost, nn
        As in :func:`matching`.

    Returns
    -------
    Manipulation
        Method ``"Matching_EoO"``; the trajectory's ``di`` column holds the gap after
        each move.  True labels are unchanged by construction (moves stay in a stratum).

    Raises
    ------
    ValueError
        If the source has no true labels, or as :func:`matching`.
    """
    method = "Matching_EoO"
    if gap not in ("max", "sum", "tpr"):
        raise ValueError(f"{method}: gap must be 'max', 'sum' or 'tpr', not {gap!r}")
    if data.Y is None:
        raise ValueError(
            f"{method}: {data.name!r} has no true labels Y (this source has none), "
            "so equality of odds cannot be computed"
        )
    t = _check(data, target, method, gap=True)
    cells = 4 * data.Y.astype(np.int64) + 2 * data.S.astype(np.int64) + np.asarray(data.Y_hat, np.int64)
    m = GreedyMetric(f"eo_{gap}", _eo_value(gap), "min")
    return _run(data, method, t, cells, 8, _eo_moves(), m, speed=speed, cost=cost, nn=nn, info={"gap": gap})
