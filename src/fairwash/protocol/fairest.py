r"""The fairest undetected DI of an attack at a sample size (paper, Section 7, Tables 3, 15).

From a start level down by ``step`` to the original DI, build ``Q`` for target
level + 0.001, draw samples of size ``m``, keep those with DI > level that pass every
test, and report the highest DI among them (capped at 1) at the first level where one
exists (:func:`fairest_undetected`; Table 15 with ``tests=NO_MMD``).

Speed-ups that never change the answer (tested against the plain search):

* DI first: the battery only runs on samples with DI > level;
* short circuit: tests run cheapest first (:class:`fairwash.detect.lazy.LazyBattery`)
  and stop at the first rejection; statistics are cached per sample, so the 7-test and
  5-test searches share them (exact W_A only for samples that pass every cheap test);
* greedy methods (Replace, Matching): one run, every lower level is a trajectory prefix
  (:class:`fairwash.protocol.levels.ManipulationLevels`);
* a *cell cap* (:func:`fairwash.detect.cells.cell_di_cap`): a level at or above the
  largest DI the cell tests may accept cannot yield a passing sample, whatever ``Q``,
  so it is skipped without running the method.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from fairwash.catalogue import REPORTED_DI_MAX, TESTS
from fairwash.data.base import AuditData
from fairwash.detect.battery import check_thresholds, context_for_thresholds
from fairwash.detect.cells import cell_di_cap
from fairwash.detect.context import BatteryContext
from fairwash.detect.lazy import LazyBattery, TestCounters
from fairwash.detect.thresholds import ReferenceThresholds
from fairwash.fairness import disparate_impact
from fairwash.progress import progress_bar
from fairwash.protocol.compare import SearchProtocol
from fairwash.protocol.levels import ManipulationLevels
from fairwash.protocol.samples import draw_samples, level_key, sample_di
from fairwash.resume import Checkpoint

__all__ = ["FairestResult", "search_levels", "fairest_undetected_sets", "fairest_undetected",
           "fairest_by_size"]


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
    protocol: str = "any"

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


TestSet = tuple[str, ...] | SearchProtocol


def _tests_of(spec: TestSet) -> tuple[str, ...]:
    return spec.tests if isinstance(spec, SearchProtocol) else spec


def _passes(spec: TestSet, battery: LazyBattery) -> bool:
    return spec.passes(battery) if isinstance(spec, SearchProtocol) else battery.passes(spec)


def _cap(spec: TestSet, ctx: BatteryContext, thresholds: ReferenceThresholds, m: int) -> float:
    if isinstance(spec, SearchProtocol):
        return spec.cap(ctx, thresholds, m)
    return cell_di_cap(ctx, thresholds, m, spec)


def _search_level(level: float, open_sets: Sequence[str], sets: Mapping[str, TestSet],
                  results: Mapping[str, FairestResult], levels_q: ManipulationLevels, ctx: BatteryContext,
                  thresholds: ReferenceThresholds, m: int, n_samples: int, random_state: int,
                  counters: TestCounters) -> dict[str, dict[str, Any]]:
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
    idx = draw_samples(man, m, n_samples, random_state, key=(int(m), level_key(level)))
    dis = sample_di(man.S, man.Y_hat, idx)
    above = np.flatnonzero(np.isfinite(dis) & (dis > level))
    rows = man.joint()
    passed: dict[str, list[float]] = {s: [] for s in active}
    for j in above[np.argsort(-dis[above], kind="stable")]:
        lazy = LazyBattery(ctx, thresholds, rows[idx[j]], counters)
        for s in active:
            if _passes(sets[s], lazy):
                passed[s].append(float(dis[j]))
    for s in active:
        records[s] = {"level": level, "status": "searched", "target": level + levels_q.target_offset,
                      "di_q": float(man.di), "n_above": int(above.size),
                      "n_passed": len(passed[s]), "best": max(passed[s]) if passed[s] else None}
    return records


def _replay_level(stored: Mapping[str, Any], level: float, counters: TestCounters,
                  levels_q: ManipulationLevels) -> dict[str, dict[str, Any]]:
    """Add a level stored by an earlier attempt to the counters; return its records."""
    records = stored["records"]
    counters.samples += int(stored["samples"])
    for t, k in stored["tests"].items():
        counters.tests[t] = counters.tests.get(t, 0) + int(k)
    if levels_q.greedy and any(r["status"] != "skipped_cell_cap" for r in records.values()):
        levels_q.at(level)  # rebuilds the trajectory lower levels read (one cheap run)
    else:
        levels_q.runs += int(stored["runs"])
        levels_q.seconds += float(stored["method_seconds"])
    return records


def _level_records(level: float, key: str, checkpoint: Checkpoint | None, counters: TestCounters,
                   levels_q: ManipulationLevels, search: Any) -> dict[str, dict[str, Any]]:
    """The records of one level: read back from ``checkpoint``, or searched now (and stored)."""
    stored = checkpoint.get(key) if checkpoint is not None else None
    if stored is not None:
        return _replay_level(stored, level, counters, levels_q)
    before = (counters.samples, dict(counters.tests), levels_q.runs, levels_q.seconds)
    level_started = time.perf_counter()
    records = search()
    if checkpoint is not None:
        checkpoint.put(key, {
            "records": records, "samples": counters.samples - before[0],
            "tests": {t: k - before[1].get(t, 0) for t, k in counters.tests.items()},
            "runs": levels_q.runs - before[2], "method_seconds": levels_q.seconds - before[3]},
            seconds=time.perf_counter() - level_started)
    return records


def _prepare_search(data: AuditData, method: str, m: int, thresholds: ReferenceThresholds,
                    test_sets: Mapping[str, Sequence[str] | SearchProtocol], context: BatteryContext | None,
                    levels_cache: ManipulationLevels | None, model: Any, options: Mapping[str, Any] | None,
                    random_state: int, target_offset: float,
                    ) -> tuple[BatteryContext, dict[str, TestSet], ManipulationLevels]:
    """Validate a search's inputs: its context, test sets (thresholds checked) and ``Q`` cache."""
    ctx = context if context is not None else context_for_thresholds(data.joint(), thresholds)
    sets: dict[str, TestSet] = {name: t if isinstance(t, SearchProtocol) else tuple(t)
                                for name, t in test_sets.items()}
    for t in sets.values():
        check_thresholds(ctx, thresholds, _tests_of(t), m)
    levels_q = levels_cache
    if levels_q is None:
        levels_q = ManipulationLevels(data, method, model=model, options=options, random_state=random_state,
                                      target_offset=target_offset)
    if levels_q.method != method:
        raise ValueError(f"levels_cache is for {levels_q.method}, not {method}")
    return ctx, sets, levels_q


