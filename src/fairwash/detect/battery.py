r"""The supervisory authority's battery of seven tests (paper, Section 4, eq. 3; Table 15).

An auditee submits ``m`` rows ``(x, s, ŷ)`` claimed to be drawn uniformly, without
replacement, from its full data ``P_n``. For each distance ``D`` the authority compares
``D(sample, P_n)`` with the distribution of ``D(P_m^{(j)}, P_n)`` over honest samples
``P_m^{(j)}`` of the same size (eq. 3), computed once per (data set, m) by
:func:`reference_thresholds` and cached as JSON; :func:`run_battery` then gives every
test's statistic, threshold, p-value and verdict.

Precomputations that depend only on the full data (its cell histogram, its distinct-row
index, its MMD self term, the Wasserstein estimator's reference) live in a
:class:`BatteryContext`, prepared once and passed to every call.

Tests (:data:`TESTS`)::

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
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import ot
import pandas as pd
from scipy import stats

from fairwash.catalogue import DISTANCE_TESTS, NO_MMD, TEST_SPECS, TESTS, check_tests
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
from fairwash.manipulate.base import check_random_state

__all__ = [
    "TESTS",
    "NO_MMD",
    "DISTANCE_TESTS",
    "WassersteinConfig",
    "BatteryContext",
    "ReferenceThresholds",
    "TestResult",
    "BatteryResult",
    "reference_draws",
    "thresholds_from_draws",
    "reference_thresholds",
    "run_battery",
    "check_thresholds",
    "context_for_thresholds",
    "code_mode_thresholds",
]

#: Relative tolerance when comparing a statistic with a threshold / a reference draw,
#: so that a statistic equal to a draw up to rounding (e.g. KL_A, constant when all
#: rows are distinct) counts as a tie, not an exceedance.
_TIE_RTOL = 1e-9

Rule = Literal["quantile", "mean_std"]


def _check_tests(tests: Iterable[str]) -> tuple[str, ...]:
    return check_tests(tests)


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
        tests = _check_tests(tests)
        rows = as_rows(sample, "sample", min_cols=2)
        if rows.shape[1] != self.full.shape[1]:
            raise ValueError(f"sample has {rows.shape[1]} columns, the full data has {self.full.shape[1]}")
        w = None if sample_weights is None else as_weights(sample_weights, len(rows), "sample_weights")
        q = cell_histogram(rows, w)
        out: dict[str, tuple[float, float]] = {}
        for t in tests:
            if t == "KS":
                if w is not None:
                    raise ValueError("KS is defined for unweighted samples only (sample_weights given)")
                if self.ks_calibration == "scipy":
                    out[t] = ks_by_group(rows, self.full, method=self.ks_method)
                else:
                    out[t] = (float(np.max(ks_statistics(rows, self.full))), np.nan)
            elif t == "KL_A":
                out[t] = (self.row_index.kl(rows, w, form=self.kl_form), np.nan)
            elif t == "KL_P":
                out[t] = (kl_cells(q, self.cells, form=self.kl_form), np.nan)
            elif t == "W_A":
                out[t] = (self._w_a(rows, w), np.nan)
            elif t == "W_P":
                out[t] = (wasserstein_cells(q, self.cells), np.nan)
            elif t == "MMD_A":
                out[t] = (self.mmd_reference.mmd(rows, w), np.nan)
            elif t == "MMD_P":
                out[t] = (mmd_cells(q, self.cells, gamma=self.gamma), np.nan)
        return out


# ----------------------------------------------------------------------------- thresholds
def _exceeds(stat: float, ref: float | np.ndarray) -> Any:
    """``stat > ref`` beyond rounding (``inf > inf`` is False, ``inf > x`` True)."""
    ref = np.asarray(ref, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        margin = _TIE_RTOL * np.maximum(np.abs(ref), 1e-300)
        return (stat > ref + np.where(np.isfinite(ref), margin, 0.0)) & ~(np.isinf(stat) & np.isinf(ref))


def _threshold(draws: np.ndarray, level: float, rule: Rule) -> float:
    n = len(draws)
    if rule == "quantile":
        k = int(np.ceil(level * (n + 1)))
        if k > n:
            raise ValueError(
                f"n_draws={n} is too small for level={level}: need at least "
                f"{int(np.ceil(level / (1 - level)))} draws"
            )
        return float(np.sort(draws)[k - 1])
    if rule == "mean_std":
        z = stats.norm.ppf(1 - (1 - level) / 2)
        return float(np.mean(draws) + z * np.std(draws))
    raise ValueError(f"rule must be 'quantile' or 'mean_std', got {rule!r}")


@dataclass(frozen=True)
class ReferenceThresholds:
    """Honest reference draws and the thresholds derived from them (eq. 3).

    Attributes
    ----------
    m, n : int
        Sample size and full-data size.
    level : float
        Confidence level (0.95).
    rule : {"quantile", "mean_std"}
        ``quantile``: the ``⌈level (N + 1)⌉``-th smallest of the ``N`` draws (so that
        "statistic > threshold" is exactly "Monte-Carlo p-value <= 1 - level");
        ``mean_std``: mean + z·std with z = 1.96 at level 0.95 (the authors' code).
    tests : tuple of str
        The tests the draws cover (KS needs none: it has its own p-value).
    draws : dict[str, ndarray]
        The ``N`` honest statistics per distance test.
    thresholds : dict[str, float]
    config : dict
        Statistic settings (:meth:`BatteryContext.config`) plus ``random_state``.
    fingerprint : str
        Hash of the full data the draws were computed on.
    precomputed : dict[str, float]
        Reusable quantities of the full data, so that later contexts skip their set-up:
        ``mmd_self_term``, the ``n x n`` kernel term of MMD_A (one scalar, ~3 s at
        n = 20 000; valid only for the same fingerprint and ``gamma``, both checked).
    """

    m: int
    n: int
    level: float
    rule: Rule
    tests: tuple[str, ...]
    draws: dict[str, np.ndarray]
    thresholds: dict[str, float]
    config: dict[str, Any]
    fingerprint: str
    precomputed: dict[str, float] = field(default_factory=dict)

    @property
    def n_draws(self) -> int:
        return len(next(iter(self.draws.values()))) if self.draws else 0

    def p_value(self, test: str, statistic: float) -> float:
        """Monte-Carlo p-value ``(1 + #{draws >= statistic}) / (N + 1)``."""
        d = self.draws[test]
        at_least = ~_exceeds(statistic, d)
        return float((1 + np.count_nonzero(at_least)) / (len(d) + 1))

    def rejects(self, test: str, statistic: float) -> bool:
        return bool(_exceeds(statistic, self.thresholds[test]))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``inf`` stays a float: ``json`` writes ``Infinity``)."""
        return {
            "m": self.m,
            "n": self.n,
            "level": self.level,
            "rule": self.rule,
            "tests": list(self.tests),
            "draws": {k: [float(x) for x in v] for k, v in self.draws.items()},
            "thresholds": dict(self.thresholds),
            "config": self.config,
            "fingerprint": self.fingerprint,
            "precomputed": {k: float(v) for k, v in self.precomputed.items()},
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ReferenceThresholds:
        return cls(
            m=int(d["m"]),
            n=int(d["n"]),
            level=float(d["level"]),
            rule=d["rule"],
            tests=tuple(d["tests"]),
            draws={k: np.asarray(v, dtype=np.float64) for k, v in d["draws"].items()},
            thresholds={k: float(v) for k, v in d["thresholds"].items()},
            config=dict(d["config"]),
            fingerprint=str(d["fingerprint"]),
            precomputed={k: float(v) for k, v in d.get("precomputed", {}).items()},
        )


def _draw_rng(random_state: int | np.random.Generator, i: int) -> np.random.Generator:
    if isinstance(random_state, np.random.Generator):
        return random_state
    return np.random.default_rng(np.random.SeedSequence(int(random_state), spawn_key=(i,)))


def reference_draws(
    context: BatteryContext,
    m: int,
    *,
    tests: Sequence[str] = TESTS,
    n_draws: int = 100,
    random_state: int | np.random.Generator,
    start: int = 0,
) -> dict[str, np.ndarray]:
    """Distance statistics of ``n_draws`` honest samples (eq. 3).

    Each honest sample is ``m`` rows drawn uniformly **without replacement** from the
    full data. With an int ``random_state``, draw ``i`` uses its own stream
    ``SeedSequence(random_state, spawn_key=(i,))``: draws ``start .. start+n_draws-1``
    are the same whether computed in one call or in shards (``start``), so the
    expensive W_A draws can be spread over jobs and concatenated.

    Returns
    -------
    dict[str, ndarray of shape (n_draws,)]
        One entry per calibrated test in ``tests`` (KS only with
        ``ks_calibration="reference"``).
    """
    tests = _check_tests(tests)
    dist_tests = context.calibrated(tests)
    if not (isinstance(m, int | np.integer) and 1 <= m <= context.n):
        raise ValueError(f"m must be an int in [1, n={context.n}], got {m!r}")
    if n_draws < 1:
        raise ValueError(f"n_draws must be positive, got {n_draws}")
    if not isinstance(random_state, np.random.Generator):
        check_random_state(random_state)  # type check only
        if random_state is None:
            raise ValueError("random_state is required (an int or a numpy Generator)")
    out = {t: np.empty(n_draws) for t in dist_tests}
    for j in range(n_draws):
        rng = _draw_rng(random_state, start + j)
        idx = rng.choice(context.n, size=int(m), replace=False)
        stats_j = context.statistics(context.full[idx], dist_tests)
        for t in dist_tests:
            out[t][j] = stats_j[t][0]
    return out


def thresholds_from_draws(
    context: BatteryContext,
    m: int,
    draws: dict[str, np.ndarray],
    *,
    tests: Sequence[str] = TESTS,
    level: float = 0.95,
    rule: Rule = "quantile",
    random_state: Any = None,
) -> ReferenceThresholds:
    """Assemble :class:`ReferenceThresholds` from (possibly concatenated) draws."""
    tests = _check_tests(tests)
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    calibrated = context.calibrated(tests)
    missing = [t for t in calibrated if t not in draws]
    if missing:
        raise ValueError(f"draws lack the test(s) {missing}")
    draws = {t: np.asarray(draws[t], dtype=np.float64) for t in calibrated}
    if len({len(v) for v in draws.values()}) > 1:
        raise ValueError("draws have different lengths across tests")
    thresholds = {t: _threshold(v, level, rule) for t, v in draws.items()}
    config = context.config() | {
        "random_state": random_state if isinstance(random_state, int | None) else "generator"
    }
    return ReferenceThresholds(
        m=int(m),
        n=context.n,
        level=float(level),
        rule=rule,
        tests=tests,
        draws=draws,
        thresholds=thresholds,
        config=config,
        fingerprint=context.fingerprint,
        precomputed=context.precomputed(),
    )


def reference_thresholds(
    full,
    m: int,
    *,
    tests: Sequence[str] = TESTS,
    n_draws: int = 100,
    level: float = 0.95,
    rule: Rule = "quantile",
    random_state: int | np.random.Generator,
    context: BatteryContext | None = None,
) -> ReferenceThresholds:
    r"""Reference thresholds of the distance tests for samples of size ``m`` (eq. 3).

    For each distance test ``D``, the statistics :math:`D(P_m^{(j)}, P_n)` of
    ``n_draws`` independent honest samples (uniform, without replacement) are kept, and
    the threshold is their empirical ``level`` quantile (``rule="quantile"``, ours) or
    mean + 1.96·std (``rule="mean_std"``, the authors' code with 30 draws).

    Parameters
    ----------
    full : ndarray, shape (n, d + 2)
        The full data ``(x, s, ŷ)``; ignored when ``context`` is given.
    m : int
        Sample size.
    tests : sequence of str
        Subset of :data:`TESTS`.
    n_draws : int
        Honest draws; with ``rule="quantile"`` at least ``level / (1 - level)`` (19).
    level : float
    rule : {"quantile", "mean_std"}
    random_state : int or numpy Generator
    context : BatteryContext, optional
        Reuse an existing context (its settings define the statistics).

    Returns
    -------
    ReferenceThresholds
    """
    ctx = context if context is not None else BatteryContext.prepare(full)
    draws = reference_draws(ctx, m, tests=tests, n_draws=n_draws, random_state=random_state)
    return thresholds_from_draws(
        ctx, m, draws, tests=tests, level=level, rule=rule, random_state=random_state
    )


# ----------------------------------------------------------------------------- verdicts
@dataclass(frozen=True)
class TestResult:
    """One test's outcome: statistic, threshold (nan for KS), p-value, verdict."""

    __test__ = False  # not a pytest class

    name: str
    statistic: float
    threshold: float
    p_value: float
    rejected: bool


@dataclass(frozen=True)
class BatteryResult:
    """The battery's outcome for one sample; ``passed`` only if no test rejects."""

    results: tuple[TestResult, ...]
    m: int

    @property
    def passed(self) -> bool:
        return not any(r.rejected for r in self.results)

    @property
    def rejected_by(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.results if r.rejected)

    def __getitem__(self, name: str) -> TestResult:
        for r in self.results:
            if r.name == name:
                return r
        raise KeyError(name)

    def to_frame(self) -> pd.DataFrame:
        """One row per test: test, statistic, threshold, p_value, rejected."""
        df = pd.DataFrame([asdict(r) for r in self.results])
        return df.rename(columns={"name": "test"})

    def to_dict(self) -> dict[str, Any]:
        return {"m": self.m, "passed": self.passed, "results": [asdict(r) for r in self.results]}


def run_battery(
    full,
    sample,
    thresholds: ReferenceThresholds,
    *,
    tests: Sequence[str] = TESTS,
    sample_weights=None,
    context: BatteryContext | None = None,
) -> BatteryResult:
    """Run the battery on one submitted sample.

    Parameters
    ----------
    full : ndarray, shape (n, d + 2)
        The full data; ignored when ``context`` is given (pass ``None`` then).
    sample : ndarray, shape (m, d + 2)
        The submitted rows ``(x, s, ŷ)``.
    thresholds : ReferenceThresholds
        From :func:`reference_thresholds` on the same full data, size and settings.
    tests : sequence of str
        Subset of :data:`TESTS` (e.g. :data:`NO_MMD` for Table 15).
    sample_weights : ndarray, shape (m,), optional
        Weights of the sample's rows (not allowed with KS).
    context : BatteryContext, optional
        Precomputations on the full data, reused across calls.

    Returns
    -------
    BatteryResult
        Per test: KS rejects if its smaller p-value <= 1 - level; a distance test
        rejects if its statistic exceeds the threshold (its p-value is the Monte-Carlo
        one from the reference draws).

    Raises
    ------
    ValueError
        If the thresholds were computed on other data, for another sample size, with
        other statistic settings, or do not cover a requested test.
    """
    tests = _check_tests(tests)
    ctx = context if context is not None else context_for_thresholds(full, thresholds)
    check_thresholds(ctx, thresholds, tests)
    rows = as_rows(sample, "sample", min_cols=2)
    if len(rows) != thresholds.m:
        raise ValueError(f"sample has {len(rows)} rows but the thresholds are for m = {thresholds.m}")
    values = ctx.statistics(rows, tests, sample_weights)
    alpha = 1 - thresholds.level
    results = []
    for t in tests:
        stat, p = values[t]
        if t == "KS" and ctx.ks_calibration == "scipy":
            results.append(TestResult(t, stat, float("nan"), p, bool(p <= alpha)))
        else:
            thr = thresholds.thresholds[t]
            results.append(TestResult(t, stat, thr, thresholds.p_value(t, stat), thresholds.rejects(t, stat)))
    return BatteryResult(results=tuple(results), m=len(rows))


def context_for_thresholds(full, thresholds: ReferenceThresholds) -> BatteryContext:
    """A :class:`BatteryContext` on ``full`` with the statistic settings recorded in ``thresholds``.

    The set-up quantities stored with the thresholds (the MMD_A self term) are reused
    when ``full`` is the data they were computed on.
    """
    ctx = BatteryContext.prepare(full, **_context_kwargs(thresholds))
    if thresholds.fingerprint == ctx.fingerprint and thresholds.config.get("gamma", 1.0) == ctx.gamma:
        ctx.preload(thresholds.precomputed)
    return ctx


def check_thresholds(
    ctx: BatteryContext, thresholds: ReferenceThresholds, tests: Iterable[str], m: int | None = None
) -> None:
    """Refuse thresholds computed on other data, with other settings, for other tests or another m.

    Raises
    ------
    ValueError
        Naming what differs.
    """
    if thresholds.fingerprint != ctx.fingerprint:
        raise ValueError("thresholds were computed on other full data (fingerprint mismatch)")
    theirs = {k: v for k, v in thresholds.config.items() if k != "random_state"}
    if theirs != ctx.config():
        raise ValueError(f"thresholds settings {theirs} differ from the context's {ctx.config()}")
    missing = [t for t in ctx.calibrated(tuple(tests)) if t not in thresholds.draws]
    if missing:
        raise ValueError(f"thresholds do not cover the test(s) {missing}")
    if m is not None and thresholds.m != m:
        raise ValueError(f"thresholds are for m = {thresholds.m}, not m = {m}")


def _context_kwargs(thresholds: ReferenceThresholds) -> dict[str, Any]:
    """Rebuild the statistic settings recorded with ``thresholds``."""
    cfg = thresholds.config
    w = dict(cfg.get("w_a", {"method": "exact"}))
    return {
        "gamma": cfg.get("gamma", 1.0),
        "kl_form": cfg.get("kl_form", "sample_ref"),
        "w_config": WassersteinConfig(**w),
        "ks_method": cfg.get("ks_method", "auto"),
        "ks_calibration": cfg.get("ks_calibration", "scipy"),
    }


def code_mode_thresholds(full, reference: ReferenceThresholds, *, n_draws: int = 30) -> dict[str, float]:
    r"""The thresholds the authors' code would set, from the first draws of ``reference``.

    The authors' code (``dic_threshold.json``) uses mean + 1.96 std over 30 honest draws
    and its own KL form (:func:`fairwash.detect.distances.kl_discrete`, ``form="authors"``).
    Draw ``i`` of ``reference`` is a fixed sample (its own seed stream), so the first
    ``n_draws`` samples are regenerated exactly: the W and MMD statistics are read from
    the stored draws, the KL statistics recomputed on the same samples in the authors'
    form. Nothing here solves a transport problem.

    Parameters
    ----------
    full : ndarray, shape (n, d + 2)
        The full data ``reference`` was computed on (fingerprint checked).
    reference : ReferenceThresholds
        Computed with an int ``random_state`` and at least ``n_draws`` draws.
    n_draws : int
        The code's 30 by default.

    Returns
    -------
    dict[str, float]
        Test -> threshold, for every calibrated test of ``reference``.
    """
    seed = reference.config.get("random_state")
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ValueError(f"reference needs an int random_state to regenerate its draws, got {seed!r}")
    if not 2 <= n_draws <= reference.n_draws:
        raise ValueError(f"n_draws must be in [2, {reference.n_draws}] (the reference's), got {n_draws}")
    ctx = BatteryContext.prepare(full, **(_context_kwargs(reference) | {"kl_form": "authors"}))
    if ctx.fingerprint != reference.fingerprint:
        raise ValueError("reference was computed on other full data (fingerprint mismatch)")
    draws = {t: np.asarray(v[:n_draws]) for t, v in reference.draws.items()}
    kl_tests = [t for t in draws if TEST_SPECS[t].distance == "KL"]
    if kl_tests and reference.config.get("kl_form") != "authors":
        draws |= reference_draws(ctx, reference.m, tests=kl_tests, n_draws=n_draws, random_state=seed)
    return {t: _threshold(v, reference.level, "mean_std") for t, v in draws.items()}

