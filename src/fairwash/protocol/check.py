r"""Is a submitted sample representative of the full data? (``fairwash check``; paper, Section 4)

:func:`check_sample` runs the battery of seven tests on the submitted rows against the
full data, with reference thresholds (eq. 3) from a
:class:`~fairwash.protocol.thresholds.ThresholdStore`, and returns a :class:`CheckReport`:
each test's statistic, threshold, p-value and verdict, the overall verdict, the DI
(eq. 1) of the sample and of the full data, the sizes and where the thresholds came from.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from fairwash.catalogue import TESTS
from fairwash.data.base import AuditData, DataError
from fairwash.detect.battery import BatteryResult, run_battery
from fairwash.detect.context import BatteryContext, WassersteinConfig
from fairwash.detect.thresholds import ReferenceThresholds
from fairwash.fairness import disparate_impact
from fairwash.protocol.combine import Combination, combine
from fairwash.protocol.thresholds import ThresholdSettings, ThresholdStore

__all__ = ["CheckReport", "check_sample"]


@dataclass(frozen=True)
class CheckReport:
    """The battery's verdict on one submitted sample.

    Attributes
    ----------
    battery : BatteryResult
        Per test: statistic, threshold (nan for KS), p-value, rejected.
    thresholds : ReferenceThresholds
        The thresholds used (their level, rule, draws and seed).
    provenance : dict
        ``cache`` ("file", "used", "written", "off", "unwritable"), ``path``, ``seconds``.
    di_sample, di_full : float
        DI of the sample and of the full data (nan: undefined, inf: S=1 has no positive).
    m, n : int
        Sample and full-data sizes.
    features_encoded : int
        Columns of ``x`` after encoding.
    w_method : str
        The W_A estimator.
    combination : Combination or None
        The overall verdict under ``holm`` or ``minp`` (:mod:`fairwash.protocol.combine`);
        ``None`` for the paper's ``any`` (reject if any test rejects).
    """

    battery: BatteryResult
    thresholds: ReferenceThresholds
    provenance: dict[str, Any]
    di_sample: float
    di_full: float
    m: int
    n: int
    features_encoded: int
    w_method: str
    combination: Combination | None = None

    @property
    def passed(self) -> bool:
        """No test rejects (``any``), or the combination does not reject."""
        if self.combination is not None:
            return not self.combination.reject
        return self.battery.passed

    @property
    def rejected_by(self) -> tuple[str, ...]:
        """The tests whose (adjusted) p-value rejects."""
        return self.battery.rejected_by if self.combination is None else self.combination.rejected_by

    @property
    def level(self) -> float:
        return self.thresholds.level

    @property
    def seed(self) -> Any:
        """The seed of the honest draws."""
        return self.thresholds.config.get("random_state")

    @property
    def verdict(self) -> str:
        return "representative" if self.passed else "not_representative"

    @property
    def message(self) -> str:
        """``REPRESENTATIVE: ...`` or ``NOT REPRESENTATIVE: rejected by ...``."""
        c = self.combination
        if c is not None:
            head = f"{c.rule} combination, overall p = {c.p_value:.3g}"
            if self.passed:
                return f"REPRESENTATIVE: {head} > {c.alpha:g} (overall level <= {c.alpha * 100:g} %)"
            return f"NOT REPRESENTATIVE: {head} <= {c.alpha:g}; rejected by {', '.join(c.rejected_by)}"
        if self.passed:
            return f"REPRESENTATIVE: no test rejects at the {(1 - self.level) * 100:g} % level"
        return f"NOT REPRESENTATIVE: rejected by {', '.join(self.battery.rejected_by)}"

    def to_dict(self, inputs: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The ``fairwash check --json`` object (``inputs``: the input report, if any)."""
        r, thr = self.battery, self.thresholds
        out = {
            "verdict": self.verdict, "message": self.message, "passed": self.passed,
            "rejected_by": list(self.rejected_by), "level": self.level,
            "tests": [{"test": t.name, "statistic": t.statistic, "threshold": t.threshold,
                       "p_value": t.p_value, "rejected": t.rejected} for t in r.results],
            "di": {"sample": self.di_sample, "full": self.di_full},
            "sizes": {"n_full": self.n, "m_sample": self.m, "fraction": self.m / self.n,
                      "features_encoded": self.features_encoded},
        }
        if self.combination is not None:
            out["combination"] = self.combination.to_dict()
        if inputs is not None:
            out["inputs"] = dict(inputs)
        out["thresholds"] = {"draws": thr.n_draws, "rule": thr.rule, "seed": self.seed,
                             "w_method": self.w_method, **self.provenance}
        return out


