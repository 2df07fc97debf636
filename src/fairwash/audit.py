r"""The paper's audit protocol: detection rates, fairest undetected DI, sample-size study.

Section 7 (Tables 2, 3), Appendix 0.J (Fig. 8), 0.M (Table 15), 0.N.

* :func:`detection` (Table 2): repeated samples of size ``m`` from a manipulated
  distribution ``Q``, each run through the battery; a method *evades* a test at size
  ``m`` if some sample has DI > 0.8 and passes it (:func:`detection_summary`).
* :func:`fairest_undetected` (Table 3, and Table 15 with ``tests=NO_MMD``): from a start
  level down by ``step`` to the original DI, build ``Q`` for target level + 0.001, draw
  samples, keep those with DI > level that pass every test, report the highest DI among
  them (capped at 1) at the first level where one exists.
* :func:`sample_size_study` / :func:`smallest_safe_fraction` (Fig. 8): the same search
  over sample fractions, and the smallest fraction that leaves no room to reach 0.8.

Conventions: a sample's DI is ``P(ŷ=1|S=0) / P(ŷ=1|S=1)`` on its rows; it is *undefined*
(``nan``) when a group is absent or S=1 has no positive (DI = ∞ is never a pass). Every
random draw has its own stream ``SeedSequence(random_state, spawn_key=key + (j,))``, so the
samples of one (size, level) do not depend on which other levels were visited.

Speed-ups that never change the answer (tested against the plain search):

* DI first: the battery only runs on samples with DI > level;
* short circuit: tests run cheapest first (:data:`COST_ORDER`) and stop at the first
  rejection; statistics are cached per sample, so the 7-test and 5-test searches share
  them (exact W_A only for samples that pass every cheap test);
* greedy methods (Replace, Matching): one run, every lower level is a trajectory prefix;
* a *cell cap*: KL_P, W_P and MMD_P depend on the sample only through its four (s, ŷ)
  counts, like its DI. :func:`cell_di_cap` enumerates the count vectors of size ``m`` the
  cell tests cannot reject and returns their largest DI; a level at or above it cannot
  yield a passing sample, whatever ``Q``, so it is skipped without running the method.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import kl_div

from fairwash.catalogue import CELL_TESTS, COMPLIANCE_THRESHOLD, COST_ORDER, TESTS, sample_size
from fairwash.data.base import AuditData
from fairwash.detect.battery import (
    BatteryContext,
    ReferenceThresholds,
    check_thresholds,
    context_for_thresholds,
    run_battery,
)
from fairwash.detect.distances import CELLS
from fairwash.fairness import disparate_impact
from fairwash.manipulate import METHODS, Manipulation, apply_prefix, run_method
from fairwash.progress import progress_bar
from fairwash.resume import Checkpoint

__all__ = [
    "COST_ORDER",
    "CELL_TESTS",
    "sample_di",
    "draw_samples",
    "detection",
    "detection_summary",
    "cell_di_cap",
    "ManipulationLevels",
    "FairestResult",
    "fairest_undetected",
    "fairest_undetected_sets",
    "sample_size_study",
    "SafeFraction",
    "smallest_safe_fraction",
]

#: Relative safety margin of the cell cap: a count vector is discarded only if its
#: vectorised statistic exceeds the threshold by this much (far above rounding error).
_CAP_RTOL = 1e-6
#: Largest number of count vectors the cell cap enumerates (else: no cap).
_CAP_MAX = 20_000_000


# ----------------------------------------------------------------------------- helpers
def _stream(random_state: int | np.random.Generator, key: tuple[int, ...]) -> np.random.Generator:
    if isinstance(random_state, np.random.Generator):
        return random_state
    if not isinstance(random_state, int | np.integer) or isinstance(random_state, bool):
        raise TypeError(f"random_state must be an int or a numpy Generator, got {random_state!r}")
    seq = np.random.SeedSequence(int(random_state), spawn_key=tuple(int(k) for k in key))
    return np.random.default_rng(seq)


def _level_key(level: float) -> int:
    return int(round(level * 10_000))


def _check_m(m: Any, k: int, what: str) -> int:
    if not isinstance(m, int | np.integer) or isinstance(m, bool) or not 1 <= m <= k:
        raise ValueError(f"m must be an int in [1, {k}] ({what}), got {m!r}")
    return int(m)


# ----------------------------------------------------------------------------- samples
def sample_di(S: np.ndarray, Y_hat: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """DI of each sample (rows of ``idx``), ``nan`` where undefined (eq. 1, unbounded).

    Parameters
    ----------
    S, Y_hat : ndarray of 0/1, shape (k,)
        Support points' group and decision.
    idx : ndarray of int, shape (n_samples, m)
        Positions of each sample's rows.

    Returns
    -------
    ndarray, shape (n_samples,)
        ``(a_0 / n_0) / (a_1 / n_1)``; ``nan`` when a group is empty or ``a_1 = 0``
        (DI = ∞ or 0/0: never a compliant sample).
    """
    idx = np.atleast_2d(np.asarray(idx))
    s = np.asarray(S)[idx].astype(bool)
    y = np.asarray(Y_hat)[idx].astype(bool)
    n1 = s.sum(axis=1)
    n0 = idx.shape[1] - n1
    a1 = (s & y).sum(axis=1)
    a0 = (~s & y).sum(axis=1)
    return _di_counts(n0, a0, n1, a1)


def _di_counts(n0, a0, n1, a1) -> np.ndarray:
    """DI from group sizes and positives (the same float operations for samples and cells)."""
    n0, a0, n1, a1 = (np.asarray(v, dtype=np.float64) for v in (n0, a0, n1, a1))
    with np.errstate(divide="ignore", invalid="ignore"):
        di = (a0 / n0) / (a1 / n1)
    return np.where((n0 > 0) & (n1 > 0) & (a1 > 0), di, np.nan)


def draw_samples(
    manipulation: Manipulation,
    m: int,
    n_samples: int,
    random_state: int | np.random.Generator,
    *,
    key: Sequence[int] = (),
) -> np.ndarray:
    """Positions of ``n_samples`` audit samples of size ``m`` drawn from ``Q``.

    Each sample is ``m`` support points drawn without replacement with ``Q``'s
    probabilities (:meth:`Manipulation.sample_indices`). With an int ``random_state``,
    sample ``j`` uses the stream ``SeedSequence(random_state, spawn_key=(*key, j))``.

    Returns
    -------
    ndarray of int64, shape (n_samples, m)
    """
    m = _check_m(m, manipulation.k, f"{manipulation.method} has {manipulation.k} support points")
    if not isinstance(n_samples, int | np.integer) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive int, got {n_samples!r}")
    out = np.empty((int(n_samples), m), dtype=np.int64)
    for j in range(int(n_samples)):
        out[j] = manipulation.sample_indices(m, _stream(random_state, (*key, j)))
    return out


# ----------------------------------------------------------------------------- lazy battery
@dataclass
class _Counters:
    samples: int = 0
    tests: dict[str, int] = field(default_factory=dict)

    def add(self, test: str) -> None:
        self.tests[test] = self.tests.get(test, 0) + 1


class _LazyBattery:
    """One sample's battery: statistics computed on demand, cheapest first, cached."""

    def __init__(self, ctx: BatteryContext, thresholds: ReferenceThresholds, rows: np.ndarray,
                 counters: _Counters) -> None:
        self.ctx, self.thr, self.rows, self.counters = ctx, thresholds, rows, counters
        self.rejected: dict[str, bool] = {}
        counters.samples += 1

    def rejects(self, test: str) -> bool:
        if test not in self.rejected:
            stat, p = self.ctx.statistics(self.rows, (test,))[test]
            self.counters.add(test)
            if test == "KS" and self.ctx.ks_calibration == "scipy":
                self.rejected[test] = bool(p <= 1 - self.thr.level)
            else:
                self.rejected[test] = self.thr.rejects(test, stat)
        return self.rejected[test]

    def passes(self, tests: Sequence[str]) -> bool:
        """True if no test of ``tests`` rejects (stops at the first rejection)."""
        return not any(self.rejects(t) for t in sorted(tests, key=COST_ORDER.index))


