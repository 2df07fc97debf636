r"""The supervisory authority's battery of seven tests (paper, Section 4, eq. 3; Table 15).

An auditee submits ``m`` rows ``(x, s, ŷ)`` claimed to be drawn uniformly, without
replacement, from its full data ``P_n``. For each distance ``D`` the authority compares
``D(sample, P_n)`` with the distribution of ``D(P_m^{(j)}, P_n)`` over honest samples
``P_m^{(j)}`` of the same size (eq. 3), computed once per (data set, m) by
:func:`reference_thresholds` (:mod:`fairwash.detect.thresholds`); :func:`run_battery`
then gives every test's statistic, threshold, p-value and verdict.

Precomputations that depend only on the full data (its cell histogram, its distinct-row
index, its MMD self term, the Wasserstein estimator's reference) live in a
:class:`BatteryContext` (:mod:`fairwash.detect.context`), prepared once and passed to
every call. This module keeps the historical import path of all of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from fairwash.catalogue import DISTANCE_TESTS, NO_MMD, TESTS, check_tests
from fairwash.detect.context import BatteryContext, WassersteinConfig
from fairwash.detect.distances import as_rows
from fairwash.detect.thresholds import (
    ReferenceThresholds,
    Rule,
    code_mode_thresholds,
    context_kwargs,
    reference_draws,
    reference_thresholds,
    thresholds_from_draws,
)

__all__ = [
    "TESTS",
    "NO_MMD",
    "DISTANCE_TESTS",
    "Rule",
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
    tests = check_tests(tests)
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
    ctx = BatteryContext.prepare(full, **context_kwargs(thresholds))
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