def check_sample(
    full: AuditData,
    sample: AuditData,
    *,
    tests: Sequence[str] = TESTS,
    settings: ThresholdSettings | None = None,
    w_method: str = "exact",
    cache_dir: str | Path | None = None,
    threshold_files: Sequence[str | Path] = (),
    notify: Callable[[str], None] | None = None,
    combine_rule: str = "any",
    workers: int = 1,
) -> CheckReport:
    """Run the battery on ``sample`` against ``full`` (Section 4, eq. 3).

    Parameters
    ----------
    full, sample : AuditData
        The full data and the submitted rows, encoded alike (:func:`fairwash.inputs.prepare`).
    tests : sequence of str
        :data:`~fairwash.catalogue.TESTS` or a subset (e.g. ``NO_MMD``).
    settings : ThresholdSettings, optional
        The honest draws (default: 100 draws, 95 % quantile, seed 0); its ``tests`` are
        replaced by ``tests``.
    w_method : {"exact", "subref", "sliced"}
        The W_A estimator (:class:`~fairwash.detect.context.WassersteinConfig`).
    cache_dir : path, optional
        The threshold cache (``None``: off).
    threshold_files : sequence of paths
        Threshold files to use if one is for ``m`` (a pipeline's reference file).
    notify : callable, optional
        Called with one line before the thresholds are looked up (a progress message).
    combine_rule : {"any", "holm", "minp"}
        How the tests' verdicts make one (:func:`fairwash.protocol.combine.combine`); ``any``
        is the paper's (its overall level is above ``1 - level``).
    workers : int
        Threads for the honest draws (the same thresholds for any number).

    Raises
    ------
    DataError
        If the sample has more rows than the full data, or ``threshold_files`` are
        given and none is for its size.
    ValueError
        If the file for its size was computed on other data or statistic settings.
    """
    m, n = sample.n, full.n
    if m > n:
        raise DataError(f"the sample has {m} rows but the full data only {n}: a sample cannot be larger "
                        "than the data it is drawn from (are --full and --sample swapped?)")
    settings = replace(settings or ThresholdSettings(), tests=tuple(tests))
    ctx = BatteryContext.prepare(full.joint(), w_config=WassersteinConfig(method=w_method))
    if notify is not None and ctx.calibrated(settings.tests):
        notify(f"fairwash: reference thresholds for m = {m}: looking in the cache, else "
               f"{settings.n_draws} honest draws (done once per data set and size)...")
    store = ThresholdStore(ctx, settings, cache_dir=None if cache_dir is None else Path(cache_dir),
                           files=threshold_files, workers=workers)
    if threshold_files and m not in store.given_sizes:
        raise DataError(f"--thresholds: the file(s) are for m = {list(store.given_sizes)}, the sample has "
                        f"{m} rows")
    thr, provenance = store.get(m)
    result = run_battery(None, sample.joint(), thr, tests=settings.tests, context=ctx)
    comb = None if combine_rule == "any" else battery_combination(result, thr, combine_rule)
    return CheckReport(result, thr, provenance, float(disparate_impact(sample.Y_hat, sample.S)),
                       float(disparate_impact(full.Y_hat, full.S)), m, n, full.d, w_method, comb)


def battery_combination(result: BatteryResult, thr: ReferenceThresholds, rule: str) -> Combination:
    """The ``rule`` combination of one battery result (``minp``: on the thresholds' own draws)."""
    p = {r.name: r.p_value for r in result.results}
    stats = {r.name: r.statistic for r in result.results}
    draws = {t: thr.draws[t] for t in p if t in thr.draws}
    alpha = round(1 - thr.level, 12)
    comb = combine(p, rule, alpha, statistics=stats, draws=draws)
    need = math.ceil(len(p) / alpha) - 1  # Holm's first step needs 1 / (N + 1) <= alpha / k
    if rule == "holm" and draws and thr.n_draws < need:
        comb = replace(comb, note=f"{comb.note}; with {thr.n_draws} draws a Monte-Carlo p-value is at least "
                                  f"1/{thr.n_draws + 1}: a calibrated test alone can never reject "
                                  f"(needs --draws {need} or more)")
    return comb
