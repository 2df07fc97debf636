"""Stealthily Biased Sampling (SBS, Fukuchi, Hara and Maehara, AAAI 2020; paper, Appendix 0.B).

SBS reweights the original individuals so that the weighted sample looks fair while its
Wasserstein distance to the data ``P_n`` is minimal.  Here the four ``(s, ŷ)`` cell masses
of ``Q`` are fixed so that the group masses are kept and the DI equals the target ``t``
(:func:`fairwash.manipulate.targets.target_rates`; ``t = 1`` is Fukuchi et al.'s exact
parity), and the weights solve the linear program

.. math::

    \\min_{\\pi \\ge 0,\\, w} \\sum_{i,j} \\pi_{ij} \\|z_i - z_j\\|
    \\quad \\text{s.t.} \\quad \\sum_j \\pi_{ij} = \\tfrac1n,\\;
    \\sum_i \\pi_{ij} = w_j,\\; \\sum_{j \\in c} w_j = M_c,\\; [\\, w_j \\le \\tfrac1m \\,]

over the rows ``z = (x, s, ŷ)`` (Euclidean cost, the paper's W_A ground cost).  The optimal
value is ``W_1(Q, P_n)``.

*Without the cap* (``m=None``) the problem is exact and small: a source ``i`` sending mass
into cell ``c`` can only do best by sending it to its nearest neighbour in ``c``, so the LP
reduces to an ``n x 4`` transport problem with costs ``d_i(c) = min_{j in c} ||z_i - z_j||``
(solved by POT's network simplex) and each weight ``w_j`` is the mass its reverse nearest
neighbours send it.  *With the cap* ``w_j <= 1/m`` (sampling ``m`` individuals without
replacement can give no point a probability above ``1/m``, Fukuchi et al.'s sampling
setting), points saturate and farther neighbours are needed: the LP is solved by HiGHS on
the ``k`` nearest neighbours of each source in each cell, then every excluded edge is
priced with the LP duals and the violating ones are added until none remains, so the
result is the exact optimum of the full LP.  See ``docs/methods_grad_sbs.md``.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog
from scipy.spatial import cKDTree

from fairwash._pot import ot
from fairwash.catalogue import COMPLIANCE_THRESHOLD
from fairwash.data.base import AuditData
from fairwash.fairness import disparate_impact, positive_rates
from fairwash.manipulate.base import Manipulation
from fairwash.manipulate.targets import target_rates

__all__ = ["sbs", "cell_masses", "CELLS"]

#: The four cells ``(s, ŷ)`` in the order used for cell masses.
CELLS = ((0, 0), (0, 1), (1, 0), (1, 1))
_PRICE_TOL = 1e-9  # reduced-cost tolerance (costs are distances, O(1))
_CHUNK = 256  # sources per pricing block: a 256 x n distance block (41 MB at n = 20 000)


def cell_masses(
    y_hat: np.ndarray, s: np.ndarray, target: float, variant: Literal["balanced", "proportional"]
) -> np.ndarray:
    """Target masses ``M_c`` of the cells :data:`CELLS` (keeps group masses, DI = ``target``).

    ``M_(s,1) = (n_s / n) q_s`` and ``M_(s,0) = (n_s / n)(1 - q_s)`` with ``(q_0, q_1)`` from
    :func:`target_rates`.  When the DI already meets the target, the data's own masses.

    Examples
    --------
    >>> import numpy as np
    >>> s = np.repeat([0, 1], 100); y = np.r_[np.repeat([1, 0], [20, 80]), np.repeat([1, 0], [50, 50])]
    >>> M = cell_masses(y, s, 0.8, "proportional")
    >>> round(float(M[1] / (M[0] + M[1]) / (M[3] / (M[2] + M[3]))), 12), round(float(M.sum()), 12)
    (0.8, 1.0)
    """
    s = np.asarray(s)
    y_hat = np.asarray(y_hat)
    n = len(s)
    n0, n1 = int((s == 0).sum()), int((s == 1).sum())
    p0, p1 = positive_rates(y_hat, s)
    if p1 > 0 and p0 / p1 >= target:
        q0, q1 = p0, p1
    else:
        q0, q1 = target_rates(p0, p1, n0, n1, target, variant)
    g0, g1 = n0 / n, n1 / n
    return np.array([g0 * (1 - q0), g0 * q0, g1 * (1 - q1), g1 * q1])


def sbs(
    data: AuditData,
    target: float = COMPLIANCE_THRESHOLD,
    m: int | None = None,
    *,
    variant: Literal["balanced", "proportional"] = "balanced",
    k: int = 8,
    max_rounds: int = 30,
    random_state: Any = None,
) -> Manipulation:
    r"""SBS sampling weights: the Wasserstein-closest reweighting of ``P_n`` with DI = ``target``.

    .. math::

        \min_{w}\; W_1\Big(\sum_j w_j \delta_{z_j},\, \tfrac1n \sum_i \delta_{z_i}\Big)
        \quad\text{s.t.}\quad \sum_{j\in c} w_j = M_c \;(c \in \text{cells}),\;
        0 \le w_j \;[\le 1/m]

    Parameters
    ----------
    data : AuditData
        Audited set with decisions ``Y_hat``.
    target : float, default 0.8
        DI of ``Q`` (exactly, up to rounding); 1.0 is Fukuchi et al.'s parity.
    m : int or None
        Audit sample size.  If given, every weight is capped at ``1/m`` so that ``m``
        individuals can be drawn without replacement with inclusion probabilities
        ``m w_j``; ``None`` leaves the weights free (the pure minimum-Wasserstein ``Q``).
    variant : {"balanced", "proportional"}
        Split of the DI change between the groups (:func:`target_rates`).
    k : int, default 8
        Capped case: nearest neighbours per source and cell in the initial edge set
        (the result does not depend on it, only the time does).
    max_rounds : int
        Capped case: maximum pricing rounds before :class:`RuntimeError`.
    random_state : int, Generator or None
        Accepted for a uniform signature; the method is deterministic.

    Returns
    -------
    Manipulation
        The ``n`` original rows with weights ``w`` (``method="SBS"``), ``origin = arange(n)``.
        ``info``: ``wasserstein`` (the optimal value, ``W_1(Q, P_n)`` on ``(x, s, ŷ)``),
        ``cell_masses``, ``m``, ``solver``, ``rounds``, ``edges``, ``di_before``.

    Raises
    ------
    ValueError
        On a bad ``m`` or a cap that the cells cannot satisfy (a cell with fewer than
        ``m M_c`` individuals).

    Notes
    -----
    The free optimum is computed first; when it already satisfies the cap it is the capped
    optimum too (the capped feasible set is a subset), and the LP is skipped.
    """
    y = np.asarray(data.require_y_hat(), dtype=np.int8)
    S = np.asarray(data.S, dtype=np.int8)
    n = data.n
    if m is not None and (isinstance(m, bool) or not isinstance(m, int | np.integer) or not 0 < m <= n):
        raise ValueError(f"sbs: m must be an integer in [1, n={n}] or None, got {m!r}")
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"sbs: k must be a positive integer, got {k!r}")
    Z = data.joint()
    cell = 2 * S.astype(np.int64) + y  # index into CELLS
    M = cell_masses(y, S, target, variant)
    di_before = disparate_impact(y, S)
    info: dict[str, Any] = {"cell_masses": M.tolist(), "m": m, "variant": variant, "di_before": di_before}

    if m is not None:
        counts = np.bincount(cell, minlength=4)
        short = [CELLS[c] for c in range(4) if counts[c] / m < M[c] - 1e-12]
        if short:
            raise ValueError(
                f"sbs: with m={m} the cap 1/m cannot be met: cell(s) (s, ŷ) {short} hold too few "
                f"individuals ({counts.tolist()}) for masses {np.round(M, 4).tolist()}"
            )
    w, cost = _uncapped(Z, cell, M)
    info.update(solver="nearest-neighbour reduction + ot.emd (n x 4)", rounds=1, edges=4 * n)
    if m is not None and w.max() > 1.0 / m * (1 + 1e-12):
        # the free optimum violates the cap (if it does not, it is also the capped optimum)
        w, cost, rounds, edges = _capped(Z, cell, M, m, int(k), int(max_rounds))
        info.update(solver="HiGHS on k-NN edges + dual pricing (exact)", rounds=rounds, edges=edges)
    w = _fix_cells(w, cell, M)
    info["wasserstein"] = float(cost)
    return Manipulation(
        method="SBS", target=float(target), X=data.X.to_numpy(np.float64), S=S, Y_hat=y,
        weights=w, origin=np.arange(n, dtype=np.int64), trajectory=None, info=info,
    )


def _fix_cells(w: np.ndarray, cell: np.ndarray, M: np.ndarray) -> np.ndarray:
    """Clip solver round-off and rescale each cell to its exact mass."""
    w = np.clip(w, 0.0, None)
    tot = np.bincount(cell, weights=w, minlength=4)
    scale = np.divide(M, tot, out=np.zeros(4), where=tot > 0)
    return w * scale[cell]


def _uncapped(Z: np.ndarray, cell: np.ndarray, M: np.ndarray) -> tuple[np.ndarray, float]:
    """Exact solution without cap: nearest neighbour per cell, then an n x 4 transport."""
    n = len(Z)
    D = np.full((n, 4), np.inf)
    nn = np.zeros((n, 4), dtype=np.int64)
    for c in range(4):  # loop over the 4 cells
        members = np.flatnonzero(cell == c)
        if members.size == 0:
            continue
        dist, pos = cKDTree(Z[members]).query(Z, k=1)
        D[:, c], nn[:, c] = dist, members[pos]
    live = M > 0
    if not np.isfinite(D[:, live]).all():
        raise ValueError("sbs: a cell with positive target mass has no individual")
    plan, log = ot.emd(np.full(n, 1.0 / n), M[live], D[:, live], numItermax=10_000_000, log=True)
    if log.get("warning"):
        raise RuntimeError(f"sbs: the network simplex did not converge: {log['warning']}")
    full = np.zeros((n, 4))
    full[:, live] = plan
    w = np.bincount(nn.ravel(), weights=full.ravel(), minlength=n)
    return w, float((full[:, live] * D[:, live]).sum())


def _knn_edges(Z: np.ndarray, cell: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each source's ``k`` nearest points in every cell (source, destination) pairs."""
    src, dst = [], []
    for c in range(4):
        members = np.flatnonzero(cell == c)
        if members.size == 0:
            continue
        kk = min(k, members.size)
        _, pos = cKDTree(Z[members]).query(Z, k=kk)
        pos = pos.reshape(len(Z), kk)
        src.append(np.repeat(np.arange(len(Z)), kk))
        dst.append(members[pos.ravel()])
    return np.concatenate(src), np.concatenate(dst)


