r"""The exact law of an honest sample's Disparate Impact, its one-sided test, cap and CI.

Cells are ``(s, ŷ)`` in the order of :data:`fairwash.detect.distances.CELLS`:
``C = (C00, C01, C10, C11)``, ``S = 0`` the disadvantaged group. A sample of ``m`` rows
drawn uniformly without replacement has multivariate hypergeometric counts ``c``, and

.. math::
    DI(c) = \frac{c_{01} / k}{c_{11} / (m - k)}, \qquad k = c_{00} + c_{01}.

Conventions (one-sided test against DI *inflation*; fairwashing raises DI)
--------------------------------------------------------------------------
* ``c11 = 0 < c01`` (and ``0 < k < m``): DI ``= +∞``; it counts in ``DI ≥ d`` for every
  ``d``, including ``d = +∞``: an infinite DI is the strongest evidence of inflation.
* DI **undefined**: ``k = 0`` or ``k = m`` (a group absent) or ``c01 = c11 = 0``. It never
  counts in ``DI ≥ d``: ``P(DI ≥ d)`` is ``P(DI defined and ≥ d)``, and the probability of an
  undefined DI is reported beside it. An observed undefined DI has p-value 1 (no evidence
  of a high DI) and is flagged ``defined=False``: such a sample shows no DI at all, so it can
  never be passed off as a compliant one.
* ``DI ≥ d`` is decided in exact rational arithmetic: an observed DI as the fraction of its
  counts, a :class:`~fractions.Fraction` as it is, a float ``d`` as the decimal it prints as
  (``0.8`` is ``4/5``: a DI of exactly 4/5 meets the four-fifths rule).

Every probability is exact up to a rigorous bound on the mass the pmf windows leave out
(``tail_bound``, at most ``1e-13``, see :mod:`fairwash.detect._cell_law`) and rounding.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Any

import numpy as np
from scipy.stats import norm

from fairwash.catalogue import COMPLIANCE_THRESHOLD
from fairwash.detect._cell_law import CellLaw, as_ratio
from fairwash.detect._di_quantile import quantile
from fairwash.detect._sample_size import recommended_m

__all__ = [
    "cell_counts",
    "honest_law",
    "di_value",
    "di_sf",
    "di_test",
    "DITest",
    "di_quantile",
    "DIQuantile",
    "di_interval",
    "DIInterval",
    "recommended_sample_size",
    "SampleSize",
]


# ----------------------------------------------------------------------------- validation
def check_cells(cells: Any, name: str = "cells", *, full: bool = True) -> np.ndarray:
    """Four non-negative integer counts ``(c00, c01, c10, c11)``; ``full`` also asks both groups."""
    arr = np.asarray(cells)
    if arr.shape != (4,):
        raise ValueError(f"{name} must be 4 counts (c00, c01, c10, c11), got shape {arr.shape}")
    if arr.dtype.kind not in "iu" and not (arr.dtype.kind == "f" and np.all(arr == np.round(arr))):
        raise ValueError(f"{name} must be integer counts, got {arr.tolist()!r}")
    if (arr < 0).any():
        raise ValueError(f"{name} must be non-negative, got {arr.tolist()!r}")
    arr = arr.astype(np.int64)
    if full and (arr[0] + arr[1] == 0 or arr[2] + arr[3] == 0):
        raise ValueError(f"{name} must hold both groups (S = 0 and S = 1), got {arr.tolist()!r}")
    return arr


def _check_m(m: Any, n: int) -> int:
    if not isinstance(m, int | np.integer) or isinstance(m, bool) or not 1 <= m <= n:
        raise ValueError(f"m must be an int in [1, n = {n}], got {m!r}")
    return int(m)


def _check_level(value: Any, name: str) -> float:
    v = float(value)
    if not 0.0 < v < 1.0:
        raise ValueError(f"{name} must lie in (0, 1), got {value!r}")
    return v


def cell_counts(S: Any, Y_hat: Any) -> np.ndarray:
    """Counts ``(c00, c01, c10, c11)`` of binary ``S`` and ``Y_hat`` (cell ``2 s + ŷ``)."""
    s, y = np.asarray(S).astype(np.int64), np.asarray(Y_hat).astype(np.int64)
    if s.shape != y.shape or s.ndim != 1:
        raise ValueError(f"S and Y_hat must be 1-D of equal length, got {s.shape} and {y.shape}")
    if ((s != 0) & (s != 1)).any() or ((y != 0) & (y != 1)).any():
        raise ValueError("S and Y_hat must be binary 0/1")
    return np.bincount(2 * s + y, minlength=4).astype(np.int64)


@lru_cache(maxsize=64)
def _law(cells: tuple[int, ...], m: int) -> CellLaw:
    """The honest law of one (full data, m), built once: a check of many samples reuses it."""
    return CellLaw.build(np.array(cells, dtype=np.int64), m)


def honest_law(cells: Any, m: int) -> CellLaw:
    """The law of an honest size-``m`` sample's cell counts (see :mod:`fairwash.detect._cell_law`)."""
    C = check_cells(cells)
    return CellLaw.build(C, _check_m(m, int(C.sum())))