# ----------------------------------------------------------------------------- Table 2
def detection(
    full_rows,
    manipulation: Manipulation,
    m: int,
    thresholds: ReferenceThresholds,
    *,
    n_samples: int,
    tests: Sequence[str] = TESTS,
    target: float = COMPLIANCE_THRESHOLD,
    random_state: int | np.random.Generator,
    context: BatteryContext | None = None,
) -> pd.DataFrame:
    """Run the battery on repeated samples of size ``m`` from ``Q`` (Table 2).

    Parameters
    ----------
    full_rows : ndarray, shape (n, d + 2)
        The original data ``(x, s, ŷ)``; ignored when ``context`` is given.
    manipulation : Manipulation
        ``Q``.
    m : int
    thresholds : ReferenceThresholds
        For ``m`` on ``full_rows``.
    n_samples : int
    tests : sequence of str
    target : float
        Compliance threshold (a sample is *compliant* if its DI > target).
    random_state : int or Generator
    context : BatteryContext, optional

    Returns
    -------
    DataFrame
        One row per sample: ``sample``, ``di`` (nan if undefined), ``compliant``, and per
        test ``{t}_stat``, ``{t}_p``, ``{t}_rejected``; ``passed`` (no test rejects).
    """
    ctx = context if context is not None else context_for_thresholds(full_rows, thresholds)
    tests = tuple(tests)
    check_thresholds(ctx, thresholds, tests, m)
    idx = draw_samples(manipulation, m, n_samples, random_state, key=(int(m),))
    dis = sample_di(manipulation.S, manipulation.Y_hat, idx)
    rows = manipulation.joint()
    records = []
    for j in range(len(idx)):
        res = run_battery(None, rows[idx[j]], thresholds, tests=tests, context=ctx)
        rec: dict[str, Any] = {"sample": j, "di": float(dis[j]),
                               "compliant": bool(np.isfinite(dis[j]) and dis[j] > target)}
        for r in res.results:
            rec[f"{r.name}_stat"] = r.statistic
            rec[f"{r.name}_p"] = r.p_value
            rec[f"{r.name}_rejected"] = r.rejected
        rec["passed"] = res.passed
        records.append(rec)
    return pd.DataFrame(records)