def _solve_lp(
    Z: np.ndarray, cell: np.ndarray, M: np.ndarray, m: int, src: np.ndarray, dst: np.ndarray
) -> tuple[np.ndarray, float, np.ndarray, np.ndarray, np.ndarray] | None:
    """The capped LP on the given edges, in units where each source has mass 1.

    Returns (flow per edge, objective / n, duals u (sources), v (caps, <= 0), g (cells)),
    or None when infeasible.
    """
    n, E = len(Z), len(src)
    cost = np.linalg.norm(Z[src] - Z[dst], axis=1)
    rows_eq = np.concatenate([src, n + cell[dst]])
    A_eq = sp.csr_matrix((np.ones(2 * E), (rows_eq, np.tile(np.arange(E), 2))), shape=(n + 4, E))
    b_eq = np.concatenate([np.ones(n), n * M])
    A_ub = sp.csr_matrix((np.ones(E), (dst, np.arange(E))), shape=(n, E))
    b_ub = np.full(n, n / m)
    res = linprog(cost, A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=b_eq, bounds=(0, None), method="highs")
    if res.status == 2:
        return None
    if res.status != 0:
        raise RuntimeError(f"sbs: HiGHS failed ({res.status}): {res.message}")
    eq = res.eqlin.marginals
    return res.x, float(res.fun) / n, eq[:n], res.ineqlin.marginals, eq[n:]


