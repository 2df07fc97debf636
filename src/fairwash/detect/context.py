r"""The full data's side of the battery: its statistics' settings and precomputations.

A :class:`BatteryContext` holds everything about the full data ``P_n`` that the seven
statistics reuse across samples (paper, Section 4): its (s, ŷ) cell histogram, its
distinct-row index (KL_A), its MMD self term (MMD_A), the Wasserstein estimator's
reference (W_A, :class:`WassersteinConfig`). :meth:`BatteryContext.statistics` gives each
test's statistic for a sample; the thresholds they are compared with live in
:mod:`fairwash.detect.thresholds`, the verdicts in :mod:`fairwash.detect.battery`.

Tests (:data:`fairwash.catalogue.TESTS`)::

    KS      ŷ | S=0 and ŷ | S=1, two-sample KS, rejected if min p-value <= 1 - level
    KL_A    discrete KL on exact rows (x, s, ŷ)         +inf for a row not in the data
    KL_P    the same on the four (s, ŷ) cells
    W_A     Wasserstein-1, Euclidean cost, on (x, s, ŷ)
    W_P     the same on the four cells
    MMD_A   squared MMD, Gaussian kernel exp(-γ‖a-b‖²), on (x, s, ŷ)
    MMD_P   the same on the four cells
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from fairwash._pot import ot
from fairwash.catalogue import DISTANCE_TESTS, TESTS, check_tests
from fairwash.detect.distances import (
    MMDReference,
    RowIndex,
    as_rows,
    as_weights,
    cell_histogram,
    kl_cells,
    ks_by_group,
    ks_statistics,
    mmd_cells,
    wasserstein,
    wasserstein_cells,
)
from fairwash.detect.membership import MembershipIndex

__all__ = ["WassersteinConfig", "BatteryContext", "STATISTICS"]


def _fingerprint(full: np.ndarray) -> str:
    h = hashlib.sha256()
    h.update(str(full.shape).encode())
    h.update(full.tobytes())
    return h.hexdigest()[:16]


@dataclass(frozen=True)
class WassersteinConfig:
    """How W_A is computed. The default is the exact distance; the others are faster
    estimators that must be used for the thresholds *and* the samples alike (the
    context and the thresholds record the config and :func:`run_battery` refuses a
    mismatch).

    Parameters
    ----------
    method : {"exact", "subref", "sliced"}
        ``exact``: exact OT between the sample and the full data.
        ``subref``: exact OT between the sample and a fixed uniform subsample of the
        full data, of size ``subref_size``, drawn once with ``seed``.
        ``sliced``: sliced Wasserstein-1 (POT ``sliced_wasserstein_distance``, p = 1) with
        ``n_projections`` directions drawn with ``seed`` (the same for every sample).
    num_itermax : int
        Simplex iteration cap of the exact solver (it raises if reached).
    """

    method: Literal["exact", "subref", "sliced"] = "exact"
    subref_size: int = 5_000
    n_projections: int = 500
    seed: int = 0
    num_itermax: int = 10_000_000

    def __post_init__(self) -> None:
        if self.method not in ("exact", "subref", "sliced"):
            raise ValueError(f"WassersteinConfig.method must be exact/subref/sliced, got {self.method!r}")
        if self.subref_size < 1 or self.n_projections < 1 or self.num_itermax < 1:
            raise ValueError("subref_size, n_projections and num_itermax must be positive")

    def key(self) -> dict[str, Any]:
        """The fields that change the statistic's value (compared by :func:`run_battery`)."""
        if self.method == "exact":
            return {"method": "exact"}
        if self.method == "subref":
            return {"method": "subref", "subref_size": self.subref_size, "seed": self.seed}
        return {"method": "sliced", "n_projections": self.n_projections, "seed": self.seed}


