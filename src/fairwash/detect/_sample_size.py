r"""The certified scan behind :func:`fairwash.detect.dilaw.recommended_sample_size` (private).

Notation: ``A = {c : DI(c) >= τ}`` (defined DIs only, +∞ included), ``sf(m) = P_m(A)``.
``m`` is *unsafe* when ``sf(m) > α`` (then the DI test's cap at ``m`` is ``>= τ``).

Coupling lemma. Let the ``n`` rows be put in a uniformly random order and ``c_m`` count the
first ``m``: ``c_m`` has the honest law of size ``m`` and ``c_{m+i} = c_m + δ`` with ``δ >= 0``,
``|δ| = i``. Hence, for all ``i <= j``,

.. math::
    sf(m + i) \le sf(m) + P(c_m \notin A,\ c_{m+i} \in A).

Adding rows of cells 00 and 11 never raises the DI, and (as ``c11 <= m - k + δ10``)
``DI(c + δ) <= \frac{c_{01} + δ_{01}}{k + δ_{01}} \cdot \frac{m - k + δ_{10}}{c_{11}}``, increasing
in ``δ01`` and ``δ10``. With ``v0, v1`` such that ``P(δ01 > v0) + P(δ10 > v1) <= η`` whatever
``c_m`` (:func:`_increments`),

.. math::
    P(c_m \notin A, c_{m+i} \in A) \le \eta + P(k \in \{0, m\})
    + P_m\Big(c \notin A,\ c_{11} \le \frac{(c_{01} + v_0)(m - k + v_1)}{\tau (k + v_0)}\Big),

computed from the same law as ``sf(m)`` (with a one-unit safety margin on every float
floor, and the windows' tail bound added). One exact evaluation at a safe ``m`` with
``sf(m) + bound_j <= α`` therefore certifies every size in ``[m, m + j]``.

Far sizes are certified at once by a Chernoff bound decreasing in ``m``
(:func:`chernoff_safe_from`): the scan stops at the ``m_1`` it gives.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import hypergeom

from fairwash.detect._cell_law import CellLaw, as_ratio

__all__ = ["recommended_m"]

#: Tail probability allowed to each of the two increment bounds of a jump.
ETA = 1e-6
#: Added to the tail bound for the rounding of sums over up to ~10⁷ probabilities.
ROUNDING = 1e-12


def _sf(law: CellLaw, tau: float) -> tuple[float, np.ndarray]:
    P, Q = as_ratio(tau)
    F = law.floors(P, Q)
    return law.sf_floors(F), F


def _increments(law: CellLaw, j: int) -> tuple[int, int, float]:
    """``(v0, v1, η)``: ``P(δ01 > v0) + P(δ10 > v1) <= η`` for ``i <= j`` added rows, any ``c_m``.

    Given ``c_m``, ``δ01 ~ H(n - m, C01 - c01, i)``, stochastically below ``H(n - m, C01', j)``
    with ``C01' = min(C01, n - m)`` (the hypergeometric grows with its successes and its
    draws); likewise ``δ10``. ``v`` is that law's ``1 - ETA`` quantile, ``η`` the two tails above.
    """
    rest = int(law.cells.sum()) - law.m
    out, eta = [], 0.0
    for K in (min(int(law.cells[1]), rest), min(int(law.cells[2]), rest)):
        v = int(hypergeom.ppf(1.0 - ETA, rest, K, j)) if K else 0
        out.append(v)
        eta += float(hypergeom.sf(v, rest, K, j)) if K else 0.0
    return out[0], out[1], eta


def _up_bound(law: CellLaw, F: np.ndarray, tau: float, j: int, cdf: np.ndarray) -> float:
    r"""A bound on ``P_m(c_m \notin A, c_{m+i} \in A)`` for all ``i <= j`` (module docstring)."""
    v0, v1, eta = _increments(law, j)
    a = law.a_values
    k = law.k[:, None]
    n1 = law.m - k
    with np.errstate(over="ignore"):
        x = (a + v0) * (n1 + v1) / (tau * (k + v0))
    bs = law.b.start[:, None]
    be = bs + cdf.shape[1] - 1
    h = np.floor(np.clip(x, -2.0, be + 2.0)).astype(np.int64) + 1
    top = np.minimum(h, be) - bs
    upper = np.where(top >= 0, np.take_along_axis(cdf, np.clip(top, 0, cdf.shape[1] - 1), axis=1), 0.0)
    inside = F - bs
    lower = np.where(inside >= 0, np.take_along_axis(cdf, np.clip(inside, 0, cdf.shape[1] - 1), axis=1), 0.0)
    lower = np.where(a > 0, lower, 0.0)  # a = 0: no count is in A
    mass = np.maximum(upper - lower, 0.0)
    return float(law.pk @ (law.a.pmf * mass).sum(axis=1)) + law.p_k_edge + law.tail + eta


def _unsafe(C: np.ndarray, m: int, tau: float, alpha: float) -> bool:
    law = CellLaw.build(C, m)
    sf, _ = _sf(law, tau)
    _check_decidable(sf, law.tail, alpha, m)
    return sf > alpha


def _check_decidable(sf: float, tail: float, alpha: float, m: int) -> None:
    if abs(sf - alpha) <= tail + ROUNDING:
        raise ArithmeticError(f"P_m(DI >= tau) at m = {m} is within {tail + ROUNDING:.1e} of alpha: "
                              "undecidable at this precision")


def _kl(q: np.ndarray, p: float) -> np.ndarray:
    """Bernoulli Kullback-Leibler divergence ``KL(q || p)`` (``q`` in [0, 1])."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = np.where(q > 0, q * np.log(q / p), 0.0)
        t2 = np.where(q < 1, (1 - q) * np.log((1 - q) / (1 - p)), 0.0)
    return t1 + t2