# ----------------------------------------------------------------------------- the statistic
def di_value(sample_cells: Any) -> Fraction | float:
    """The DI of counts as an exact :class:`~fractions.Fraction`; ``inf`` or ``nan`` by the conventions."""
    c00, c01, c10, c11 = (int(v) for v in check_cells(sample_cells, "sample_cells", full=False))
    k, n1 = c00 + c01, c10 + c11
    if k == 0 or n1 == 0 or (c01 == 0 and c11 == 0):
        return math.nan
    if c11 == 0:
        return math.inf
    return Fraction(c01 * n1, k * c11)


def _sf_one(law: CellLaw, d: Fraction | float, cdf: np.ndarray) -> float:
    if isinstance(d, float) and math.isnan(d):
        raise ValueError("d must not be nan")
    if d == math.inf:
        return law.p_infinite()
    if d <= 0:
        return law.p_defined()
    P, Q = as_ratio(d)
    return law.sf_ratio(P, Q, cdf)


def di_sf(d: Any, cells: Any, m: int) -> np.ndarray | float:
    r"""``P_honest(DI ≥ d)`` for an honest size-``m`` sample, exactly, vectorised over ``d``.

    .. math::
        P(DI \ge d) = \sum_{k=1}^{m-1} P(k) \sum_{c_{01} \ge 1} P(c_{01} \mid k)\,
        F_{c_{11} \mid m-k}\!\left(\left\lfloor \frac{c_{01} (m-k)}{k d} \right\rfloor\right),
        \qquad d > 0,

    with ``k ~ H(n, N0, m)``, ``c01 | k ~ H(N0, C01, k)``, ``c11 | m-k ~ H(N1, C11, m-k)``
    independent. The ``c11 = 0`` term is the DI = +∞ case (counted); ``c01 = 0`` with
    ``c11 = 0`` is undefined (not counted); so is ``k ∈ {0, m}``. For ``d <= 0`` the value is
    ``P(DI defined)``; for ``d = +∞`` it is ``P(DI = +∞)``.

    Parameters
    ----------
    d : float, Fraction or array-like of them
        Thresholds (a float read as the decimal it prints as; a Fraction exactly).
    cells : array-like of int, shape (4,)
        The full data's counts ``(C00, C01, C10, C11)``.
    m : int
        Sample size, ``1 <= m <= n``.

    Returns
    -------
    float or ndarray
        Same shape as ``d``.

    Examples
    --------
    >>> round(float(di_sf(0.5, [30, 10, 30, 30], 20)), 6)
    0.504033
    """
    law = honest_law(cells, m)
    arr = np.asarray(d, dtype=object)
    cdf = law.b_cdf
    vals = [v if isinstance(v, Fraction) else float(v) for v in arr.ravel()]
    out = np.array([_sf_one(law, v, cdf) for v in vals], dtype=np.float64).reshape(arr.shape)
    return float(out) if out.ndim == 0 else out


