r"""The exact (1 − α) quantile of an honest sample's DI (private; see :func:`.dilaw.di_quantile`).

``q = max{t attainable : P(DI ≥ t) > α}``. A search on a real threshold (interpolation in
probit space with probes on both sides, a bisection every third step) keeps a bracket
``sf(lo) > α >= sf(hi)``; once the bracket holds at most :data:`ENUMERATE_MAX` attainable
``(k, c01, c11)`` triples with ``lo <= DI < hi`` (counted from the exact floors), those are
enumerated, reduced to distinct exact fractions with their probabilities, sorted exactly and
accumulated downwards from ``sf(hi)``.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from scipy.stats import norm

from fairwash.detect._cell_law import CellLaw, as_ratio

__all__ = ["quantile", "ENUMERATE_MAX"]

#: Largest number of candidate triples enumerated at the end of the bisection.
ENUMERATE_MAX = 50_000
_MAX_STEPS = 200


class _Bracket:
    """Floors and survival probabilities of the law at float thresholds."""

    def __init__(self, law: CellLaw) -> None:
        self.law, self.cdf = law, law.b_cdf
        self.valid = (law.a_values > 0) & (law.a.pmf > 0)
        self.bs = law.b.start[:, None]
        self.be = self.bs + law.b.pmf.shape[1] - 1

    def at(self, d: float) -> tuple[np.ndarray, float]:
        P, Q = as_ratio(d)
        F = self.law.floors(P, Q)
        return F, self.law.sf_floors(F)

    def span(self, F_lo: np.ndarray, F_hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lower = np.maximum(np.maximum(F_hi + 1, self.bs), 1)
        upper = np.minimum(F_lo, self.be)
        return lower, np.where(self.valid, np.maximum(upper - lower + 1, 0), 0)


def _guess(law: CellLaw, alpha: float) -> tuple[float, float] | None:
    C00, C01, C10, C11 = (int(c) for c in law.cells)
    N0, N1 = C00 + C01, C10 + C11
    n, m = N0 + N1, law.m
    p0, p1 = C01 / N0, C11 / N1
    if p0 == 0 or p1 == 0:
        return None
    var = (1 - m / n) * ((1 - p0) / (m * (N0 / n) * p0) + (1 - p1) / (m * (N1 / n) * p1))
    se = math.sqrt(max(var, 1e-24))
    centre = (p0 / p1) * math.exp(float(norm.isf(alpha)) * se)
    return centre * math.exp(-6 * se), centre * math.exp(6 * se)


def _exact_desc(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """Order of distinct fractions ``num/den`` from largest to smallest, exactly."""
    v = num / den
    order = np.argsort(-v, kind="stable")
    vs = v[order]
    ties = np.flatnonzero(vs[1:] == vs[:-1])
    if ties.size:  # distinct fractions rounding to one float: sort those runs exactly
        runs = np.split(np.arange(len(vs)), np.flatnonzero(vs[1:] != vs[:-1]) + 1)
        for run in runs:
            if len(run) > 1:
                sub = order[run]
                order[run] = sorted(sub, key=lambda i: Fraction(int(num[i]), int(den[i])), reverse=True)
    return order


def _enumerate(law: CellLaw, lower: np.ndarray, cnt: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ii, jj = np.nonzero(cnt > 0)
    c = cnt[ii, jj]
    rep = np.repeat(np.arange(len(c)), c)
    off = np.arange(int(c.sum())) - np.repeat(np.cumsum(c) - c, c)
    i, j = ii[rep], jj[rep]
    b = lower[ii, jj][rep] + off
    k = law.k[i]
    a = law.a.start[i] + j
    prob = law.pk[i] * law.a.pmf[i, j] * law.b.pmf[i, b - law.b.start[i]]
    num, den = a * (law.m - k), k * b
    g = np.gcd(num, den)
    pairs, inv = np.unique(np.column_stack([num // g, den // g]), axis=0, return_inverse=True)
    return pairs[:, 0], pairs[:, 1], np.bincount(inv.ravel(), weights=prob, minlength=len(pairs))


def _bracket(br: _Bracket, law: CellLaw, alpha: float, hi0: float) -> tuple[float, float]:
    lo, hi = 1.0 / (2.0 * law.m * law.m), hi0
    guess = _guess(law, alpha)
    if guess is not None:
        g_lo, g_hi = guess
        if lo < g_lo < hi and br.at(g_lo)[1] > alpha:
            lo = g_lo
        if lo < g_hi < hi and br.at(g_hi)[1] <= alpha:
            hi = g_hi
    return lo, hi


def quantile(law: CellLaw, alpha: float) -> tuple[float, Fraction | float, float, float]:
    """``(q, q as a Fraction, P(DI > q), P(DI >= q))`` for the law ``law``."""
    p_inf, p_def = law.p_infinite(), law.p_defined()
    if p_inf > alpha:
        return math.inf, math.inf, 0.0, p_inf
    if p_def <= alpha:
        return -math.inf, -math.inf, p_def, p_def
    br = _Bracket(law)
    tiny = 1.0 / (2.0 * law.m * law.m)  # below every positive attainable DI, >= 1/(m-1)^2
    if br.at(tiny)[1] <= alpha:
        return 0.0, Fraction(0), br.at(tiny)[1], p_def
    a_max = np.where(br.valid, law.a_values, 0).max(axis=1)
    hi0 = float(np.max(a_max * (law.m - law.k) / law.k)) + 1.0
    lo, hi = _bracket(br, law, alpha, hi0)
    (F_lo, sf_lo), (F_hi, sf_hi) = br.at(lo), br.at(hi)
    g_alpha = float(norm.isf(alpha))
    for step in range(_MAX_STEPS):
        lower, cnt = br.span(F_lo, F_hi)
        if int(cnt.sum()) <= ENUMERATE_MAX:
            break
        L, H = math.log(lo), math.log(hi)
        g_lo, g_hi = float(norm.isf(sf_lo)), float(norm.isf(sf_hi))
        if step % 3 == 2 or not (math.isfinite(g_lo) and math.isfinite(g_hi) and g_hi > g_lo):
            x = 0.5 * (L + H)  # a bisection every third step keeps the bracket shrinking
        else:  # the sf is near-Gaussian in log d: interpolate in probit space, then probe past it
            x = L + min(max((g_alpha - g_lo) / (g_hi - g_lo), 0.02), 0.98) * (H - L)
        probes = [x] if step % 3 == 2 else [x, x + 0.01 * (H - L), x - 0.01 * (H - L)]
        for y in probes:
            mid = math.exp(y)
            if not lo < mid < hi:
                continue
            F_mid, sf_mid = br.at(mid)
            if sf_mid > alpha:
                lo, F_lo, sf_lo = mid, F_mid, sf_mid
            else:
                hi, F_hi, sf_hi = mid, F_mid, sf_mid
        if not lo < math.sqrt(lo * hi) < hi:
            break
    num, den, prob = _enumerate(law, lower, cnt)
    order = _exact_desc(num, den)
    S = sf_hi + np.cumsum(prob[order])
    above = np.flatnonzero(S > alpha)
    if not above.size:
        raise RuntimeError("quantile: the bracket lost the (1 - alpha) quantile (rounding?)")
    t = int(above[0])
    q = Fraction(int(num[order[t]]), int(den[order[t]]))
    size = float(S[t - 1]) if t > 0 else sf_hi
    return float(q), q, size, float(S[t])
