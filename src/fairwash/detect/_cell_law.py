r"""The exact law of an honest sample's four cell counts (private; see :mod:`fairwash.detect.dilaw`).

An honest sample of ``m`` of the ``n`` rows, drawn uniformly without replacement, has cell
counts ``c = (c00, c01, c10, c11)`` (cell ``(s, ŷ)``) that are multivariate hypergeometric
with the full data's counts ``C``. Exactly,

.. math::
    k = c_{00} + c_{01} \sim \mathcal H(n, N_0, m), \quad
    c_{01} \mid k \sim \mathcal H(N_0, C_{01}, k), \quad
    c_{11} \mid k \sim \mathcal H(N_1, C_{11}, m - k),

the last two independent given ``k`` (``N_0 = C_{00} + C_{01}``, ``N_1 = C_{10} + C_{11}``).

:class:`CellLaw` holds, for every ``k`` of non-negligible probability, a window of the
pmf of ``c01`` and of ``c11``. Each window is ``±z`` standard deviations around the mode
(the whole support when that is smaller), the pmf built from the mode outwards with the
exact ratio recurrence anchored on Loader's saddle-point pmf (:mod:`._hyperpmf`, relative
error ~1e-13 up to n = 10⁶, where SciPy's drifts to ~1e-10). The mass left out is
bounded rigorously: the hypergeometric pmf is log-concave, so beyond a window edge ``x_e``
past the mode the ratios are at most ``ρ = P(x_e + 1) / P(x_e) < 1`` and the tail is at most
``P(x_e) ρ / (1 - ρ)``. :attr:`CellLaw.tail` adds these bounds (weighted by ``P(k)``); every
probability computed from the law is exact up to that bound and floating-point rounding.

Comparisons ``DI ≥ d`` are made in exact rational arithmetic (:func:`exact_floor`).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property

import numpy as np

from fairwash.detect._hyperpmf import hyper_pmf

__all__ = ["CellLaw", "HyperRows", "hyper_rows", "exact_floor", "as_ratio"]

#: Half-width of each pmf window in standard deviations (the tail bound is checked, not assumed).
Z_WINDOW = 8.5
#: A float ratio this close (relatively) to an integer has its floor recomputed with integers.
NEAR = 1e-9
#: Products below this bound are exact in int64 (2^62).
_INT_SAFE = 2**62
#: Largest accepted bound on the mass a law leaves out; a wider window is built above it.
TAIL_MAX = 1e-13


@dataclass(frozen=True)
class HyperRows:
    """Windows of hypergeometric pmfs, one row per number of draws.

    ``pmf[i, j] = P(X_i = start[i] + j)``, ``X_i ~ H(N, K, draws[i])``; ``tail[i]`` bounds the
    mass of ``X_i`` outside the window.
    """

    start: np.ndarray
    pmf: np.ndarray
    tail: np.ndarray

    def at(self, x: np.ndarray) -> np.ndarray:
        """``P(X_i = x[i])`` (0 outside the window), for one value per row."""
        j = np.asarray(x, dtype=np.int64) - self.start
        ok = (j >= 0) & (j < self.pmf.shape[1])
        out = np.zeros(len(self.start))
        rows = np.flatnonzero(ok)
        out[rows] = self.pmf[rows, j[rows]]
        return out


def _edge_tail(edge_pmf: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """Mass beyond a window edge past the mode: at most ``P(x_e) ρ / (1 - ρ)`` (log-concavity).

    A zero edge pmf means the support ended there, or the pmf underflowed (< 1e-308, and
    smaller still beyond it on at most 10⁷ points): the bound is 0 to double precision.
    """
    rho = np.clip(rho, 0.0, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        bound = np.where(rho < 1.0, edge_pmf * rho / (1.0 - rho), np.inf)
    return np.where(edge_pmf > 0, bound, 0.0)


def hyper_rows(N: int, K: int, draws: np.ndarray, z: float = Z_WINDOW) -> HyperRows:
    """Pmf windows of ``H(N, K, n_i)`` for each ``n_i`` in ``draws`` (``0 <= n_i <= N``)."""
    draws = np.asarray(draws, dtype=np.int64)
    p = K / N if N else 0.0
    var = draws * p * (1.0 - p) * (N - draws) / max(N - 1, 1)
    H = int(np.ceil(z * np.sqrt(var.max(initial=0.0)))) + 2
    lo, hi = np.maximum(0, draws - (N - K)), np.minimum(draws, K)
    mode = np.clip((draws + 1) * (K + 1) // (N + 2), lo, hi)
    anchor = hyper_pmf(mode, N, K, draws)
    d, steps = draws[:, None].astype(np.float64), np.arange(H + 1, dtype=np.float64)[None, :]
    Kf, Nf = float(K), float(N)  # integers below 2^53: float arithmetic is exact here
    x = mode[:, None] + steps  # ratio P(x + 1) / P(x)
    up = np.maximum((Kf - x) * (d - x), 0.0) / ((x + 1.0) * (Nf - Kf - d + x + 1.0))
    x = mode[:, None] - steps  # ratio P(x - 1) / P(x)
    down = np.maximum(x * (Nf - Kf - d + x), 0.0) / ((Kf - x + 1.0) * (d - x + 1.0))
    right = np.cumprod(up[:, :H], axis=1)
    left = np.cumprod(down[:, :H], axis=1)
    rel = np.concatenate([left[:, ::-1], np.ones((len(draws), 1)), right], axis=1)
    pmf = anchor[:, None] * rel
    tail = _edge_tail(pmf[:, -1], up[:, H]) + _edge_tail(pmf[:, 0], down[:, H])
    return HyperRows(mode - H, pmf, tail)


def as_ratio(d: float | Fraction | tuple[int, int]) -> tuple[int, int]:
    """``(P, Q)`` with ``d = P / Q``: a Fraction exactly, a float as the decimal it prints as.

    ``0.8`` is the four-fifths rule's ``4/5`` (its binary value is ``4/5 + 4.4e-17``, which
    would make a DI of exactly 4/5 fall short of it); pass a Fraction for any other rational.
    """
    if isinstance(d, tuple):
        return int(d[0]), int(d[1])
    if not isinstance(d, Fraction):
        d = Fraction(repr(float(d)))
    return d.numerator, d.denominator


def exact_floor(A: np.ndarray, k: np.ndarray, P: int, Q: int, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    r"""``clip(floor(A Q / (k P)), lo - 1, hi)`` exactly, for integer arrays ``A``, ``k`` (``k, P, Q > 0``).

    In int64 when every product stays below ``2^62`` (an observed DI's fraction up to
    ``m ≈ 10^5``, the four-fifths rule's ``4/5`` always). Otherwise the float ratio
    ``x = A / (k (P/Q))`` has a relative error below ``4 u`` (three rounded operations,
    ``u = 2^{-53}``). Where ``x`` is farther than ``NEAR · max(1, |x|)`` (``10^{-9}``,
    far above ``4u``) from every integer, ``floor`` of the float is the exact floor; the few
    other entries are recomputed with Python integers.
    """
    A = np.asarray(A, dtype=np.int64)
    kk = np.broadcast_to(np.asarray(k, dtype=np.int64), A.shape)
    lo_b = np.broadcast_to(lo, A.shape)
    hi_b = np.broadcast_to(hi, A.shape)
    a_max, k_max = int(A.max(initial=0)), int(kk.max(initial=0))
    if a_max * Q < _INT_SAFE and k_max * P < _INT_SAFE:  # all in int64: floor division is exact
        return np.clip((A * Q) // (kk * P), lo_b - 1, hi_b)
    with np.errstate(over="ignore", divide="ignore"):
        x = A / (kk * (P / Q))
    x = np.clip(np.nan_to_num(x, nan=0.0, posinf=np.inf), lo_b - 2.0, hi_b + 2.0)
    f = np.floor(x)
    near = (np.abs(x - np.rint(x)) <= NEAR * np.maximum(1.0, np.abs(x))) & (x > lo_b - 2) & (x < hi_b + 2)
    idx = np.flatnonzero(near.ravel())
    if idx.size:
        fa = f.reshape(-1)
        a_l, k_l = A.reshape(-1)[idx].tolist(), kk.reshape(-1)[idx].tolist()
        fa[idx] = [(a * Q) // (kv * P) for a, kv in zip(a_l, k_l, strict=True)]
        f = fa.reshape(A.shape)
    return np.clip(f, lo_b - 1, hi_b).astype(np.int64)


@dataclass(frozen=True)
class CellLaw:
    """The law of an honest size-``m`` sample's cell counts, as windows per ``k``.

    Attributes
    ----------
    cells : ndarray of int64, shape (4,)
        Full data counts ``(C00, C01, C10, C11)``.
    m : int
        Sample size.
    k, pk : ndarray, shape (K,)
        The values ``1 <= k <= m - 1`` kept and their probabilities.
    a, b : HyperRows
        Windows of ``c01 | k`` and ``c11 | m - k``, one row per kept ``k``.
    p_k_edge : float
        ``P(k = 0) + P(k = m)`` (a group absent: DI undefined).
    tail : float
        Bound on the total probability the windows leave out.
    """

    cells: np.ndarray
    m: int
    k: np.ndarray
    pk: np.ndarray
    a: HyperRows
    b: HyperRows
    p_k_edge: float
    tail: float

    @classmethod
    def build(cls, cells: np.ndarray, m: int, z: float = Z_WINDOW) -> CellLaw:
        for zz in (z, z + 3.0, z + 8.0):
            law = cls._build(cells, m, zz)
            if law.tail <= TAIL_MAX:
                return law
        return law

    @classmethod
    def _build(cls, cells: np.ndarray, m: int, z: float) -> CellLaw:
        C00, C01, C10, C11 = (int(c) for c in cells)
        N0, N1 = C00 + C01, C10 + C11
        rows = hyper_rows(N0 + N1, N0, np.array([m]), z)
        kv = rows.start[0] + np.arange(rows.pmf.shape[1])
        pk_all = rows.pmf[0]
        keep = (pk_all > 0) & (kv >= 1) & (kv <= m - 1)
        edge = float(pk_all[(kv == 0) | (kv == m)].sum())
        k, pk = kv[keep], pk_all[keep]
        a = hyper_rows(N0, C01, k, z)
        b = hyper_rows(N1, C11, m - k, z)
        tail = float(rows.tail[0] + (pk * (a.tail + b.tail)).sum())
        return cls(np.asarray(cells, dtype=np.int64), int(m), k, pk, a, b, edge, tail)

    # ------------------------------------------------------------------ derived pieces
    @cached_property
    def a_values(self) -> np.ndarray:
        return self.a.start[:, None] + np.arange(self.a.pmf.shape[1])[None, :]

    @cached_property
    def b_cdf(self) -> np.ndarray:
        return np.cumsum(self.b.pmf, axis=1)

    @cached_property
    def _A(self) -> np.ndarray:
        return self.a_values * (self.m - self.k)[:, None]

    @cached_property
    def _a_weight(self) -> np.ndarray:
        """``P(k) P(c01 | k)``, zero where ``c01 = 0`` (a DI of 0 or undefined: never ``>= d > 0``)."""
        return np.where(self.a_values > 0, self.pk[:, None] * self.a.pmf, 0.0)

    def p_undefined(self) -> float:
        """``P(k = 0 or k = m) + P(c01 = c11 = 0, 0 < k < m)``: the DI is undefined."""
        return self.p_k_edge + float((self.pk * self.a.at(np.zeros_like(self.k))
                                      * self.b.at(np.zeros_like(self.k))).sum())

    def p_defined(self) -> float:
        """``P(DI defined)`` (= ``P(DI >= 0)``), from the windows."""
        zero = np.zeros_like(self.k)
        both = self.a.pmf.sum(axis=1) * self.b.pmf.sum(axis=1) - self.a.at(zero) * self.b.at(zero)
        return float(self.pk @ both)

    def p_infinite(self) -> float:
        """``P(c11 = 0 < c01, 0 < k < m)``: DI = +∞."""
        pa_pos = self.a.pmf.sum(axis=1) - self.a.at(np.zeros_like(self.k))
        return float((self.pk * pa_pos * self.b.at(np.zeros_like(self.k))).sum())

    def floors(self, P: int, Q: int) -> np.ndarray:
        r"""``f[i, j]``: the largest ``c11`` with ``DI(k_i, a_j, c11) >= P/Q``, clipped to the window.

        ``DI >= d \iff c_{11} \le c_{01} (m - k) / (k d)``; ``-1`` below the window start.
        """
        A = self._A
        lo = self.b.start[:, None]
        hi = lo + self.b.pmf.shape[1] - 1
        return exact_floor(A, self.k[:, None], P, Q, lo, hi)

    def sf_floors(self, F: np.ndarray) -> float:
        """``Σ P(k) P(c01 | k) F_{c11}(F)`` over ``c01 >= 1``, for floors ``F`` from :meth:`floors`."""
        cdf = self.b_cdf
        j = F - self.b.start[:, None]
        G = np.take_along_axis(cdf, np.clip(j, 0, cdf.shape[1] - 1), axis=1)
        return float(np.einsum("ij,ij->", self._a_weight, np.where(j >= 0, G, 0.0)))

    def sf_ratio(self, P: int, Q: int, cdf: np.ndarray | None = None) -> float:
        """``P(DI >= P/Q)`` for ``P/Q > 0`` finite, DI = +∞ counted, undefined DI not."""
        return self.sf_floors(self.floors(P, Q))
