r"""The battery's distances between a sample and the full data (paper, Section 4).

Every function is pure and works on *rows* ``(x_1, ..., x_d, s, ŷ)``: a float array of
shape ``(k, d + 2)`` with the sensitive attribute in column ``-2`` and the decision in
column ``-1``, each set of rows with optional non-negative weights (uniform when
omitted, normalised to sum to one).

Two scales are used (Table 2's "A" and "P" tests):

* **joint** ("A"): the whole rows ``(x, s, ŷ)``;
* **cells** ("P"): the distribution of ``(s, ŷ)`` only, a histogram on the four cells
  ``(0, 0), (0, 1), (1, 0), (1, 1)`` in that order (:data:`CELLS`), computed once per set
  of rows with :func:`cell_histogram` so that W_P, KL_P and MMD_P never touch the rows.

Conventions (documented with their reasons in ``docs/protocol.md``):

* Wasserstein: exact optimal transport, Euclidean ground cost, i.e. :math:`W_1`; the
  solver's result code is checked and a non-optimal solve raises :class:`OTSolverError`.
* KL: discrete, on exact unique rows; ``+inf`` as soon as the sample puts mass on a row
  the reference does not contain.
* MMD: the biased (V-statistic) **squared** MMD with the Gaussian kernel
  :math:`k(a, b) = \exp(-\gamma \lVert a - b \rVert^2)`, computed block-wise.
* KS: two two-sample KS tests of ŷ, one per group, summarised by the smaller p-value.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats
from scipy.special import kl_div

from fairwash._pot import ot

__all__ = [
    "CELLS",
    "OTSolverError",
    "as_rows",
    "as_weights",
    "wasserstein",
    "cell_histogram",
    "wasserstein_cells",
    "RowIndex",
    "kl_discrete",
    "kl_cells",
    "MMDReference",
    "mmd",
    "mmd_cells",
    "ks_by_group",
    "ks_statistics",
]

#: The four (s, ŷ) cells, in the order of :func:`cell_histogram` (index ``2 s + ŷ``).
CELLS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])

#: Euclidean ground cost between the four cells.
_CELL_COST = np.sqrt(((CELLS[:, None, :] - CELLS[None, :, :]) ** 2).sum(-1))

KLForm = Literal["sample_ref", "authors"]

#: Entries of a kernel block held in memory at once (float64: 32 MB).
_BLOCK_ENTRIES = 4_000_000


class OTSolverError(RuntimeError):
    """The exact OT solver stopped before optimality (its value would be wrong)."""


# ----------------------------------------------------------------------------- validation
def as_rows(rows, name: str = "rows", *, min_cols: int = 1) -> np.ndarray:
    """``rows`` as a finite, C-contiguous float64 array of shape (k, c), k ≥ 1.

    ``-0.0`` is normalised to ``0.0`` so that equal rows have equal bytes (used by
    :class:`RowIndex`).
    """
    arr = np.asarray(rows, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (rows x columns), got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} has no rows")
    if arr.shape[1] < min_cols:
        raise ValueError(f"{name} needs at least {min_cols} columns, got {arr.shape[1]}")
    if not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise ValueError(f"{name} has a non-finite value {arr[tuple(bad)]} at row {bad[0]}, column {bad[1]}")
    return np.ascontiguousarray(arr + 0.0)


def as_weights(weights, k: int, name: str = "weights") -> np.ndarray:
    """Probability weights of length ``k``: uniform when ``None``, else normalised."""
    if weights is None:
        return np.full(k, 1.0 / k)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (k,):
        raise ValueError(f"{name} has shape {w.shape}, expected ({k},)")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError(f"{name} must be finite and non-negative")
    total = w.sum()
    if total <= 0:
        raise ValueError(f"{name} sum to zero")
    return w / total


def _check_binary(rows: np.ndarray, name: str) -> None:
    if rows.shape[1] < 2:
        raise ValueError(f"{name} needs the columns s and ŷ (at -2 and -1); got {rows.shape[1]} column(s)")
    for col, label in ((-2, "s"), (-1, "ŷ")):
        values = rows[:, col]
        bad = (values != 0.0) & (values != 1.0)
        if bad.any():
            raise ValueError(f"{name}: column {label} (index {col}) must be 0/1, found {values[bad][0]!r}")


def _solve_emd2(a: np.ndarray, b: np.ndarray, M: np.ndarray, num_itermax: int) -> float:
    with warnings.catch_warnings():
        # the result code below is the authority; POT's warning would only repeat it
        warnings.simplefilter("ignore", UserWarning)
        value, log = ot.emd2(a, b, M, numItermax=int(num_itermax), log=True)
    if log["result_code"] != 1:
        raise OTSolverError(
            f"exact OT did not reach optimality (POT result_code={log['result_code']}: "
            f"{log['warning']}); increase num_itermax (now {num_itermax})"
        )
    return float(value)


# ----------------------------------------------------------------------------- Wasserstein
def wasserstein(A, B, a=None, b=None, *, num_itermax: int = 10_000_000) -> float:
    r"""Exact Wasserstein-1 distance with Euclidean ground cost (W_A).

    .. math:: W(\mu, \nu) = \min_{\pi \in \Pi(a, b)} \sum_{ij} \pi_{ij} \lVert A_i - B_j \rVert_2

    Solved exactly by POT's network simplex (``ot.emd2``) on the full
    ``len(A) x len(B)`` float64 cost matrix (320 MB at 2 000 x 20 000).

    Parameters
    ----------
    A : ndarray, shape (k, c)
    B : ndarray, shape (l, c)
    a, b : ndarray, shape (k,) / (l,), optional
        Weights (uniform when omitted; normalised to sum to one).
    num_itermax : int
        Simplex iteration cap. POT's default (1e5) is far too small at n = 20 000.

    Returns
    -------
    float

    Raises
    ------
    OTSolverError
        When the solver did not reach optimality (never a silent wrong value).

    Examples
    --------
    >>> round(wasserstein([[0.0], [1.0]], [[0.0], [3.0]]), 6)
    1.0
    """
    A = as_rows(A, "A")
    B = as_rows(B, "B")
    if A.shape[1] != B.shape[1]:
        raise ValueError(f"A and B must have the same columns, got {A.shape[1]} and {B.shape[1]}")
    wa = as_weights(a, len(A), "a")
    wb = as_weights(b, len(B), "b")
    M = ot.dist(A, B, metric="euclidean")
    return _solve_emd2(wa, wb, M, num_itermax)


def cell_histogram(rows, weights=None) -> np.ndarray:
    """Mass of each (s, ŷ) cell, in the order of :data:`CELLS`.

    Parameters
    ----------
    rows : ndarray, shape (k, d + 2)
        Rows ``(x, s, ŷ)``; only the last two columns are read (they must be 0/1).
    weights : ndarray, shape (k,), optional

    Returns
    -------
    ndarray, shape (4,)
        Probabilities of the cells (0,0), (0,1), (1,0), (1,1); they sum to one.
    """
    rows = as_rows(rows, "rows", min_cols=2)
    _check_binary(rows, "rows")
    w = as_weights(weights, len(rows))
    code = (2 * rows[:, -2] + rows[:, -1]).astype(np.intp)
    return np.bincount(code, weights=w, minlength=4)


def _as_hist(p, name: str) -> np.ndarray:
    p = np.asarray(p, dtype=np.float64)
    if p.shape != (4,):
        raise ValueError(f"{name} must be a 4-cell histogram, got shape {p.shape}")
    if not np.isfinite(p).all() or (p < 0).any() or p.sum() <= 0:
        raise ValueError(f"{name} must be finite, non-negative and not all zero: {p}")
    return p / p.sum()


def wasserstein_cells(p, q) -> float:
    """Exact Wasserstein-1 distance between two (s, ŷ) histograms (W_P).

    The ground cost is the Euclidean distance between cells (1 between neighbours,
    √2 across the diagonal); a 4 x 4 transport LP solved exactly.

    Examples
    --------
    >>> round(wasserstein_cells([1, 0, 0, 0], [0, 0, 0, 1]), 6)  # sqrt 2
    1.414214
    """
    return _solve_emd2(_as_hist(p, "p"), _as_hist(q, "q"), _CELL_COST, 1_000)


# ----------------------------------------------------------------------------- KL
def _void_view(rows: np.ndarray) -> np.ndarray:
    """One opaque byte string per row, so rows compare/sort as wholes (vectorised)."""
    return rows.view(np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))).ravel()


@dataclass(frozen=True)
class RowIndex:
    """The distinct rows of a reference set and their probabilities.

    Built once per data set (``RowIndex.build(full)``) and reused for every sample:
    :meth:`lookup` finds each sample row among the reference rows with one sorted
    search on a byte view of the rows (exact equality of all columns).
    """

    keys: np.ndarray  # sorted void keys of the distinct rows
    prob: np.ndarray  # reference probability of each distinct row
    n_cols: int

    @classmethod
    def build(cls, ref_rows, ref_weights=None) -> RowIndex:
        ref = as_rows(ref_rows, "ref_rows")
        w = as_weights(ref_weights, len(ref), "ref_weights")
        keys, inverse = np.unique(_void_view(ref), return_inverse=True)
        prob = np.bincount(inverse.ravel(), weights=w, minlength=len(keys))
        return cls(keys=keys, prob=prob, n_cols=ref.shape[1])

    def lookup(self, rows) -> np.ndarray:
        """Position of each row among the distinct reference rows, ``-1`` if absent."""
        rows = as_rows(rows, "rows")
        if rows.shape[1] != self.n_cols:
            raise ValueError(f"rows have {rows.shape[1]} columns, the reference has {self.n_cols}")
        v = _void_view(rows)
        pos = np.searchsorted(self.keys, v)
        pos_c = np.minimum(pos, len(self.keys) - 1)
        found = self.keys[pos_c] == v
        return np.where(found, pos_c, -1)

    def kl(self, sample_rows, sample_weights=None, *, form: KLForm = "sample_ref") -> float:
        """:func:`kl_discrete` of ``sample_rows`` against this reference."""
        rows = as_rows(sample_rows, "sample_rows")
        w = as_weights(sample_weights, len(rows), "sample_weights")
        pos = self.lookup(rows)
        if ((pos < 0) & (w > 0)).any():
            return float("inf")
        keep = w > 0
        uniq, inv = np.unique(pos[keep], return_inverse=True)
        q = np.bincount(inv.ravel(), weights=w[keep], minlength=len(uniq))
        return _kl_from_probs(q, self.prob[uniq], form)


def _kl_from_probs(q: np.ndarray, p: np.ndarray, form: KLForm) -> float:
    """KL on the sample's support: ``q`` sample mass, ``p`` reference mass (both > 0)."""
    if form == "sample_ref":
        return float(max(np.sum(q * np.log(q / p)), 0.0))
    if form == "authors":
        return float(np.sum(kl_div(p, q)))
    raise ValueError(f"form must be 'sample_ref' or 'authors', got {form!r}")