@dataclass
class BatteryContext:
    """Everything about the full data the battery reuses across samples.

    Build it with :meth:`prepare`; the expensive parts (distinct-row index for KL_A,
    MMD self term for MMD_A, W_A reference) are computed lazily, once, on first use.

    Attributes
    ----------
    full : ndarray, shape (n, d + 2)
        The full data ``(x, s, ŷ)`` (float64).
    cells : ndarray, shape (4,)
        Its (s, ŷ) cell histogram.
    gamma : float
        MMD kernel parameter.
    kl_form : {"sample_ref", "authors"}
        KL estimator (see :func:`fairwash.detect.distances.kl_discrete`).
    w_config : WassersteinConfig
    ks_method : str
        ``scipy.stats.ks_2samp`` method.
    ks_calibration : {"scipy", "reference"}
        ``scipy`` (the paper): KS rejects if the smaller of the two SciPy p-values is
        <= 1 - level. ``reference``: the statistic is the larger of the two KS
        statistics, calibrated by the honest draws like the distance tests (a test of
        exact level; SciPy's p-values are very conservative for a binary ŷ).
    fingerprint : str
        A hash of ``full``, stored with the thresholds to refuse reuse on other data.
    """

    full: np.ndarray
    cells: np.ndarray
    gamma: float = 1.0
    kl_form: Literal["sample_ref", "authors"] = "sample_ref"
    w_config: WassersteinConfig = field(default_factory=WassersteinConfig)
    ks_method: str = "auto"
    ks_calibration: Literal["scipy", "reference"] = "scipy"
    fingerprint: str = ""
    _row_index: RowIndex | None = field(default=None, repr=False)
    _mmd_ref: MMDReference | None = field(default=None, repr=False)
    _w_ref: np.ndarray | None = field(default=None, repr=False)
    _w_dirs: np.ndarray | None = field(default=None, repr=False)
    _membership: MembershipIndex | None = field(default=None, repr=False)

    @classmethod
    def prepare(
        cls,
        full,
        *,
        gamma: float = 1.0,
        kl_form: Literal["sample_ref", "authors"] = "sample_ref",
        w_config: WassersteinConfig | None = None,
        ks_method: str = "auto",
        ks_calibration: Literal["scipy", "reference"] = "scipy",
    ) -> BatteryContext:
        """Validate the full data and set up the reusable precomputations.

        Parameters
        ----------
        full : ndarray, shape (n, d + 2)
            Rows ``(x, s, ŷ)``; s and ŷ must be 0/1 and both groups present.
        """
        arr = as_rows(full, "full", min_cols=2)
        cells = cell_histogram(arr)
        for g in (0, 1):
            if cells[2 * g] + cells[2 * g + 1] == 0:
                raise ValueError(f"full has no row with s = {g}")
        if kl_form not in ("sample_ref", "authors"):
            raise ValueError(f"kl_form must be 'sample_ref' or 'authors', got {kl_form!r}")
        if not (np.isfinite(gamma) and gamma > 0):
            raise ValueError(f"gamma must be a positive number, got {gamma!r}")
        if ks_calibration not in ("scipy", "reference"):
            raise ValueError(f"ks_calibration must be 'scipy' or 'reference', got {ks_calibration!r}")
        return cls(
            full=arr,
            cells=cells,
            gamma=float(gamma),
            kl_form=kl_form,
            w_config=w_config or WassersteinConfig(),
            ks_method=ks_method,
            ks_calibration=ks_calibration,
            fingerprint=_fingerprint(arr),
        )

    @property
    def n(self) -> int:
        return len(self.full)

    def config(self) -> dict[str, Any]:
        """The settings that define the statistics (stored with the thresholds)."""
        return {
            "gamma": self.gamma,
            "kl_form": self.kl_form,
            "w_a": self.w_config.key(),
            "ks_method": self.ks_method,
            "ks_calibration": self.ks_calibration,
        }

    def calibrated(self, tests: Sequence[str]) -> list[str]:
        """The tests of ``tests`` whose threshold comes from honest reference draws."""
        return [t for t in tests if t in DISTANCE_TESTS or (t == "KS" and self.ks_calibration == "reference")]

    def precomputed(self) -> dict[str, float]:
        """The set-up quantities already computed, to store with thresholds."""
        return {} if self._mmd_ref is None else {"mmd_self_term": self._mmd_ref.self_term}

    def preload(self, precomputed: dict[str, float]) -> None:
        """Reuse set-up quantities stored by :meth:`precomputed` for the same full data.

        The caller must have checked that they come from this full data and ``gamma``
        (:func:`check_thresholds` does).
        """
        if "mmd_self_term" in precomputed and self._mmd_ref is None:
            self._mmd_ref = MMDReference.build(
                self.full, gamma=self.gamma, self_term=float(precomputed["mmd_self_term"])
            )

    # -- lazily built references ------------------------------------------------------
    @property
    def row_index(self) -> RowIndex:
        if self._row_index is None:
            self._row_index = RowIndex.build(self.full)
        return self._row_index

    @property
    def membership_index(self) -> MembershipIndex:
        """The full data's rows sorted once for the optimal protocol's membership check."""
        if self._membership is None:
            self._membership = MembershipIndex.build(self.full)
        return self._membership

    @property
    def mmd_reference(self) -> MMDReference:
        if self._mmd_ref is None:
            self._mmd_ref = MMDReference.build(self.full, gamma=self.gamma)
        return self._mmd_ref

    def _w_reference(self) -> np.ndarray:
        if self._w_ref is None:
            cfg = self.w_config
            if cfg.method == "subref" and cfg.subref_size < self.n:
                idx = np.random.default_rng(cfg.seed).choice(self.n, cfg.subref_size, replace=False)
                self._w_ref = self.full[np.sort(idx)]
            else:
                self._w_ref = self.full
        return self._w_ref

    def _w_a(self, rows: np.ndarray, w: np.ndarray | None) -> float:
        cfg = self.w_config
        if cfg.method == "sliced":
            if self._w_dirs is None:
                self._w_dirs = ot.sliced.get_random_projections(
                    self.full.shape[1], cfg.n_projections, seed=cfg.seed
                )
            a = as_weights(w, len(rows), "sample_weights")
            return float(
                ot.sliced_wasserstein_distance(rows, self.full, a, None, projections=self._w_dirs, p=1)
            )
        return wasserstein(rows, self._w_reference(), w, None, num_itermax=cfg.num_itermax)

    # -- statistics ---------------------------------------------------------------------
    def statistics(
        self, sample, tests: Sequence[str] = TESTS, sample_weights=None
    ) -> dict[str, tuple[float, float]]:
        """Statistic of each test for ``sample``: ``{test: (statistic, ks_p_value)}``.

        The second entry is the SciPy KS p-value for ``"KS"`` (``ks_calibration="scipy"``)
        and ``nan`` otherwise.
        """
        tests = check_tests(tests)
        rows = as_rows(sample, "sample", min_cols=2)
        if rows.shape[1] != self.full.shape[1]:
            raise ValueError(f"sample has {rows.shape[1]} columns, the full data has {self.full.shape[1]}")
        w = None if sample_weights is None else as_weights(sample_weights, len(rows), "sample_weights")
        q = cell_histogram(rows, w)
        if w is not None and "KS" in tests:
            raise ValueError("KS is defined for unweighted samples only (sample_weights given)")
        return {t: STATISTICS[t](self, rows, w, q) for t in tests}