def fairest_undetected_sets(
    data: AuditData,
    method: str,
    m: int,
    thresholds: ReferenceThresholds,
    *,
    test_sets: Mapping[str, Sequence[str] | SearchProtocol],
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
    ctx, sets, levels_q = _prepare_search(data, method, m, thresholds, test_sets, context, levels_cache,
                                          model, options, random_state, target_offset)
    di0 = float(disparate_impact(data.require_y_hat(), data.S))
    counters, runs_before = TestCounters(), levels_q.runs
    results = {name: FairestResult(method, int(m), _tests_of(t), di0, float(start), float(step),
                                   int(n_samples),
                                   _cap(t, ctx, thresholds, m) if use_cell_cap else math.inf,
                                   protocol=t.rule if isinstance(t, SearchProtocol) else "any")
               for name, t in sets.items()}
    open_sets = set(sets)
    levels = search_levels(start, step, di0)
    for level in progress_bar(levels, progress=progress, desc=f"{method} m={m}", leave=False):
        if not open_sets:
            break
        records = _level_records(
            level, f"m{int(m)}_level{level_key(level)}", checkpoint, counters, levels_q,
            lambda level=level: _search_level(level, sorted(open_sets), sets, results, levels_q, ctx,
                                              thresholds, m, n_samples, random_state, counters))
        for s, record in records.items():
            results[s].levels.append(record)
            if record["status"] == "searched" and record["best"] is not None:
                r = results[s]
                r.best_di_raw, r.level_found = record["best"], level
                r.best_di = min(record["best"], REPORTED_DI_MAX)
                open_sets.discard(s)
    elapsed, runs = time.perf_counter() - started, levels_q.runs - runs_before
    for r in results.values():
        r.n_battery, r.tests_run = counters.samples, dict(counters.tests)
        r.method_runs, r.seconds = runs, elapsed
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
        Skip levels the cell tests rule out (:func:`fairwash.detect.cells.cell_di_cap`); same answer.
    """
    return fairest_undetected_sets(
        data, method, m, thresholds, test_sets={"tests": tuple(tests)}, model=model, start=start, step=step,
        n_samples=n_samples, random_state=random_state, context=context, target_offset=target_offset,
        options=options, levels_cache=levels_cache, use_cell_cap=use_cell_cap,
    )["tests"]


def fairest_by_size(
    data: AuditData,
    method: str,
    thresholds: Mapping[int, ReferenceThresholds],
    *,
    test_sets: Mapping[str, Sequence[str] | SearchProtocol],
    model: Any = None,
    options: Mapping[str, Any] | None = None,
    start: float,
    step: float = 0.05,
    n_samples: int,
    random_state: int,
    target_offset: float = 0.001,
    progress: bool = False,
    checkpoint: Checkpoint | None = None,
) -> tuple[dict[int, dict[str, FairestResult]], ManipulationLevels]:
    """:func:`fairest_undetected_sets` of one method at every size of ``thresholds`` (Tables 3, 15).

    ``Q`` at each level is built once and shared by the sizes and the test sets; one
    battery context (from the smallest size's thresholds) serves every size.

    Returns
    -------
    results : dict m -> dict set name -> FairestResult
        Sizes in increasing order.
    levels : ManipulationLevels
        The shared ``Q`` cache (its ``runs``, ``seconds`` and ``errors``).
    """
    ctx = context_for_thresholds(data.joint(), thresholds[min(thresholds)])
    cache = ManipulationLevels(data, method, model=model, options=options, random_state=random_state,
                               target_offset=target_offset)
    out = {}
    for m in sorted(thresholds):
        out[m] = fairest_undetected_sets(
            data, method, m, thresholds[m], test_sets=test_sets, start=start, step=step,
            n_samples=n_samples, random_state=random_state, context=ctx, levels_cache=cache,
            progress=progress, checkpoint=checkpoint)
    return out, cache