def detection_summary(frame: pd.DataFrame, tests: Sequence[str] = TESTS) -> dict[str, Any]:
    """Rejection rates and evasion of one (method, m) from :func:`detection`'s frame.

    Returns
    -------
    dict
        ``n_samples``, ``n_undefined`` (DI undefined), ``n_compliant`` (DI > target);
        ``rejection_rate[t]`` over all samples; ``compliant_pass_rate[t]``: share of the
        compliant samples passing ``t`` (nan if none); ``compliant_pass_all``: share passing
        every test; ``evades[t]``: some compliant sample passes ``t``; ``evades_all``: some
        compliant sample passes every test (the paper's "undetected at size m").
    """
    tests = tuple(tests)
    comp = frame["compliant"].to_numpy(bool)
    n_comp = int(comp.sum())
    out: dict[str, Any] = {
        "n_samples": len(frame),
        "n_undefined": int(frame["di"].isna().sum()),
        "n_compliant": n_comp,
        "di_mean": float(frame["di"].mean()) if len(frame) else math.nan,
        "rejection_rate": {}, "compliant_pass_rate": {}, "evades": {},
    }
    for t in tests:
        rej = frame[f"{t}_rejected"].to_numpy(bool)
        out["rejection_rate"][t] = float(rej.mean()) if len(frame) else math.nan
        out["compliant_pass_rate"][t] = float((~rej[comp]).mean()) if n_comp else math.nan
        out["evades"][t] = bool((~rej & comp).any())
    passed = frame["passed"].to_numpy(bool)
    out["pass_rate"] = float(passed.mean()) if len(frame) else math.nan
    out["compliant_pass_all"] = float(passed[comp].mean()) if n_comp else math.nan
    out["evades_all"] = bool((passed & comp).any())
    return out