# ----------------------------------------------------------------------------- statistics
# One function per test of the catalogue: (context, sample rows, weights or None, the sample's
# four cell masses) -> (statistic, SciPy p-value or nan). A new test registers its function here.
Statistic = Callable[[BatteryContext, np.ndarray, "np.ndarray | None", np.ndarray], tuple[float, float]]


def _ks(ctx: BatteryContext, rows: np.ndarray, w: np.ndarray | None, q: np.ndarray) -> tuple[float, float]:
    if ctx.ks_calibration == "scipy":
        return ks_by_group(rows, ctx.full, method=ctx.ks_method)
    return float(np.max(ks_statistics(rows, ctx.full))), np.nan


STATISTICS: dict[str, Statistic] = {
    "KS": _ks,
    "KL_A": lambda ctx, rows, w, q: (ctx.row_index.kl(rows, w, form=ctx.kl_form), np.nan),
    "KL_P": lambda ctx, rows, w, q: (kl_cells(q, ctx.cells, form=ctx.kl_form), np.nan),
    "W_A": lambda ctx, rows, w, q: (ctx._w_a(rows, w), np.nan),
    "W_P": lambda ctx, rows, w, q: (wasserstein_cells(q, ctx.cells), np.nan),
    "MMD_A": lambda ctx, rows, w, q: (ctx.mmd_reference.mmd(rows, w), np.nan),
    "MMD_P": lambda ctx, rows, w, q: (mmd_cells(q, ctx.cells, gamma=ctx.gamma), np.nan),
}
