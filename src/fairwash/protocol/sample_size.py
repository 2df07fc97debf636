r"""The fairest undetected DI against the sample size (paper, Appendix 0.J, Fig. 8).

The same search as Table 3 (:func:`fairwash.protocol.fairest.fairest_undetected_sets`)
at each sample fraction ``f`` (``m = sample_size(f, n)``), and the smallest fraction that
leaves no room to reach the compliance threshold undetected (:func:`smallest_safe_fraction`:
the paper's guideline, demand a sample large enough). :func:`fairest_by_fraction` is the
one loop: the pipeline's Fig. 8 (:func:`sample_size_study`) and ``fairwash risk``
(:mod:`fairwash.protocol.risk`) both run it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fairwash.catalogue import COMPLIANCE_THRESHOLD, TESTS, sample_size
from fairwash.data.base import AuditData
from fairwash.detect.battery import context_for_thresholds
from fairwash.detect.context import BatteryContext
from fairwash.detect.thresholds import ReferenceThresholds
from fairwash.protocol.fairest import FairestResult, fairest_undetected_sets
from fairwash.protocol.levels import ManipulationLevels

__all__ = ["FractionSearch", "fairest_by_fraction", "sample_size_study", "SafeFraction",
           "smallest_safe_fraction"]

#: Options of a method: a mapping method -> options, or a function of (method, m).
Options = Mapping[str, Mapping[str, Any] | None] | Callable[[str, int], Mapping[str, Any] | None]


@dataclass(frozen=True)
class FractionSearch:
    """One (method, fraction) of a sample-size study: its size and its search's result."""

    method: str
    fraction: float
    m: int
    result: FairestResult


def _options_of(options: Options | None) -> Callable[[str, int], Mapping[str, Any] | None]:
    if options is None:
        return lambda method, m: None
    if callable(options):
        return options
    return lambda method, m: options.get(method)


def fairest_by_fraction(
    data: AuditData,
    methods: Sequence[str],
    fractions: Sequence[float],
    *,
    thresholds: Mapping[int, ReferenceThresholds] | Callable[[int], ReferenceThresholds],
    model: Any = None,
    start: float,
    step: float,
    n_samples: int,
    tests: Sequence[str] = TESTS,
    random_state: int,
    context: BatteryContext | None = None,
    options: Options | None = None,
    target_offset: float = 0.001,
    progress: bool = False,
) -> list[FractionSearch]:
    """Table 3's search of each method at each sample fraction (Fig. 8's loop).

    ``Q`` at each level is built once per (method, options) and shared by the fractions
    (:class:`~fairwash.protocol.levels.ManipulationLevels`); options that depend on ``m``
    (SBS caps its weights for the size) get a cache per size.

    Parameters
    ----------
    fractions : sequence of float in (0, 1]
        ``m = sample_size(f, n)`` (:func:`fairwash.catalogue.sample_size`).
    thresholds : mapping m -> ReferenceThresholds, or a function of m
    options : mapping method -> options, or a function (method, m) -> options, optional
    start, step, n_samples, tests, random_state, target_offset, progress
        As :func:`~fairwash.protocol.fairest.fairest_undetected_sets`.

    Returns
    -------
    list of FractionSearch
        Methods in order, each with its fractions in order.
    """
    get = thresholds if callable(thresholds) else thresholds.__getitem__
    opts_of = _options_of(options)
    ctx = context
    caches: dict[tuple[str, str], ManipulationLevels] = {}
    out = []
    for method in methods:
        for f in fractions:
            m = sample_size(f, data.n)
            opts = opts_of(method, m)
            key = (method, json.dumps(opts, sort_keys=True, default=str))
            if key not in caches:
                caches[key] = ManipulationLevels(data, method, model=model, options=opts,
                                                 random_state=random_state, target_offset=target_offset)
            thr = get(m)
            if ctx is None:
                ctx = context_for_thresholds(data.joint(), thr)
            r = fairest_undetected_sets(data, method, m, thr, test_sets={"tests": tuple(tests)}, start=start,
                                        step=step, n_samples=n_samples, random_state=random_state,
                                        context=ctx, levels_cache=caches[key], progress=progress)["tests"]
            out.append(FractionSearch(method, float(f), m, r))
    return out


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
    options: Options | None = None,
    target_offset: float = 0.001,
    progress: bool = False,
) -> pd.DataFrame:
    """Fairest undetected DI against the sample fraction (Appendix 0.J, Fig. 8).

    Parameters
    ----------
    fractions : sequence of float in (0, 1]
        Sample sizes as fractions of ``n`` (:func:`fairwash.catalogue.sample_size`).
    thresholds : mapping m -> ReferenceThresholds, or a function of m
    options : mapping method -> options, or a function (method, m) -> options, optional

    Returns
    -------
    DataFrame
        One row per (method, fraction): ``method``, ``fraction``, ``m``, ``fairest_di``
        (nan when none), ``level_found``, ``n_battery``, ``W_A solves``, ``seconds``.
    """
    found = fairest_by_fraction(data, methods, fractions, thresholds=thresholds, model=model, start=start,
                                step=step, n_samples=n_samples, tests=tests, random_state=random_state,
                                context=context, options=options, target_offset=target_offset,
                                progress=progress)
    return pd.DataFrame([
        {"method": s.method, "fraction": s.fraction, "m": s.m,
         "fairest_di": math.nan if s.result.best_di is None else s.result.best_di,
         "level_found": math.nan if s.result.level_found is None else s.result.level_found,
         "n_battery": s.result.n_battery, "W_A solves": s.result.tests_run.get("W_A", 0),
         "seconds": s.result.seconds}
        for s in found])


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
