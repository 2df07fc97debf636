r"""The cell statistics for many count vectors at once, and the cell cap of a search.

KL_P, W_P and MMD_P (paper, Section 4) depend on a sample only through its four (s, ŷ)
counts ``c = (c_00, c_01, c_10, c_11)``, like its DI (eq. 1). This module holds their
vectorised forms, mirroring :func:`fairwash.detect.distances.kl_cells`,
:func:`~fairwash.detect.distances.mmd_cells` and the DI, and :func:`cell_di_cap`: the
largest DI of a size-``m`` sample that the cell tests may accept (a level of the
fairest search at or above it cannot yield a passing sample, whatever ``Q``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.special import kl_div

from fairwash.catalogue import TESTS
from fairwash.detect.context import BatteryContext
from fairwash.detect.distances import CELLS
from fairwash.detect.thresholds import ReferenceThresholds

__all__ = ["di_counts", "kl_cells_vec", "mmd_cells_vec", "cell_di_cap"]

#: Relative safety margin of the cell cap: a count vector is discarded only if its
#: vectorised statistic exceeds the threshold by this much (far above rounding error).
_CAP_RTOL = 1e-6
#: Largest number of count vectors the cell cap enumerates (else: no cap).
_CAP_MAX = 20_000_000


def di_counts(n0, a0, n1, a1) -> np.ndarray:
    r"""DI from group sizes and positives, vectorised (eq. 1, unbounded).

    .. math:: \mathrm{DI} = \frac{a_0 / n_0}{a_1 / n_1}

    The same float operations serve samples (:func:`fairwash.protocol.samples.sample_di`)
    and count vectors (:func:`cell_di_cap`), so a sample and its cell vector have the
    same DI bit for bit.

    Parameters
    ----------
    n0, a0, n1, a1 : array_like
        Size of S=0, its positives, size of S=1, its positives (broadcast together).

    Returns
    -------
    ndarray of float64
        ``nan`` where a group is empty or ``a_1 = 0`` (DI = ∞ or 0/0: never compliant).

    Examples
    --------
    >>> di_counts([10, 10], [4, 4], [10, 10], [5, 0]).tolist()
    [0.8, nan]
    """
    n0, a0, n1, a1 = (np.asarray(v, dtype=np.float64) for v in (n0, a0, n1, a1))
    with np.errstate(divide="ignore", invalid="ignore"):
        di = (a0 / n0) / (a1 / n1)
    return np.where((n0 > 0) & (n1 > 0) & (a1 > 0), di, np.nan)


def kl_cells_vec(q: np.ndarray, p: np.ndarray, form: str) -> np.ndarray:
    """:func:`fairwash.detect.distances.kl_cells` for many sample histograms at once.

    Parameters
    ----------
    q : ndarray, shape (n_vectors, 4)
        Sample cell histograms (rows sum to 1).
    p : ndarray, shape (4,)
        The full data's cell histogram.
    form : {"sample_ref", "authors"}
        KL estimator (:func:`fairwash.detect.distances.kl_discrete`).

    Returns
    -------
    ndarray, shape (n_vectors,)
        ``inf`` where the sample fills a cell the full data leaves empty.
    """
    on = q > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        if form == "sample_ref":
            terms = np.where(on, q * np.log(q / p), 0.0)
            val = np.maximum(terms.sum(axis=1), 0.0)
        else:
            val = np.where(on, kl_div(np.broadcast_to(p, q.shape), q), 0.0).sum(axis=1)
    missing = (on & (p == 0)).any(axis=1)
    return np.where(missing, np.inf, val)


def mmd_cells_vec(q: np.ndarray, p: np.ndarray, gamma: float) -> np.ndarray:
    r""":func:`fairwash.detect.distances.mmd_cells` for many sample histograms at once.

    .. math:: \mathrm{MMD}^2(q, p) = (q - p)^\top K (q - p), \quad
              K_{ij} = e^{-\gamma \lVert c_i - c_j \rVert^2}

    over the four cells ``c_i`` (:data:`fairwash.detect.distances.CELLS`).

    Parameters
    ----------
    q : ndarray, shape (n_vectors, 4)
    p : ndarray, shape (4,)
    gamma : float

    Returns
    -------
    ndarray, shape (n_vectors,)
    """
    K = np.exp(-gamma * ((CELLS[:, None, :] - CELLS[None, :, :]) ** 2).sum(-1))
    diff = q - p
    return np.maximum(np.einsum("ij,jk,ik->i", diff, K, diff), 0.0)


def _loose(threshold: float) -> float:
    return threshold * (1 + _CAP_RTOL) + 1e-12 if np.isfinite(threshold) else threshold


def _count_vectors(p: np.ndarray, m: int, tol: float) -> np.ndarray | None:
    """Count vectors of size ``m`` with ``TV(c/m, p) <= tol``, shape (k, 4); ``None``: too many."""
    lo = np.maximum(np.ceil(m * (p - tol) - 1e-9), 0).astype(int)
    hi = np.minimum(np.floor(m * (p + tol) + 1e-9), m).astype(int)
    if (hi < lo).any():
        return np.empty((0, 4))
    if int(np.prod(hi[1:] - lo[1:] + 1)) > _CAP_MAX:
        return None
    c01, c10, c11 = np.meshgrid(*(np.arange(lo[k], hi[k] + 1) for k in (1, 2, 3)), indexing="ij")
    c01, c10, c11 = c01.ravel(), c10.ravel(), c11.ravel()
    c00 = m - c01 - c10 - c11
    c = np.column_stack([c00, c01, c10, c11]).astype(np.float64)
    return c[(c00 >= 0) & (0.5 * np.abs(c / m - p).sum(axis=1) <= tol)]


def cell_di_cap(context: BatteryContext, thresholds: ReferenceThresholds, m: int,
                tests: Sequence[str] = TESTS) -> float:
    """Largest DI of a size-``m`` sample that the cell tests of ``tests`` may accept.

    A sample's KL_P, W_P, MMD_P and DI depend only on its (s, ŷ) counts ``c``. Every
    count vector with ``TV(c/m, p) <= thr(W_P)`` (a valid bound since W_P ≥ TV on the four
    cells, all at distance ≥ 1 from each other) is enumerated; those whose KL_P or MMD_P
    exceeds its threshold by more than a relative 1e-6 are dropped (W_P itself is only
    bounded, KS is ignored: both only make the cap larger, never wrong).

    Parameters
    ----------
    context : BatteryContext
        The full data's cell histogram ``p``, KL form and MMD ``gamma``.
    thresholds : ReferenceThresholds
        For size ``m`` (eq. 3).
    m : int
    tests : sequence of str

    Returns
    -------
    float
        The cap; ``inf`` when W_P is not in ``tests`` or the enumeration would exceed
        2·10⁷ vectors (no cap); ``-inf`` if no count vector with a defined DI survives.
    """
    tests = tuple(tests)
    if "W_P" not in tests:
        return math.inf
    p = context.cells
    c = _count_vectors(p, m, thresholds.thresholds["W_P"] * (1 + _CAP_RTOL) + 1e-12)
    if c is None:
        return math.inf
    q = c / m
    keep = np.ones(len(c), dtype=bool)
    if "KL_P" in tests:
        keep &= ~(kl_cells_vec(q, p, context.kl_form) > _loose(thresholds.thresholds["KL_P"]))
    if "MMD_P" in tests:
        keep &= ~(mmd_cells_vec(q, p, context.gamma) > _loose(thresholds.thresholds["MMD_P"]))
    di = di_counts(c[:, 0] + c[:, 1], c[:, 1], c[:, 2] + c[:, 3], c[:, 3])[keep]
    di = di[np.isfinite(di)]
    return float(di.max()) if di.size else -math.inf