@dataclass(frozen=True)
class DITest:
    """The one-sided exact DI test of one sample (see :func:`di_test`)."""

    statistic: float
    numerator: int | None
    denominator: int | None
    p_value: float
    alpha: float
    reject: bool
    defined: bool
    impossible: bool
    m: int
    n: int
    p_undefined: float
    tail_bound: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def di_test(sample_cells: Any, full_cells: Any, alpha: float = 0.05) -> DITest:
    r"""Exact one-sided test of "the sample was drawn honestly" against DI inflation.

    .. math::
        p = P_{honest}\big(DI \ge DI_{obs}\big), \qquad \text{reject iff } p \le \alpha.

    Parameters
    ----------
    sample_cells, full_cells : array-like of int, shape (4,)
        The sample's and the full data's cell counts.
    alpha : float, default 0.05

    Returns
    -------
    DITest
        ``statistic`` the observed DI (``inf`` / ``nan`` by the conventions, with its exact
        fraction), ``p_value``, ``reject``; ``defined=False`` for an undefined DI (p = 1);
        ``impossible`` if some sample cell exceeds the full data's (no honest sample can).
    """
    c = check_cells(sample_cells, "sample_cells", full=False)
    C = check_cells(full_cells, "full_cells")
    alpha = _check_level(alpha, "alpha")
    m, n = int(c.sum()), int(C.sum())
    if m < 1 or m > n:
        raise ValueError(f"sample_cells must count between 1 and n = {n} rows, got {m}")
    law = _law(tuple(int(x) for x in C), m)
    t = di_value(c)
    defined = not (isinstance(t, float) and math.isnan(t))
    num = den = None
    if not defined:
        p = 1.0
    elif t == math.inf:
        p = law.p_infinite()
    elif t == 0:
        p = law.p_defined()
    else:
        num, den = t.numerator, t.denominator
        p = law.sf_ratio(num, den)
    p = min(max(p, 0.0), 1.0)
    return DITest(float(t), num, den, p, alpha, bool(defined and p <= alpha), defined,
                  bool((c > C).any()), m, n, law.p_undefined(), law.tail)


# ----------------------------------------------------------------------------- quantile / cap
@dataclass(frozen=True)
class DIQuantile:
    """The cap ``q`` of the DI test at level ``alpha`` and its exact size."""

    value: float
    numerator: int | None
    denominator: int | None
    alpha: float
    size: float
    sf_at_value: float
    m: int
    tail_bound: float

    def __float__(self) -> float:
        return self.value

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def di_quantile(cells: Any, m: int, alpha: float = 0.05) -> DIQuantile:
    r"""The smallest ``q`` with ``P_honest(DI > q) <= alpha``: the DI test's cap.

    The test rejects iff ``P(DI ≥ DI_obs) <= alpha``, i.e. iff ``DI_obs > q``: its acceptance
    region is ``{DI <= q}`` (plus undefined DIs) and no accepted sample shows a DI above ``q``;
    ``q`` is an attainable DI (``P(DI = q) > 0``), hence attained by real rows.

    .. math::
        q = \max\{t \text{ attainable} : P(DI \ge t) > \alpha\}, \qquad
        \text{size} = P(DI > q) \le \alpha.

    Exact: a bisection on ``d`` narrows ``[lo, hi)`` until few attainable values remain, which
    are then enumerated as exact fractions with their probabilities and sorted exactly.

    Returns
    -------
    DIQuantile
        ``value`` (``inf`` if ``P(DI = ∞) > alpha``; ``-inf`` if ``P(DI defined) <= alpha``),
        the exact fraction, ``size`` = the test's exact level ``P(DI > q)``, and
        ``sf_at_value`` = ``P(DI ≥ q) > alpha``.

    Examples
    --------
    >>> q = di_quantile([30, 10, 30, 30], 20, 0.05)
    >>> q.numerator, q.denominator, q.size <= 0.05 < q.sf_at_value
    (11, 9, True)
    """
    C = check_cells(cells)
    law = CellLaw.build(C, _check_m(m, int(C.sum())))
    alpha = _check_level(alpha, "alpha")
    value, frac, size, sf_q = quantile(law, alpha)
    num, den = (frac.numerator, frac.denominator) if isinstance(frac, Fraction) else (None, None)
    return DIQuantile(float(value), num, den, alpha, size, sf_q, law.m, law.tail)