def kl_discrete(
    sample_rows,
    ref_rows,
    sample_weights=None,
    ref_weights=None,
    *,
    form: KLForm = "sample_ref",
) -> float:
    r"""Discrete KL divergence between a sample and a reference on exact unique rows (KL_A).

    With :math:`q` the sample's and :math:`p` the reference's empirical mass on each
    distinct row,

    * ``form="sample_ref"`` (default): :math:`\mathrm{KL}(q \Vert p) = \sum_r q_r \log(q_r / p_r)`;
    * ``form="authors"``: the authors' code, :math:`\sum_{r: q_r > 0} p_r \log(p_r / q_r) - p_r + q_r`
      (SciPy's ``kl_div`` summed over the sample's rows); it reproduces the thresholds of
      ``dic_threshold.json`` (e.g. :math:`1 - f + f \log f` with :math:`f = m / n` when
      all rows are distinct).

    Both are ``+inf`` as soon as the sample puts mass on a row absent from the
    reference: a moved point (Grad) is caught; a sample drawn from the original rows
    (honest, Entropic, Matching copies) never is.

    Parameters
    ----------
    sample_rows : ndarray, shape (m, c)
    ref_rows : ndarray, shape (n, c)
    sample_weights, ref_weights : ndarray, optional
    form : {"sample_ref", "authors"}

    Returns
    -------
    float
        Non-negative, possibly ``inf``.

    Examples
    --------
    >>> round(kl_discrete([[0.0], [0.0]], [[0.0], [1.0]]), 6)  # log 2
    0.693147
    >>> kl_discrete([[2.0]], [[0.0], [1.0]])
    inf
    """
    return RowIndex.build(ref_rows, ref_weights).kl(sample_rows, sample_weights, form=form)


