r"""Combination rules for the paper's battery: one overall verdict from several tests.

* ``any`` — the paper's: reject if any test rejects at ``α``. Its overall level is **not**
  ``α``: the tests are correlated but not one test, and the false-alarm rate of honest
  samples is measured at 11–19 % with seven tests at 5 % (issue 17; ``tests/test_combine.py``
  measures it on simulated data). Adjusted p-values are the raw ones.
* ``holm`` — Holm's step-down on the tests' p-values (the Monte-Carlo p-values of the
  calibrated tests, SciPy's for KS): overall level ``<= α`` whatever the dependence.
* ``minp`` — the smallest p-value, calibrated on the same honest reference draws. Draw ``j``
  of every calibrated test is the same honest sample (:attr:`ReferenceThresholds.draws`), so
  the observed sample and the ``N`` draws are ``N + 1`` exchangeable vectors of statistics
  under H0. Each member's p-value per test is computed against the **other** ``N`` members
  of the pool (leave-one-out), the member's min-p taken over the tests, and the overall
  p-value is the rank of the observed min-p among all ``N + 1``:
  ``(1 + #{j : minp_j <= minp_obs}) / (N + 1)`` — an exact (ties: conservative) p-value
  whatever the correlation. Monte-Carlo p-values are coarse (steps of ``1 / (N + 1)``) and
  min-p's tie often; ties are broken by the second smallest p-value, then the third, ...
  (the member's sorted p-vector, compared lexicographically: still a symmetric function of
  the member, so the rank stays exact). The test(s) attaining the observed min-p carry the
  overall p-value; another test's adjusted p-value is the larger of it and the rank of its
  own p-value among the members' min-p's (Westfall & Young's single-step min-P).

  KS calibrated by SciPy (the default) has no reference draws: its p-value is then
  Holm-combined (two hypotheses) with the calibrated tests' min-P p-value, so the overall
  level stays ``<= α``. With ``ks_calibration="reference"`` KS is one of the calibrated
  tests and the whole battery is exact.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

__all__ = ["COMBINE_RULES", "Combination", "combine", "holm_adjust", "pooled_min_p"]

Rule = Literal["any", "holm", "minp"]
COMBINE_RULES: tuple[str, ...] = ("any", "holm", "minp")
_RTOL = 1e-9  # statistics equal up to rounding count as ties (as ReferenceThresholds.p_value)


@dataclass(frozen=True)
class Combination:
    """The overall verdict of one combination rule on one sample."""

    rule: str
    alpha: float
    adjusted: dict[str, float]
    p_value: float
    reject: bool
    exact_level: bool
    note: str = ""
    raw: dict[str, float] = field(default_factory=dict)

    @property
    def rejected_by(self) -> tuple[str, ...]:
        return tuple(t for t, p in self.adjusted.items() if p <= self.alpha)

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "alpha": self.alpha, "p_value": self.p_value, "reject": self.reject,
                "level_guaranteed": self.exact_level, "adjusted_p_values": dict(self.adjusted),
                "note": self.note}


def holm_adjust(p: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values: ``max_{k<=i} min(1, (K - k + 1) p_(k))`` in sorted order."""
    p = np.asarray(p, dtype=np.float64)
    k = len(p)
    order = np.argsort(p, kind="stable")
    scaled = np.minimum(1.0, (k - np.arange(k)) * p[order])
    adj = np.empty(k)
    adj[order] = np.maximum.accumulate(scaled)
    return adj