# ----------------------------------------------------------------------------- interval
@dataclass(frozen=True)
class DIInterval:
    """A confidence interval for the full data's DI from one sample."""

    estimate: float
    low: float
    high: float
    confidence: float
    fpc: float
    method: str = "katz-log"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def di_interval(sample_cells: Any, n: int | None = None, confidence: float = 0.95) -> DIInterval:
    r"""Katz's log interval for the DI (a ratio of two proportions) from the sample alone.

    .. math::
        \log \widehat{DI} \pm z_{1-(1-\gamma)/2}
        \sqrt{(1 - f)\Big(\frac{1}{c_{01}} - \frac{1}{k} + \frac{1}{c_{11}} - \frac{1}{m-k}\Big)},

    with the finite-population correction ``1 - f``, ``f = m / n`` when the full size ``n`` is
    known (``f = 0`` otherwise: sampling with replacement). A zero ``c01`` or ``c11`` gets 0.5
    added to each count of its group (Haldane–Anscombe). An absent group gives ``nan`` bounds.
    Katz, Baptista, Azen & Pike (1978), Biometrics 34, 469–474.
    """
    c = check_cells(sample_cells, "sample_cells", full=False)
    gamma = _check_level(confidence, "confidence")
    m = int(c.sum())
    if n is not None and (not isinstance(n, int | np.integer) or n < m):
        raise ValueError(f"n must be an int >= the sample size {m}, got {n!r}")
    f = 0.0 if n is None else m / int(n)
    c00, c01, c10, c11 = (float(v) for v in c)
    k, n1 = c00 + c01, c10 + c11
    if k == 0 or n1 == 0:
        return DIInterval(math.nan, math.nan, math.nan, gamma, 1.0 - f)
    est = (c01 / k) / (c11 / n1) if c11 > 0 else (math.inf if c01 > 0 else math.nan)
    if c01 == 0 or c11 == 0:
        c01, k, c11, n1 = c01 + 0.5, k + 0.5, c11 + 0.5, n1 + 0.5
    var = max((1.0 - f) * (1 / c01 - 1 / k + 1 / c11 - 1 / n1), 0.0)
    centre = math.log((c01 / k) / (c11 / n1))
    half = float(norm.ppf(0.5 + gamma / 2)) * math.sqrt(var)
    return DIInterval(est, math.exp(centre - half), math.exp(centre + half), gamma, 1.0 - f)


# ----------------------------------------------------------------------------- sample size
@dataclass(frozen=True)
class SampleSize:
    """The recommended sample size (see :func:`recommended_sample_size`)."""

    m: int | None
    n: int
    tau: float
    alpha: float
    last_unsafe: int
    evaluations: int
    di_full: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def recommended_sample_size(cells: Any, tau: float | None = None, alpha: float = 0.05) -> SampleSize:
    r"""The smallest ``m`` from which on the DI test's cap stays below ``tau``.

    ``cap(m) < τ  ⟺  P_m(DI ≥ τ) <= α`` (the cap is the largest attainable ``t`` with
    ``P_m(DI ≥ t) > α``). The cap is not monotone in ``m`` — at ``m = 1`` every DI is
    undefined (cap ``-∞``), at ``m = 2`` it is often ``+∞`` — so "the first ``m`` with
    ``cap(m) < τ``" is no guideline; this returns

    .. math::
        m^* = 1 + \max\{m \le n : P_m(DI \ge \tau) > \alpha\},

    so that every sample of ``m^*`` rows or more leaves no room to show ``DI ≥ τ``.

    Exact, by a certified scan (no monotonicity assumed): bisection finds an unsafe ``m_b``;
    then every ``m > m_b`` is certified. Coupling sizes ``m`` and ``m + i`` through one random
    order of the rows, ``P_{m+i}(A) <= P_m(A) + P_m(A^c ∩ U_j)`` for ``i <= j``, where ``U_j``
    holds the counts from which ``j`` added rows can reach ``A = {DI ≥ τ}``: one exact
    evaluation at ``m`` certifies the whole range ``[m, m + j]``. A newly found unsafe ``m``
    replaces ``m_b``. ``m = None`` when the full data's DI is itself ``≥ τ``.

    Parameters
    ----------
    cells : array-like of int, shape (4,)
    tau : float, default :data:`fairwash.catalogue.COMPLIANCE_THRESHOLD`
    alpha : float, default 0.05
    """
    C = check_cells(cells)
    tau = COMPLIANCE_THRESHOLD if tau is None else float(tau)
    if not (tau > 0 and math.isfinite(tau)):
        raise ValueError(f"tau must be a positive finite DI, got {tau!r}")
    alpha = _check_level(alpha, "alpha")
    m, last, evals = recommended_m(C, tau, alpha)
    full = di_value(C)
    return SampleSize(m, int(C.sum()), tau, alpha, last, evals, float(full))