def chernoff_safe_from(C: np.ndarray, tau: float, alpha: float, grid: int = 48) -> int:
    r"""A size ``m_1`` with ``P_m(DI >= τ) <= α`` for every ``m >= m_1`` (``n + 1`` if none found).

    With ``π_s = N_s / n``, ``p_s = C_{s1} / N_s`` and ``p_0 < τ p_1``: for ``δ, ε_1 > 0`` and
    ``p_0 + ε_0 = τ (p_1 - ε_1)``, ``DI >= τ`` needs ``k < m(π_0 - δ)``, ``k > m(π_0 + δ)``,
    ``c01 >= k (p_0 + ε_0)`` or ``c11 <= (m - k)(p_1 - ε_1)``; by the Chernoff bounds, which hold
    without replacement (Hoeffding 1963, Thm 4),

    .. math::
        P_m(DI \ge \tau) \le e^{-m KL(\pi_0 - \delta \| \pi_0)} + e^{-m KL(\pi_0 + \delta \| \pi_0)}
        + e^{-m (\pi_0 - \delta) KL(p_0 + \varepsilon_0 \| p_0)}
        + e^{-m (\pi_1 - \delta) KL(p_1 - \varepsilon_1 \| p_1)},

    a bound decreasing in ``m``; the best ``m_1`` over a grid of ``(δ, ε_1)`` is returned.
    """
    n = int(C.sum())
    N0, N1 = C[0] + C[1], C[2] + C[3]
    pi0, pi1, p0, p1 = N0 / n, N1 / n, C[1] / N0, C[3] / N1
    if not (0 < pi0 < 1 and p1 > 0 and p0 < tau * p1):
        return n + 1
    u = (np.arange(grid) + 0.5) / grid
    delta = (u * min(pi0, pi1))[:, None]
    eps1 = (u * (p1 - p0 / tau))[None, :]
    q0 = np.minimum(tau * (p1 - eps1), 1.0)
    rates = [_kl(pi0 - delta, pi0), _kl(pi0 + delta, pi0), (pi0 - delta) * _kl(q0, p0) if p0 > 0 else np.inf,
             (pi1 - delta) * _kl(p1 - eps1, p1)]
    rates = [np.broadcast_to(r, (grid, grid)) for r in rates]

    def bound(m: np.ndarray) -> np.ndarray:
        return sum(np.exp(-m * r) for r in rates)

    lo, hi = np.zeros((grid, grid)), np.full((grid, grid), float(n + 1))
    ok = bound(hi) <= alpha
    for _ in range(int(np.ceil(np.log2(n + 2))) + 1):
        mid = np.floor((lo + hi) / 2)
        good = bound(mid) <= alpha
        hi, lo = np.where(good, mid, hi), np.where(good, lo, mid)
    return int(np.min(np.where(ok, hi, n + 1)))


def _last_unsafe_below(C: np.ndarray, tau: float, alpha: float, top: int) -> tuple[int, int]:
    """An unsafe ``m < top`` whose successor is safe (0 if none on a doubling grid); evaluations."""
    grid = [m for m in 2 ** np.arange(0, 40) if m < top] + [top - 1] if top > 1 else []
    last, evals, nxt = 0, 0, top
    for i, m in enumerate(grid):
        evals += 1
        if _unsafe(C, int(m), tau, alpha):
            last, nxt = int(m), (int(grid[i + 1]) if i + 1 < len(grid) else top)
    lo, hi = last, nxt
    while last and hi - lo > 1:
        mid = (lo + hi) // 2
        evals += 1
        lo, hi = (mid, hi) if _unsafe(C, mid, tau, alpha) else (lo, mid)
    return lo, evals


def _longest_jump(law: CellLaw, F: np.ndarray, sf: float, tau: float, alpha: float, start: int,
                  room: int) -> int:
    """The longest ``j <= room`` found by doubling (from ``start``, else from 1) with a certified jump."""
    cdf = law.b_cdf

    def ok(j: int) -> bool:
        return sf + _up_bound(law, F, tau, j, cdf) + ROUNDING <= alpha

    j = 0
    if start > 1 and ok(min(start, room)):
        j = min(start, room)
    while 0 < room and j < room and ok(min(max(2 * j, 1), room)):
        j = min(max(2 * j, 1), room)
    return j


def recommended_m(C: np.ndarray, tau: float, alpha: float) -> tuple[int | None, int, int]:
    """``(m*, last unsafe m, exact evaluations)``; ``m* = None`` if the full data's DI is ``>= τ``."""
    n = int(C.sum())
    if C[1] * (C[2] + C[3]) >= tau * (C[0] + C[1]) * C[3]:  # DI_full >= τ (or +∞): sf(n) = 1
        return None, n, 0
    top = min(chernoff_safe_from(C, tau, alpha), n + 1)  # every m >= top is safe
    last, evals = _last_unsafe_below(C, tau, alpha, top)
    m, prev = last + 1, 1
    while m < top:
        law = CellLaw.build(C, m)
        sf, F = _sf(law, tau)
        evals += 1
        _check_decidable(sf, law.tail, alpha, m)
        if sf > alpha:
            last, m = m, m + 1
            continue
        j = _longest_jump(law, F, sf, tau, alpha, prev, top - 1 - m)
        prev = max(j, 1)
        m += j + 1
    return last + 1, last, evals