def kl_cells(q, p, *, form: KLForm = "sample_ref") -> float:
    """KL_P: :func:`kl_discrete`'s estimator on the four (s, ŷ) cells.

    Parameters
    ----------
    q : ndarray, shape (4,)
        The sample's cell histogram.
    p : ndarray, shape (4,)
        The reference's cell histogram.
    """
    q = _as_hist(q, "q")
    p = _as_hist(p, "p")
    on = q > 0
    if (p[on] == 0).any():
        return float("inf")
    return _kl_from_probs(q[on], p[on], form)


# ----------------------------------------------------------------------------- MMD
def _sq_norms(X: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", X, X)


def _kernel_quadform(
    A: np.ndarray, a: np.ndarray, B: np.ndarray, b: np.ndarray, gamma: float, *, symmetric: bool = False
) -> float:
    r""":math:`\sum_{ij} a_i b_j \exp(-\gamma \lVert A_i - B_j \rVert^2)`, block by block.

    At most ``_BLOCK_ENTRIES`` kernel entries are held at once. When ``symmetric``
    (A is B, a is b), only the blocks on or above the diagonal are computed.
    """
    na, nb = _sq_norms(A), _sq_norms(B)
    rows_per_block = max(1, _BLOCK_ENTRIES // max(len(B), 1))
    total = 0.0
    for start in range(0, len(A), rows_per_block):
        stop = min(start + rows_per_block, len(A))
        col0 = start if symmetric else 0
        d2 = na[start:stop, None] + nb[None, col0:] - 2.0 * (A[start:stop] @ B[col0:].T)
        np.maximum(d2, 0.0, out=d2)
        np.multiply(d2, -gamma, out=d2)
        np.exp(d2, out=d2)
        if symmetric:
            # block (rows start:stop, cols start:) = diagonal square + strictly-right part
            h = stop - start
            diag = a[start:stop] @ d2[:, :h] @ a[start:stop]
            right = a[start:stop] @ d2[:, h:] @ a[stop:]
            total += diag + 2.0 * right
        else:
            total += a[start:stop] @ d2 @ b
    return float(total)


@dataclass(frozen=True)
class MMDReference:
    r"""A reference set prepared for repeated MMD computations.

    Holds the rows, their weights and the self term
    :math:`\sum_{ij} b_i b_j k(B_i, B_j)`, the ``n x n`` part of the squared MMD that is
    the same for every sample compared with this reference: computed once per data set
    (about 2·10^8 kernel evaluations at n = 20 000, block by block), not per sample.
    """

    rows: np.ndarray
    weights: np.ndarray
    gamma: float
    self_term: float

    @classmethod
    def build(
        cls, ref_rows, ref_weights=None, *, gamma: float = 1.0, self_term: float | None = None
    ) -> MMDReference:
        """Prepare ``ref_rows``; ``self_term``: a value computed before on the same rows."""
        rows = as_rows(ref_rows, "ref_rows")
        if not (np.isfinite(gamma) and gamma > 0):
            raise ValueError(f"gamma must be a positive number, got {gamma!r}")
        w = as_weights(ref_weights, len(rows), "ref_weights")
        if self_term is None:
            self_term = _kernel_quadform(rows, w, rows, w, gamma, symmetric=True)
        elif not (np.isfinite(self_term) and 0 < self_term <= 1 + 1e-12):
            raise ValueError(f"self_term must be in (0, 1] (a mean of kernel values), got {self_term!r}")
        return cls(rows=rows, weights=w, gamma=float(gamma), self_term=self_term)

    def mmd(self, sample_rows, sample_weights=None) -> float:
        """Squared MMD between ``sample_rows`` and this reference (see :func:`mmd`)."""
        A = as_rows(sample_rows, "sample_rows")
        if A.shape[1] != self.rows.shape[1]:
            raise ValueError(f"sample has {A.shape[1]} columns, the reference has {self.rows.shape[1]}")
        a = as_weights(sample_weights, len(A), "sample_weights")
        aa = _kernel_quadform(A, a, A, a, self.gamma, symmetric=True)
        ab = _kernel_quadform(A, a, self.rows, self.weights, self.gamma)
        return float(max(aa + self.self_term - 2.0 * ab, 0.0))


def mmd(A, B, a=None, b=None, *, gamma: float = 1.0) -> float:
    r"""Squared Maximum Mean Discrepancy, biased (V-statistic) form (MMD_A).

    .. math::

        \mathrm{MMD}^2 = \sum_{ij} a_i a_j k(A_i, A_j) + \sum_{ij} b_i b_j k(B_i, B_j)
                         - 2 \sum_{ij} a_i b_j k(A_i, B_j),
        \qquad k(u, v) = \exp(-\gamma \lVert u - v \rVert^2)

    (Gretton et al., 2012), the form of the authors' code (``XX.mean() + YY.mean() -
    2 XY.mean()``). Computed block-wise: memory stays bounded (32 MB blocks) at
    4 000 x 20 000. To compare many samples with the same reference, build a
    :class:`MMDReference` once.

    Parameters
    ----------
    A : ndarray, shape (k, c)
    B : ndarray, shape (l, c)
    a, b : ndarray, optional
        Weights (uniform when omitted).
    gamma : float
        Kernel bandwidth parameter; 1 on standardised data as in the paper.

    Returns
    -------
    float
        ``MMD²`` ≥ 0 (rounding below zero is clipped).

    Examples
    --------
    >>> mmd([[0.0]], [[0.0]])
    0.0
    """
    return MMDReference.build(B, b, gamma=gamma).mmd(A, a)


def mmd_cells(q, p, *, gamma: float = 1.0) -> float:
    r"""Squared MMD between two (s, ŷ) histograms (MMD_P): :math:`(q - p)^\top K (q - p)`.

    ``K`` is the Gaussian kernel between the four cells (:data:`CELLS`).
    """
    q = _as_hist(q, "q")
    p = _as_hist(p, "p")
    K = np.exp(-gamma * _CELL_COST**2)
    diff = q - p
    return float(max(diff @ K @ diff, 0.0))


# ----------------------------------------------------------------------------- KS
def ks_by_group(sample_rows, ref_rows, *, method: str = "auto") -> tuple[float, float]:
    """Two two-sample Kolmogorov–Smirnov tests of ŷ, one per group S = 0 and S = 1 (KS).

    For each group ``g``, ``scipy.stats.ks_2samp`` compares ŷ of the sample's rows with
    ``s = g`` to ŷ of the reference's rows with ``s = g``. For binary ŷ the statistic is
    the gap between the two positive rates. The battery passes KS if the smaller
    p-value exceeds 0.05.

    Parameters
    ----------
    sample_rows, ref_rows : ndarray, shape (k, d + 2)
    method : str
        Passed to ``ks_2samp`` (``"auto"``: exact for small inputs, else asymptotic).

    Returns
    -------
    statistic, p_value : float
        The smaller of the two p-values and the statistic of that test. If a group
        is absent from the sample its test is undefined: ``(nan, 0.0)`` (rejected).
    """
    sample = as_rows(sample_rows, "sample_rows", min_cols=2)
    ref = as_rows(ref_rows, "ref_rows", min_cols=2)
    _check_binary(sample, "sample_rows")
    _check_binary(ref, "ref_rows")
    best = (np.nan, np.inf)
    for g in (0.0, 1.0):
        ys = sample[sample[:, -2] == g, -1]
        yr = ref[ref[:, -2] == g, -1]
        if len(yr) == 0:
            raise ValueError(f"ref_rows has no row with s = {int(g)}: KS is undefined")
        if len(ys) == 0:
            return float("nan"), 0.0
        res = stats.ks_2samp(ys, yr, method=method)
        if res.pvalue < best[1]:
            best = (float(res.statistic), float(res.pvalue))
    return best


def ks_statistics(sample_rows, ref_rows) -> tuple[float, float]:
    """The two KS statistics of ŷ (groups S = 0 and S = 1), sample vs reference.

    For a 0/1 decision the two CDFs differ only at 0, so each statistic is the gap
    between the group's positive rates, ``|mean(ŷ_sample) - mean(ŷ_ref)|``. A group absent
    from the sample gets ``inf``.
    """
    sample = as_rows(sample_rows, "sample_rows", min_cols=2)
    ref = as_rows(ref_rows, "ref_rows", min_cols=2)
    _check_binary(sample, "sample_rows")
    _check_binary(ref, "ref_rows")
    out = []
    for g in (0.0, 1.0):
        ys = sample[sample[:, -2] == g, -1]
        yr = ref[ref[:, -2] == g, -1]
        if len(yr) == 0:
            raise ValueError(f"ref_rows has no row with s = {int(g)}: KS is undefined")
        out.append(float(abs(ys.mean() - yr.mean())) if len(ys) else float("inf"))
    return out[0], out[1]
