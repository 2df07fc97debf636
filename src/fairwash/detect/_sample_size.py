r"""The certified scan behind :func:`fairwash.detect.dilaw.recommended_sample_size` (private).

Notation: ``A = {c : DI(c) >= τ}`` (defined DIs only, +∞ included), ``sf(m) = P_m(A)``.
``m`` is *unsafe* when ``sf(m) > α`` (then the DI test's cap at ``m`` is ``>= τ``).

Coupling lemma. Let the ``n`` rows be put in a uniformly random order and ``c_m`` count the
first ``m``: ``c_m`` has the honest law of size ``m`` and ``c_{m+i} = c_m + δ`` with ``δ >= 0``,
``|δ| = i``. Hence ``sf(m + i) <= sf(m) + P_m(A^c ∩ U_j)`` for all ``i <= j``, where ``U_j``
holds the counts from which adding at most ``j`` rows can reach ``A``. Since
``(c01 + δ01) / (k + δ00 + δ01) <= (c01 + j) / (k + j)`` and
``(m - k + δ10 + δ11) / (c11 + δ11) <= (m - k + j) / c11``,

.. math::
    A^c \cap U_j \subseteq \{k \in \{0, m\}\} \cup
    \Big\{c \notin A : c_{11} \le \frac{(c_{01} + j)(m - k + j)}{\tau (k + j)}\Big\},

whose probability is computed from the same law as ``sf(m)`` (with a one-unit safety margin
on every float floor, and the windows' tail bound added). One exact evaluation at a safe
``m`` with ``sf(m) + bound_j <= α`` therefore certifies every size in ``[m, m + j]``.
"""

from __future__ import annotations

import numpy as np

from fairwash.detect._cell_law import CellLaw, as_ratio

__all__ = ["recommended_m"]

#: Added to the tail bound for the rounding of sums over up to ~10⁷ probabilities.
ROUNDING = 1e-12


def _sf(law: CellLaw, tau: float) -> tuple[float, np.ndarray]:
    P, Q = as_ratio(tau)
    F = law.floors(P, Q)
    return law.sf_ratio(P, Q), F


def _up_bound(law: CellLaw, F: np.ndarray, tau: float, j: int, cdf: np.ndarray) -> float:
    a = law.a_values
    k = law.k[:, None]
    n1 = law.m - k
    with np.errstate(over="ignore"):
        x = (a + j) * (n1 + j) / (tau * (k + j))
    bs = law.b.start[:, None]
    be = bs + cdf.shape[1] - 1
    h = np.floor(np.clip(x, -2.0, be + 2.0)).astype(np.int64) + 1
    top = np.minimum(h, be) - bs
    upper = np.where(top >= 0, np.take_along_axis(cdf, np.clip(top, 0, cdf.shape[1] - 1), axis=1), 0.0)
    inside = F - bs
    lower = np.where(inside >= 0, np.take_along_axis(cdf, np.clip(inside, 0, cdf.shape[1] - 1), axis=1), 0.0)
    lower = np.where(a > 0, lower, 0.0)  # a = 0: no count is in A
    mass = np.maximum(upper - lower, 0.0)
    return float(law.pk @ (law.a.pmf * mass).sum(axis=1)) + law.p_k_edge + law.tail


def _unsafe(C: np.ndarray, m: int, tau: float, alpha: float) -> bool:
    law = CellLaw.build(C, m)
    sf, _ = _sf(law, tau)
    _check_decidable(sf, law.tail, alpha, m)
    return sf > alpha


def _check_decidable(sf: float, tail: float, alpha: float, m: int) -> None:
    if abs(sf - alpha) <= tail + ROUNDING:
        raise ArithmeticError(f"P_m(DI >= tau) at m = {m} is within {tail + ROUNDING:.1e} of alpha: "
                              "undecidable at this precision")


def _first_unsafe_guess(C: np.ndarray, tau: float, alpha: float) -> tuple[int, int]:
    """An unsafe ``m`` (0 if none found by halving) with a safe ``m + 1``; evaluations used."""
    n = int(C.sum())
    hi, m, evals, lo = n, n // 2, 0, 0
    while m >= 1:
        evals += 1
        if _unsafe(C, m, tau, alpha):
            lo = m
            break
        hi, m = m, m // 2
    while hi - lo > 1 and lo > 0:
        mid = (lo + hi) // 2
        evals += 1
        if _unsafe(C, mid, tau, alpha):
            lo = mid
        else:
            hi = mid
    return lo, evals


def recommended_m(C: np.ndarray, tau: float, alpha: float) -> tuple[int | None, int, int]:
    """``(m*, last unsafe m, evaluations)``; ``m* = None`` if the full data's DI is ``>= τ``."""
    n = int(C.sum())
    if C[1] * (C[2] + C[3]) >= tau * (C[0] + C[1]) * C[3]:  # DI_full >= τ (or +∞): sf(n) = 1
        return None, n, 0
    last, evals = _first_unsafe_guess(C, tau, alpha)
    m = last + 1
    while m <= n:
        law = CellLaw.build(C, m)
        sf, F = _sf(law, tau)
        evals += 1
        _check_decidable(sf, law.tail, alpha, m)
        if sf > alpha:
            last, m = m, m + 1
            continue
        cdf, j, nxt = law.b_cdf, 0, 1
        while nxt > j:
            nxt = min(nxt, n - m)
            if nxt <= j or sf + _up_bound(law, F, tau, nxt, cdf) + ROUNDING > alpha:
                break
            j, nxt = nxt, 2 * nxt
        m += j + 1
    return last + 1, last, evals
