r"""The verification protocols side by side, on the same samples (issue 17's comparison).

Four protocols decide whether a submitted sample of size ``m`` is representative:

* ``any`` — the paper's battery as the paper combines it: reject if any test rejects at
  ``α`` (eq. 3's thresholds; overall level above ``α``);
* ``holm`` — the same tests, Holm's step-down on their p-values (level ``<= α``);
* ``minp`` — the same tests, the smallest p-value calibrated on the reference draws
  (exact level; :mod:`fairwash.protocol.combine`);
* ``optimal`` — membership and multiplicity, then the exact one-sided DI test
  (:func:`fairwash.detect.optimal.optimal_check`; exact level, the lowest cap).

:func:`sample_verdicts` runs all of them on one sample, :func:`verdict_frame` on many
(honest draws from the full data: :func:`honest_frame`), :func:`rejection_summary` gives each
protocol's rejection rate with its exact (Clopper–Pearson) interval. :class:`SearchProtocol`
plugs a protocol into the fairest-undetected search (:mod:`fairwash.protocol.fairest`), so
Table 3's question is answered for each protocol on the same samples.

``α = 1 - level`` of the reference thresholds throughout.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from fairwash.catalogue import COST_ORDER, TESTS
from fairwash.detect.cells import cell_di_cap
from fairwash.detect.context import BatteryContext
from fairwash.detect.dilaw import cell_counts
from fairwash.detect.lazy import LazyBattery, test_p_value, test_rejects
from fairwash.detect.optimal import optimal_cap, optimal_check
from fairwash.detect.thresholds import ReferenceThresholds
from fairwash.protocol.combine import COMBINE_RULES, combine
from fairwash.protocol.samples import sample_di
from fairwash.seeding import spawn_stream

__all__ = ["PROTOCOLS", "PROTOCOL_LABELS", "SampleVerdicts", "sample_verdicts", "verdict_frame",
           "honest_indices", "honest_frame", "fresh_reference_frame", "rejection_summary", "level_band",
           "SearchProtocol", "search_protocols"]

#: The protocols compared: the paper's battery under each combination rule, then the optimal one.
PROTOCOLS: tuple[str, ...] = (*COMBINE_RULES, "optimal")
PROTOCOL_LABELS: dict[str, str] = {
    "any": "paper battery, any test rejects (the paper's)",
    "holm": "paper battery, Holm step-down",
    "minp": "paper battery, min-P calibrated",
    "optimal": "optimal: membership + exact DI test",
}
#: The protocols whose level is guaranteed (``<= α``; ``minp`` and ``optimal`` exactly).
GUARANTEED: tuple[str, ...] = ("holm", "minp", "optimal")


def _alpha(thresholds: ReferenceThresholds) -> float:
    return float(round(1.0 - thresholds.level, 12))


@dataclass(frozen=True)
class SampleVerdicts:
    """Every protocol's verdict on one sample, with the evidence.

    ``p[protocol]`` is the protocol's overall p-value (``any``: the smallest raw p-value;
    ``optimal``: the DI test's, 0 when membership fails); ``reject[protocol]`` its verdict.
    """

    di: float
    statistics: dict[str, float]
    p_values: dict[str, float]
    p: dict[str, float]
    reject: dict[str, bool]
    membership: bool
    battery_seconds: float
    optimal_seconds: float

    def record(self) -> dict[str, Any]:
        """One flat row for :func:`verdict_frame`."""
        out: dict[str, Any] = {"di": self.di, "membership": self.membership}
        for t, v in self.statistics.items():
            out[f"{t}_stat"], out[f"{t}_p"] = v, self.p_values[t]
        for pr in self.reject:
            out[f"{pr}_p"], out[f"{pr}_reject"] = self.p[pr], self.reject[pr]
        out["battery_seconds"], out["optimal_seconds"] = self.battery_seconds, self.optimal_seconds
        return out


def _battery_verdicts(thresholds: ReferenceThresholds, stats_: Mapping[str, float],
                      p_values: Mapping[str, float], rejected: Mapping[str, bool],
                      rules: Sequence[str]) -> tuple[dict, dict]:
    alpha = _alpha(thresholds)
    p, reject = {}, {}
    for rule in rules:
        if rule == "any":  # each test's own verdict, as the battery decides (eq. 3)
            p[rule], reject[rule] = min(p_values.values()), any(rejected.values())
            continue
        cal = {t: stats_[t] for t in stats_ if t in thresholds.draws}
        comb = combine(p_values, rule, alpha, statistics=cal, draws={t: thresholds.draws[t] for t in cal})
        p[rule], reject[rule] = comb.p_value, comb.reject
    return p, reject


def sample_verdicts(ctx: BatteryContext, thresholds: ReferenceThresholds, rows: np.ndarray, *,
                    tests: Sequence[str] = TESTS, protocols: Sequence[str] = PROTOCOLS) -> SampleVerdicts:
    """Every protocol of ``protocols`` on one sample ``rows`` (``(x, s, ŷ)``, the full data's columns).

    The battery's statistics are computed once for the three combination rules; the optimal
    protocol checks the rows against ``ctx.full`` (membership) and the DI against the honest law.
    """
    rows = np.asarray(rows, dtype=np.float64)
    rules = [p for p in protocols if p in COMBINE_RULES]
    stats_, p_values, rejected = {}, {}, {}
    t0 = time.perf_counter()
    if rules:
        for t, (stat, ks_p) in ctx.statistics(rows, tuple(tests)).items():
            stats_[t], p_values[t] = float(stat), test_p_value(ctx, thresholds, t, stat, ks_p)
            rejected[t] = test_rejects(ctx, thresholds, t, stat, ks_p)
    p, reject = _battery_verdicts(thresholds, stats_, p_values, rejected, rules)
    t1 = time.perf_counter()
    membership = True
    if "optimal" in protocols:
        rep = optimal_check(ctx.full, rows, _alpha(thresholds), index=ctx.membership_index)
        membership = rep.membership.passed
        p["optimal"] = rep.di.p_value if membership else 0.0
        reject["optimal"] = not rep.passed
    t2 = time.perf_counter()
    s, y = rows[:, -2] > 0.5, rows[:, -1] > 0.5
    di = float(sample_di(s.astype(int), y.astype(int), np.arange(len(rows)))[0])
    return SampleVerdicts(di, stats_, p_values, p, reject, membership, t1 - t0, t2 - t1)


def verdict_frame(ctx: BatteryContext, thresholds: ReferenceThresholds, support_rows: np.ndarray,
                  idx: np.ndarray, *, tests: Sequence[str] = TESTS,
                  protocols: Sequence[str] = PROTOCOLS) -> pd.DataFrame:
    """:func:`sample_verdicts` of each sample ``support_rows[idx[j]]``, one row per sample."""
    records = []
    for j, positions in enumerate(np.atleast_2d(idx)):
        rec = sample_verdicts(ctx, thresholds, support_rows[positions], tests=tests,
                              protocols=protocols).record()
        records.append({"sample": j, **rec})
    return pd.DataFrame(records)


def honest_indices(n: int, m: int, n_samples: int, random_state: int) -> np.ndarray:
    """Positions of ``n_samples`` honest samples: ``m`` rows uniformly without replacement.

    Sample ``j`` uses the stream ``SeedSequence(random_state, spawn_key=(m, j))``.
    """
    if not 1 <= m <= n:
        raise ValueError(f"m must be in [1, {n}], got {m}")
    out = np.empty((int(n_samples), int(m)), dtype=np.int64)
    for j in range(int(n_samples)):
        out[j] = spawn_stream(random_state, (int(m), j)).choice(n, size=int(m), replace=False)
    return out


def honest_frame(ctx: BatteryContext, thresholds: ReferenceThresholds, n_samples: int, random_state: int,
                 *, tests: Sequence[str] = TESTS, protocols: Sequence[str] = PROTOCOLS) -> pd.DataFrame:
    """Every protocol on ``n_samples`` honest samples of the thresholds' size (false alarms).

    The samples are independent of the reference draws (their own seed), so each rate is the
    false-alarm rate an honest auditee meets when checked against *this* cached reference.
    """
    idx = honest_indices(ctx.n, thresholds.m, n_samples, random_state)
    return verdict_frame(ctx, thresholds, ctx.full, idx, tests=tests, protocols=protocols)


def fresh_reference_frame(frame: pd.DataFrame, thresholds: ReferenceThresholds, random_state: int, *,
                          tests: Sequence[str] = TESTS) -> pd.DataFrame:
    """The battery rules' verdicts on honest samples, each against its *own* honest reference.

    ``frame`` holds honest samples (:func:`honest_frame`). Their statistics and the cached
    reference draws are all honest and exchangeable, so sample ``i`` is judged against ``N``
    members drawn from the pool of the others (``N`` = the cached reference's size; sample
    ``i``'s stream ``SeedSequence(random_state, spawn_key=(i,))``): the rate over samples then
    estimates the protocol's level over both the sample and the reference (the level ``minp``
    guarantees exactly), not the level given one cached reference. Quantile rule (eq. 3):
    ``any`` rejects when a p-value is ``<= α``.

    Returns
    -------
    DataFrame
        ``sample`` and ``{rule}_reject``, ``{rule}_p`` for ``any``, ``holm``, ``minp``.
    """
    alpha = _alpha(thresholds)
    cal = [t for t in tests if t in thresholds.draws]
    other = [t for t in tests if t not in thresholds.draws]
    n_ref = thresholds.n_draws
    pool = np.vstack([np.column_stack([thresholds.draws[t] for t in cal]),
                      frame[[f"{t}_stat" for t in cal]].to_numpy(np.float64)])
    records = []
    for i in range(len(frame)):
        me = n_ref + i
        rng = spawn_stream(random_state, (i,))
        ref = rng.choice(np.delete(np.arange(len(pool)), me), n_ref, replace=False)
        draws = {t: pool[ref, k] for k, t in enumerate(cal)}
        obs = {t: float(pool[me, k]) for k, t in enumerate(cal)}
        shadow = ReferenceThresholds(thresholds.m, thresholds.n, thresholds.level, thresholds.rule,
                                     thresholds.tests, draws, {}, thresholds.config, thresholds.fingerprint)
        p = {t: shadow.p_value(t, obs[t]) for t in cal}
        p.update({t: float(frame[f"{t}_p"].iloc[i]) for t in other})
        p = {t: p[t] for t in tests}
        rec: dict[str, Any] = {"sample": int(frame["sample"].iloc[i])}
        for rule in COMBINE_RULES:
            comb = combine(p, rule, alpha, statistics=obs, draws=draws)
            rec[f"{rule}_p"], rec[f"{rule}_reject"] = comb.p_value, comb.reject
        records.append(rec)
    return pd.DataFrame(records)


def level_band(n: int, alpha: float, confidence: float = 0.95) -> tuple[int, int]:
    """The central ``confidence`` band of rejections of a level-``alpha`` test among ``n`` samples."""
    lo = stats.binom.ppf((1 - confidence) / 2, n, alpha)
    hi = stats.binom.ppf(1 - (1 - confidence) / 2, n, alpha)
    return int(lo), int(hi)


def rejection_summary(frame: pd.DataFrame, protocols: Sequence[str] = PROTOCOLS, *,
                      confidence: float = 0.95) -> pd.DataFrame:
    """Each protocol's rejections among the rows of ``frame`` with its exact interval.

    Returns
    -------
    DataFrame
        One row per protocol: ``protocol``, ``n`` (samples with a verdict), ``rejections``,
        ``rate``, ``lo``, ``hi`` (Clopper–Pearson ``confidence`` interval of the rate).
    """
    rows = []
    for pr in protocols:
        col = f"{pr}_reject"
        if col not in frame:
            continue
        vals = frame[col].dropna().astype(bool).to_numpy()
        n, k = len(vals), int(vals.sum())
        if n:
            ci = stats.binomtest(k, n).proportion_ci(confidence_level=confidence, method="exact")
            lo, hi = float(ci.low), float(ci.high)
        else:
            lo = hi = math.nan
        rows.append({"protocol": pr, "n": n, "rejections": k, "rate": k / n if n else math.nan,
                     "lo": lo, "hi": hi})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- the fairest search
@dataclass(frozen=True)
class SearchProtocol:
    """A protocol as a test set of the fairest search: its cap and its verdict on one sample.

    ``rule`` is one of :data:`PROTOCOLS`; ``tests`` the battery's tests (unused by ``optimal``).
    """

    rule: str
    tests: tuple[str, ...] = TESTS

    def __post_init__(self) -> None:
        if self.rule not in PROTOCOLS:
            raise ValueError(f"rule must be one of {PROTOCOLS}, got {self.rule!r}")

    def cap(self, ctx: BatteryContext, thresholds: ReferenceThresholds, m: int) -> float:
        """The highest DI a size-``m`` sample passing this protocol can show (``inf``: no bound known).

        ``any``: the cell tests' cap; ``optimal``: the DI test's (1 - α) quantile; ``holm`` and
        ``minp`` accept more samples than ``any`` and have no cell enumeration here: ``inf``.
        """
        if self.rule == "any":
            return cell_di_cap(ctx, thresholds, m, self.tests)
        if self.rule == "optimal":
            return optimal_cap(_full_cells(ctx), m, _alpha(thresholds))
        return math.inf

    def passes(self, battery: LazyBattery) -> bool:
        """Whether the sample of ``battery`` passes (statistics computed lazily, shared across sets)."""
        thr, alpha = battery.thr, _alpha(battery.thr)
        if self.rule == "any":
            return battery.passes(self.tests)
        if self.rule == "optimal":
            ctx = battery.ctx
            return optimal_check(ctx.full, battery.rows, alpha, index=ctx.membership_index).passed
        order = sorted(self.tests, key=COST_ORDER.index)
        if self.rule == "holm":
            # Holm rejects something iff its smallest p-value is <= alpha / K; a Monte-Carlo
            # p-value is never below 1 / (N + 1), so a test that cannot reach alpha / K is skipped
            bar = alpha / len(order)
            floor = 1.0 / (thr.n_draws + 1) if thr.draws else 0.0
            for t in order:
                calibrated = t in thr.draws
                if calibrated and floor > bar:
                    continue
                if battery.p_value(t) <= bar:
                    return False
            return True
        p = {t: battery.p_value(t) for t in order}
        cal = {t: battery.stats[t] for t in order if t in thr.draws}
        return not combine(p, "minp", alpha, statistics=cal, draws={t: thr.draws[t] for t in cal}).reject


def _full_cells(ctx: BatteryContext) -> np.ndarray:
    full = ctx.full
    return cell_counts((full[:, -2] > 0.5).astype(int), (full[:, -1] > 0.5).astype(int))


def search_protocols(rules: Sequence[str], tests: Sequence[str] = TESTS) -> dict[str, SearchProtocol]:
    """The fairest search's extra test sets, one per protocol of ``rules`` (named by the rule)."""
    return {r: SearchProtocol(r, tuple(tests)) for r in rules}