def _at_least(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a[i] >= b[j]`` up to rounding, as a matrix (``inf >= inf`` True)."""
    a, b = a[:, None], b[None, :]
    with np.errstate(invalid="ignore"):
        margin = np.where(np.isfinite(a), _RTOL * np.maximum(np.abs(a), 1e-300), 0.0)
        exceeds = (b > a + margin) & ~(np.isinf(a) & np.isinf(b))
    return ~exceeds


def pooled_min_p(observed: Mapping[str, float],
                 draws: Mapping[str, np.ndarray]) -> tuple[float, dict[str, float]]:
    """The min-P p-value of ``observed`` and each test's single-step adjusted p-value.

    ``observed[t]`` is the sample's statistic of test ``t``, ``draws[t]`` the ``N`` honest
    statistics (draw ``j`` of every test from the same honest sample). Pool ``x[0] = observed``,
    ``x[1:] = draws``; member ``i``'s p-value for ``t`` is ``(1 + #{k != i: x_k >= x_i}) / (N + 1)``
    (the others of the pool); the overall p-value is ``#{i: minp_i <= minp_0} / (N + 1)``.
    """
    tests = list(observed)
    if not tests:
        raise ValueError("pooled_min_p needs at least one calibrated test")
    pvals = []
    for t in tests:
        x = np.concatenate([[float(observed[t])], np.asarray(draws[t], dtype=np.float64)])
        ge = _at_least(x, x)  # ge[k, i]: x_k >= x_i
        pvals.append(ge.sum(axis=0) / len(x))  # (1 + #others >= x_i) / (N + 1): ge[i, i] is the 1
    P = np.vstack(pvals)  # tests x (N + 1)
    n1 = P.shape[1]
    mins = P.min(axis=0)
    # order the members by their sorted p-vectors (the min first, ties broken by the next
    # smallest, ...): a symmetric statistic, so the rank stays exact, and far fewer ties
    keys = np.round(np.sort(P, axis=0), 12)
    order = np.lexsort(keys[::-1])
    rank = np.empty(n1, dtype=np.int64)
    srt = keys[:, order]
    same = np.r_[False, (srt[:, 1:] == srt[:, :-1]).all(axis=0)]
    # the rank of a member counts every member whose key is <= its own (ties: conservative)
    groups = np.cumsum(~same) - 1
    ends = np.r_[np.flatnonzero(~same)[1:], n1]  # one past each tie group
    rank[order] = ends[groups]
    overall = float(rank[0] / n1)
    tol = 1e-12
    adjusted = {}
    for i, t in enumerate(tests):
        single = float(np.count_nonzero(mins <= P[i, 0] + tol) / n1)  # Westfall-Young single step
        adjusted[t] = overall if P[i, 0] <= mins[0] + tol else max(overall, single)
    return overall, adjusted


def combine(p_values: Mapping[str, float], rule: str, alpha: float, *,
            statistics: Mapping[str, float] | None = None,
            draws: Mapping[str, np.ndarray] | None = None) -> Combination:
    """One overall verdict from the tests' p-values under ``rule`` (``any``, ``holm``, ``minp``).

    Parameters
    ----------
    p_values : mapping test -> p-value
        Each test's own p-value (Monte-Carlo for calibrated tests, SciPy's for KS).
    rule : {"any", "holm", "minp"}
    alpha : float
        The overall level asked for (the tests' level for ``any``).
    statistics, draws : mapping test -> float / ndarray
        For ``minp``: the sample's statistic and the ``N`` honest reference statistics of every
        calibrated test (:attr:`ReferenceThresholds.draws`); tests of ``p_values`` without
        draws (KS under SciPy calibration) are Holm-combined with the min-P p-value.
    """
    if rule not in COMBINE_RULES:
        raise ValueError(f"rule must be one of {COMBINE_RULES}, got {rule!r}")
    names = list(p_values)
    raw = {t: float(p_values[t]) for t in names}
    if rule == "any":
        return Combination("any", alpha, dict(raw), min(raw.values()), any(p <= alpha for p in raw.values()),
                           False, "reject if any test rejects: the overall level is above alpha", raw)
    if rule == "holm":
        adj = holm_adjust([raw[t] for t in names])
        adjusted = {t: float(a) for t, a in zip(names, adj, strict=True)}
        p = min(adjusted.values())
        return Combination("holm", alpha, adjusted, p, p <= alpha, True, "Holm step-down: level <= alpha",
                           raw)
    draws = draws or {}
    cal = [t for t in names if t in draws]
    other = [t for t in names if t not in draws]
    if not cal:
        raise ValueError("minp needs reference draws for at least one test")
    if statistics is None:
        raise ValueError("minp needs the sample's statistics")
    p_min, adjusted = pooled_min_p({t: statistics[t] for t in cal}, {t: draws[t] for t in cal})
    note = "min-P over the same honest draws: exact level"
    if other:
        # the calibrated block's min-P and each uncalibrated test: Holm over 1 + len(other)
        block = [p_min, *(raw[t] for t in other)]
        adj = holm_adjust(block)
        k = len(block)  # a calibrated test: Bonferroni over the blocks, never below its block's
        adjusted = {t: float(max(adj[0], min(1.0, k * a))) for t, a in adjusted.items()}
        adjusted.update({t: float(a) for t, a in zip(other, adj[1:], strict=True)})
        p_min = float(min(adj))
        note = (f"min-P over the calibrated tests, Holm-combined with {', '.join(other)} "
                "(no reference draws): level <= alpha")
    adjusted = {t: adjusted[t] for t in names}
    return Combination("minp", alpha, adjusted, p_min, p_min <= alpha, True, note, raw)