# ----------------------------------------------------------------------------- cell cap
def cell_di_cap(context: BatteryContext, thresholds: ReferenceThresholds, m: int,
                tests: Sequence[str] = TESTS) -> float:
    """Largest DI of a size-``m`` sample that the cell tests of ``tests`` may accept.

    A sample's KL_P, W_P, MMD_P and DI depend only on its (s, ŷ) counts ``c``. Every
    count vector with ``TV(c/m, p) <= thr(W_P)`` (a valid bound since W_P ≥ TV on the four
    cells, all at distance ≥ 1 from each other) is enumerated; those whose KL_P or MMD_P
    exceeds its threshold by more than a relative 1e-6 are dropped (W_P itself is only
    bounded, KS is ignored: both only make the cap larger, never wrong).

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
    tol = thresholds.thresholds["W_P"] * (1 + _CAP_RTOL) + 1e-12
    lo = np.maximum(np.ceil(m * (p - tol) - 1e-9), 0).astype(int)
    hi = np.minimum(np.floor(m * (p + tol) + 1e-9), m).astype(int)
    if (hi < lo).any():
        return -math.inf
    sizes = hi[1:] - lo[1:] + 1
    if int(np.prod(sizes)) > _CAP_MAX:
        return math.inf
    c01, c10, c11 = np.meshgrid(*(np.arange(lo[k], hi[k] + 1) for k in (1, 2, 3)), indexing="ij")
    c01, c10, c11 = c01.ravel(), c10.ravel(), c11.ravel()
    c00 = m - c01 - c10 - c11
    c = np.column_stack([c00, c01, c10, c11]).astype(np.float64)
    keep = (c00 >= 0) & (0.5 * np.abs(c / m - p).sum(axis=1) <= tol)
    q = c / m
    if "KL_P" in tests:
        keep &= ~(_kl_cells_vec(q, p, context.kl_form) > _loose(thresholds.thresholds["KL_P"]))
    if "MMD_P" in tests:
        K = np.exp(-context.gamma * ((CELLS[:, None, :] - CELLS[None, :, :]) ** 2).sum(-1))
        diff = q - p
        mmd = np.maximum(np.einsum("ij,jk,ik->i", diff, K, diff), 0.0)
        keep &= ~(mmd > _loose(thresholds.thresholds["MMD_P"]))
    di = _di_counts(c00 + c01, c01, c10 + c11, c11)[keep]
    di = di[np.isfinite(di)]
    return float(di.max()) if di.size else -math.inf


def _loose(threshold: float) -> float:
    return threshold * (1 + _CAP_RTOL) + 1e-12 if np.isfinite(threshold) else threshold


def _kl_cells_vec(q: np.ndarray, p: np.ndarray, form: str) -> np.ndarray:
    """:func:`fairwash.detect.distances.kl_cells` for many sample histograms at once."""
    on = q > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        if form == "sample_ref":
            terms = np.where(on, q * np.log(q / p), 0.0)
            val = np.maximum(terms.sum(axis=1), 0.0)
        else:
            val = np.where(on, kl_div(np.broadcast_to(p, q.shape), q), 0.0).sum(axis=1)
    missing = (on & (p == 0)).any(axis=1)
    return np.where(missing, np.inf, val)


# ----------------------------------------------------------------------------- Q per level
class ManipulationLevels:
    """``Q`` for each level of a search, built once and shared across sizes and test sets.

    Greedy methods (:attr:`MethodSpec.greedy`) run once, at the first level asked for,
    and every lower level is a prefix of that trajectory (:func:`apply_prefix`); the
    others run at every level (target = level + ``target_offset``). A run that fails
    (unreachable target, solver error) is recorded and gives ``None``.
    """

    def __init__(self, data: AuditData, method: str, *, model: Any = None,
                 options: Mapping[str, Any] | None = None, random_state: Any = 0,
                 target_offset: float = 0.001) -> None:
        if method not in METHODS:
            raise ValueError(f"unknown method {method!r}; known methods: {list(METHODS)}")
        self.data, self.method, self.model = data, method, model
        self.options = dict(options or {})
        self.random_state, self.target_offset = random_state, float(target_offset)
        self.greedy = METHODS[method].greedy
        self._cache: dict[int, Manipulation | None] = {}
        self._base: Manipulation | None = None
        self.errors: dict[float, str] = {}
        self.runs = 0
        self.seconds = 0.0

    def at(self, level: float) -> Manipulation | None:
        key = _level_key(level)
        if key not in self._cache:
            started = time.perf_counter()
            target = level + self.target_offset
            try:
                if self.greedy and self._base is not None and target <= self._base.target + 1e-12:
                    man = apply_prefix(self.data, self._base, target)
                else:
                    man = run_method(self.method, self.data, target=target, model=self.model,
                                     random_state=self.random_state, options=self.options)
                    self.runs += 1
                    if self.greedy:
                        self._base = man
            except (ValueError, RuntimeError) as exc:
                self.errors[round(level, 10)] = str(exc)
                man = None
            self.seconds += time.perf_counter() - started
            self._cache[key] = man
        return self._cache[key]


# ----------------------------------------------------------------------------- Table 3
@dataclass
class FairestResult:
    """Outcome of one fairest-undetected search.

    Attributes
    ----------
    best_di : float or None
        Highest DI of an undetected sample at the first level where one exists, capped
        at 1; ``None`` ("–") if none at any level.
    level_found : float or None
    levels : list of dict
        Per visited level: ``level``, ``status`` (``searched``, ``skipped_cell_cap``,
        ``method_failed``, ``support_too_small``: Q has fewer than ``m`` points), ``n_above``
        (samples with DI > level), ``n_passed``, ``best``.
    n_battery : int
        Samples that entered the battery (DI > level).
    tests_run : dict
        How many times each statistic was computed (``W_A``: exact OT solves).
    """

    method: str
    m: int
    tests: tuple[str, ...]
    di_original: float
    start: float
    step: float
    n_samples: int
    cell_cap: float
    best_di: float | None = None
    best_di_raw: float | None = None
    level_found: float | None = None
    levels: list[dict[str, Any]] = field(default_factory=list)
    n_battery: int = 0
    tests_run: dict[str, int] = field(default_factory=dict)
    method_runs: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["tests"] = list(self.tests)
        return d


def search_levels(start: float, step: float, di_original: float) -> list[float]:
    """``start, start - step, ...`` while the level exceeds the original DI."""
    if not step > 0:
        raise ValueError(f"step must be positive, got {step}")
    out, k = [], 0
    while True:
        level = round(start - k * step, 10)
        if not level > di_original:
            return out
        out.append(level)
        k += 1


def _search_level(level: float, open_sets: Sequence[str], sets: Mapping[str, tuple[str, ...]],
                  results: Mapping[str, FairestResult], levels_q: ManipulationLevels, ctx: BatteryContext,
                  thresholds: ReferenceThresholds, m: int, n_samples: int, random_state: int,
                  counters: _Counters) -> dict[str, dict[str, Any]]:
    """One level of the fairest search: the record of each open test set at ``level``."""
    records: dict[str, dict[str, Any]] = {}
    active = [s for s in open_sets if results[s].cell_cap > level]
    for s in open_sets:
        if s not in active:
            records[s] = {"level": level, "status": "skipped_cell_cap"}
    if not active:
        return records
    man = levels_q.at(level)
    if man is None:
        for s in active:
            records[s] = {"level": level, "status": "method_failed",
                          "error": levels_q.errors.get(round(level, 10), "")}
        return records
    support = int(np.count_nonzero(man.weights > 0))
    if support < m:
        for s in active:
            records[s] = {"level": level, "status": "support_too_small", "support": support}
        return records
    idx = draw_samples(man, m, n_samples, random_state, key=(int(m), _level_key(level)))
    dis = sample_di(man.S, man.Y_hat, idx)
    above = np.flatnonzero(np.isfinite(dis) & (dis > level))
    rows = man.joint()
    passed: dict[str, list[float]] = {s: [] for s in active}
    for j in above[np.argsort(-dis[above], kind="stable")]:
        lazy = _LazyBattery(ctx, thresholds, rows[idx[j]], counters)
        for s in active:
            if lazy.passes(sets[s]):
                passed[s].append(float(dis[j]))
    for s in active:
        records[s] = {"level": level, "status": "searched", "target": level + levels_q.target_offset,
                      "di_q": float(man.di), "n_above": int(above.size),
                      "n_passed": len(passed[s]), "best": max(passed[s]) if passed[s] else None}
    return records


def fairest_undetected_sets(
    data: AuditData,
    method: str,
    m: int,
    thresholds: ReferenceThresholds,
    *,
    test_sets: Mapping[str, Sequence[str]],
    model: Any = None,
    start: float,
    step: float = 0.05,
    n_samples: int,
    random_state: int,
    context: BatteryContext | None = None,
    target_offset: float = 0.001,
    options: Mapping[str, Any] | None = None,
    levels_cache: ManipulationLevels | None = None,
    use_cell_cap: bool = True,
    progress: bool = False,
    checkpoint: Checkpoint | None = None,
) -> dict[str, FairestResult]:
    """:func:`fairest_undetected` for several test sets at once, on the same samples.

    The sets share ``Q`` at each level, the samples and every computed statistic, so
    the five-test answer (Table 15) costs almost nothing beside the seven-test one.
    Because the samples are shared, at a level searched by both, the five-test best is
    at least the seven-test best (its tests are a subset).

    With a :class:`fairwash.resume.Checkpoint`, each searched level is stored as it
    finishes (key ``m{m}_level{level}``) and read back by a rerun, which then continues
    from the first level not stored: same results; the counters (``n_battery``,
    ``tests_run``, ``method_runs``) include the stored levels' work.
    """
    started = time.perf_counter()
    full = data.joint()
    ctx = context if context is not None else context_for_thresholds(full, thresholds)
    sets = {name: tuple(t) for name, t in test_sets.items()}
    for t in sets.values():
        check_thresholds(ctx, thresholds, t, m)
    levels_q = levels_cache
    if levels_q is None:
        levels_q = ManipulationLevels(data, method, model=model, options=options, random_state=random_state,
                                      target_offset=target_offset)
    if levels_q.method != method:
        raise ValueError(f"levels_cache is for {levels_q.method}, not {method}")
    di0 = disparate_impact(data.require_y_hat(), data.S)
    counters = _Counters()
    results = {
        name: FairestResult(method, int(m), t, float(di0), float(start), float(step), int(n_samples),
                            cell_di_cap(ctx, thresholds, m, t) if use_cell_cap else math.inf)
        for name, t in sets.items()
    }
    open_sets = set(sets)
    runs_before = levels_q.runs
    levels = search_levels(start, step, di0)
    iterator: Any = progress_bar(levels, progress=progress, desc=f"{method} m={m}", leave=False)
    for level in iterator:
        if not open_sets:
            break
        key = f"m{int(m)}_level{_level_key(level)}"
        stored = checkpoint.get(key) if checkpoint is not None else None
        if stored is not None:
            records = stored["records"]
            counters.samples += int(stored["samples"])
            for t, k in stored["tests"].items():
                counters.tests[t] = counters.tests.get(t, 0) + int(k)
            if levels_q.greedy and any(r["status"] != "skipped_cell_cap" for r in records.values()):
                levels_q.at(level)  # rebuilds the trajectory lower levels read (one cheap run)
            else:
                levels_q.runs += int(stored["runs"])
                levels_q.seconds += float(stored["method_seconds"])
        else:
            before = (counters.samples, dict(counters.tests), levels_q.runs, levels_q.seconds)
            level_started = time.perf_counter()
            records = _search_level(level, sorted(open_sets), sets, results, levels_q, ctx, thresholds, m,
                                    n_samples, random_state, counters)
            if checkpoint is not None:
                checkpoint.put(key, {
                    "records": records, "samples": counters.samples - before[0],
                    "tests": {t: k - before[1].get(t, 0) for t, k in counters.tests.items()},
                    "runs": levels_q.runs - before[2], "method_seconds": levels_q.seconds - before[3]},
                    seconds=time.perf_counter() - level_started)
        for s, record in records.items():
            results[s].levels.append(record)
            if record["status"] == "searched" and record["best"] is not None:
                r = results[s]
                r.best_di_raw, r.best_di, r.level_found = record["best"], min(record["best"], 1.0), level
                open_sets.discard(s)
    elapsed = time.perf_counter() - started
    for r in results.values():
        r.n_battery = counters.samples
        r.tests_run = dict(counters.tests)
        r.method_runs = levels_q.runs - runs_before
        r.seconds = elapsed
    return results


def fairest_undetected(
    data: AuditData,
    method: str,
    m: int,
    thresholds: ReferenceThresholds,
    *,
    model: Any = None,
    start: float,
    step: float = 0.05,
    n_samples: int,
    tests: Sequence[str] = TESTS,
    random_state: int,
    context: BatteryContext | None = None,
    target_offset: float = 0.001,
    options: Mapping[str, Any] | None = None,
    levels_cache: ManipulationLevels | None = None,
    use_cell_cap: bool = True,
) -> FairestResult:
    """The fairest undetected DI of ``method`` at sample size ``m`` (Section 7, Table 3).

    For each level ``L = start, start - step, ...`` above the original DI: build ``Q``
    with target ``L + target_offset`` (greedy methods: prefixes of one run), draw
    ``n_samples`` samples of size ``m``, keep those with DI > L that pass every test of
    ``tests``, and stop at the first level where one exists, returning the highest DI
    among them capped at 1. ``None`` if none at any level.

    Parameters
    ----------
    data : AuditData
        The audited set (its rows are the full data of the battery).
    method : str
        A name of :data:`fairwash.manipulate.METHODS`.
    m : int
    thresholds : ReferenceThresholds
    model : object, optional
        The audited model (Grad methods).
    start, step : float
    n_samples : int
        Samples per level (paper: 100).
    tests : sequence of str
        :data:`TESTS` (Table 3) or :data:`NO_MMD` (Table 15).
    random_state : int
        Method runs and sample streams.
    context : BatteryContext, optional
    target_offset : float
    options : mapping, optional
        Method options.
    levels_cache : ManipulationLevels, optional
        Share ``Q`` across calls (other sizes, other test sets).
    use_cell_cap : bool
        Skip levels the cell tests rule out (:func:`cell_di_cap`); the answer is the same.
    """
    return fairest_undetected_sets(
        data, method, m, thresholds, test_sets={"tests": tuple(tests)}, model=model, start=start, step=step,
        n_samples=n_samples, random_state=random_state, context=context, target_offset=target_offset,
        options=options, levels_cache=levels_cache, use_cell_cap=use_cell_cap,
    )["tests"]


# ----------------------------------------------------------------------------- Fig. 8
def sample_size_study(
    data: AuditData,
    methods: Sequence[str],
    fractions: Sequence[float],
    *,
    thresholds: Mapping[int, ReferenceThresholds] | Callable[[int], ReferenceThresholds],
    model: Any = None,
    start: float = 1.0,
    step: float = 0.05,
    n_samples: int = 50,
    tests: Sequence[str] = TESTS,
    random_state: int,
    context: BatteryContext | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    target_offset: float = 0.001,
    progress: bool = False,
) -> pd.DataFrame:
    """Fairest undetected DI against the sample fraction (Appendix 0.J, Fig. 8).

    Parameters
    ----------
    fractions : sequence of float in (0, 1]
        Sample sizes as fractions of ``n`` (:func:`fairwash.catalogue.sample_size`).
    thresholds : mapping m -> ReferenceThresholds, or a function of m
    options : mapping method -> options, optional

    Returns
    -------
    DataFrame
        One row per (method, fraction): ``method``, ``fraction``, ``m``, ``fairest_di``
        (nan when none), ``level_found``, ``n_battery``, ``W_A solves``, ``seconds``.
    """
    n = data.n
    ms = [sample_size(f, n) for f in fractions]
    get = thresholds if callable(thresholds) else thresholds.__getitem__
    ctx = context
    rows = []
    for method in methods:
        cache = ManipulationLevels(data, method, model=model, options=(options or {}).get(method),
                                   random_state=random_state, target_offset=target_offset)
        for f, m in zip(fractions, ms, strict=True):
            thr = get(m)
            if ctx is None:
                ctx = context_for_thresholds(data.joint(), thr)
            r = fairest_undetected_sets(data, method, m, thr, test_sets={"tests": tuple(tests)}, start=start,
                                        step=step, n_samples=n_samples, random_state=random_state,
                                        context=ctx, levels_cache=cache, progress=progress)["tests"]
            rows.append({"method": method, "fraction": float(f), "m": m,
                         "fairest_di": math.nan if r.best_di is None else r.best_di,
                         "level_found": math.nan if r.level_found is None else r.level_found,
                         "n_battery": r.n_battery, "W_A solves": r.tests_run.get("W_A", 0),
                         "seconds": r.seconds})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class SafeFraction:
    """The smallest safe sample fraction of a study (``None`` if no studied one is safe)."""

    fraction: float | None
    m: int | None
    status: str  # "found", "all_safe", "none_safe"
    message: str


def smallest_safe_fraction(study: pd.DataFrame, target: float = COMPLIANCE_THRESHOLD) -> SafeFraction:
    """Smallest studied fraction from which on no manipulation reaches ``target`` undetected.

    A fraction is *safe* if no method's fairest undetected DI exceeds ``target``. The
    answer is the smallest fraction ``f`` such that every studied fraction ≥ ``f`` is
    safe (so a noisy unsafe point above a safe one is not hidden).
    """
    if study.empty:
        raise ValueError("study is empty")
    by_f = study.groupby("fraction")
    unsafe = by_f["fairest_di"].apply(lambda v: bool((v.fillna(-np.inf) > target).any())).sort_index()
    m_of = by_f["m"].first()
    fr = list(unsafe.index)
    if not unsafe.any():
        return SafeFraction(fr[0], int(m_of[fr[0]]), "all_safe",
                            f"every studied fraction is safe (smallest studied: {fr[0]:g}); "
                            "the safe fraction may be smaller")
    if unsafe.iloc[-1]:
        return SafeFraction(None, None, "none_safe",
                            f"no studied fraction is safe: at {fr[-1]:g} (m = {int(m_of[fr[-1]])}) a "
                            f"manipulation still reaches DI > {target} undetected")
    last_unsafe = max(i for i, u in enumerate(unsafe) if u)
    f = fr[last_unsafe + 1]
    return SafeFraction(f, int(m_of[f]), "found",
                        f"from fraction {f:g} (m = {int(m_of[f])}) on, no studied method reaches "
                        f"DI > {target} undetected; at {fr[last_unsafe]:g} one does")