def _price(
    Z: np.ndarray, cell: np.ndarray, u: np.ndarray, v: np.ndarray, g: np.ndarray, per_source: int
) -> tuple[np.ndarray, np.ndarray]:
    """Edges with negative reduced cost ``||z_i - z_j|| - u_i - v_j - g_c(j)``, all (i, j) scanned."""
    h = -v - g[cell]  # per destination
    sq = (Z**2).sum(1)
    new_src, new_dst = [], []
    for a in range(0, len(Z), _CHUNK):  # chunks of sources, vectorised inside
        A = Z[a:a + _CHUNK]
        d2 = sq[a:a + _CHUNK, None] + sq[None, :] - 2.0 * A @ Z.T
        red = np.sqrt(np.clip(d2, 0.0, None)) + h[None, :] - u[a:a + _CHUNK, None]
        # candidates by the fast formula, confirmed with the exact distance below
        kk = min(per_source, red.shape[1])
        part = np.argpartition(red, kk - 1, axis=1)[:, :kk]
        rows = np.repeat(np.arange(len(A)), kk)
        cols = part.ravel()
        exact = np.linalg.norm(A[rows] - Z[cols], axis=1) + h[cols] - u[a + rows]
        bad = exact < -_PRICE_TOL
        new_src.append(a + rows[bad])
        new_dst.append(cols[bad])
    return np.concatenate(new_src), np.concatenate(new_dst)


def _capped(
    Z: np.ndarray, cell: np.ndarray, M: np.ndarray, m: int, k: int, max_rounds: int
) -> tuple[np.ndarray, float, int, int]:
    n = len(Z)
    src, dst = _knn_edges(Z, cell, k)
    kk = k
    while True:
        sol = _solve_lp(Z, cell, M, m, src, dst)
        if sol is not None:
            break
        if kk >= n:
            raise RuntimeError("sbs: the capped LP is infeasible on all edges")
        kk = min(2 * kk, n)  # restricted edge set infeasible: widen it
        src, dst = _knn_edges(Z, cell, kk)
    for rounds in range(1, max_rounds + 1):
        x, obj, u, v, g = sol
        ns, nd = _price(Z, cell, u, v, g, per_source=max(4, k))
        key = src.astype(np.int64) * n + dst
        fresh = ~np.isin(ns.astype(np.int64) * n + nd, key)
        if not fresh.any():
            w = np.bincount(dst, weights=x, minlength=n) / n
            return w, obj, rounds, len(src)
        src, dst = np.concatenate([src, ns[fresh]]), np.concatenate([dst, nd[fresh]])
        sol = _solve_lp(Z, cell, M, m, src, dst)
        if sol is None:  # adding edges cannot make a feasible LP infeasible
            raise RuntimeError("sbs: the capped LP became infeasible after adding edges")
    raise RuntimeError(f"sbs: pricing did not converge in {max_rounds} rounds; raise max_rounds")

