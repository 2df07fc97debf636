r"""How much room a sample size leaves for undetected fairwashing (``fairwash risk``).

Two questions an authority asks of its own data. First, instantly, from the optimal
protocol's cap (exact, no simulation):

* :func:`cap_at_fraction` — the highest DI a sample of ``m`` rows can show and pass the
  optimal protocol (:func:`fairwash.detect.optimal.optimal_cap`: no attack, however clever,
  does better);
* :func:`size_for_target` — the smallest ``m`` from which on no sample passing it shows
  ``DI >= target`` (:func:`fairwash.detect.dilaw.recommended_sample_size`).

Then, with the paper's protocol and its attacks (``fairwash risk --simulate``):

* :func:`risk_at_fraction` — the fairest DI an auditee could submit at one sample size
  with each attack while passing every test (Table 3's search, levels from 1.0 down by
  ``step``);
* :func:`risk_for_target` — the smallest studied fraction at which no attack reaches a
  target DI undetected (Fig. 8's study at the single level ``target``, then
  :func:`~fairwash.protocol.sample_size.smallest_safe_fraction`).

Both run :func:`fairwash.protocol.sample_size.fairest_by_fraction`, the loop of the
pipeline's Fig. 8, with thresholds from a
:class:`~fairwash.protocol.thresholds.ThresholdStore`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from fairwash.catalogue import METHOD_SPECS, sample_size
from fairwash.data.base import AuditData
from fairwash.detect.dilaw import DIQuantile, SampleSize, cell_counts, di_quantile, recommended_sample_size
from fairwash.fairness import disparate_impact
from fairwash.protocol.fairest import FairestResult
from fairwash.protocol.sample_size import SafeFraction, fairest_by_fraction, smallest_safe_fraction
from fairwash.protocol.thresholds import ThresholdStore

__all__ = ["CapRisk", "cap_at_fraction", "size_for_target", "method_summary", "FractionRisk",
           "risk_at_fraction", "TargetRisk", "risk_for_target"]


@dataclass(frozen=True)
class CapRisk:
    """The optimal protocol's answer: the cap at one ``m`` or the recommended ``m`` for a target."""

    mode: str
    n: int
    di_full: float
    alpha: float
    fraction: float | None = None
    m: int | None = None
    cap: DIQuantile | None = None
    target: float | None = None
    size: SampleSize | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"protocol": "optimal", "alpha": self.alpha}
        if self.cap is not None:
            out["cap"] = self.cap.to_dict()
        if self.size is not None:
            out["recommended_sample_size"] = self.size.to_dict()
        return out


def _cells(data: AuditData) -> Any:
    return cell_counts(data.S, data.require_y_hat())


def cap_at_fraction(data: AuditData, fraction: float, alpha: float = 0.05) -> CapRisk:
    """The optimal protocol's cap at ``m = sample_size(fraction, n)``: exact, no simulation."""
    m = sample_size(fraction, data.n)
    di0 = float(disparate_impact(data.require_y_hat(), data.S))
    return CapRisk("fraction", data.n, di0, alpha, fraction=float(fraction), m=m,
                   cap=di_quantile(_cells(data), m, alpha))


def size_for_target(data: AuditData, target: float, alpha: float = 0.05) -> CapRisk:
    """The smallest ``m`` from which on no sample passing the optimal protocol shows ``DI >= target``."""
    di0 = float(disparate_impact(data.require_y_hat(), data.S))
    return CapRisk("target", data.n, di0, alpha, target=float(target),
                   size=recommended_sample_size(_cells(data), target, alpha))


def _options(method: str, m: int) -> dict[str, Any] | None:
    """Each attack's options at size ``m``: SBS caps its weights for the size (else none)."""
    return {"m": m} if METHOD_SPECS[method].family == "SBS" else None


def method_summary(r: FairestResult) -> dict[str, Any]:
    """One attack's search: best DI, its level, levels searched, samples tested, failed levels."""
    searched = [lv for lv in r.levels if lv["status"] == "searched"]
    return {"di": r.best_di, "level": r.level_found, "levels_searched": len(searched),
            "samples_tested": r.n_battery,
            "failed_levels": [lv["level"] for lv in r.levels if lv["status"] == "method_failed"]}


def _search(data: AuditData, methods: Sequence[str], fractions: Sequence[float], store: ThresholdStore, *,
            start: float, step: float, n_samples: int, seed: int) -> dict[float, dict[str, FairestResult]]:
    found = fairest_by_fraction(
        data, list(dict.fromkeys(methods)), fractions, thresholds=lambda m: store.get(m)[0], start=start,
        step=step, n_samples=n_samples, tests=store.settings.tests, random_state=seed, context=store.context,
        options=_options)
    by_fraction: dict[float, dict[str, FairestResult]] = {float(f): {} for f in fractions}
    for s in found:
        by_fraction[s.fraction][s.method] = s.result
    return by_fraction


@dataclass
class FractionRisk:
    """The fairest undetected DI of each attack at one sample size.

    Attributes
    ----------
    fraction, m, n : sample fraction, its size, the full data's size
    di_full : float
    results : dict[str, FairestResult]
        Per attack, in the order asked.
    thresholds : dict
        Where the thresholds came from (:attr:`ThresholdStore.provenance`).
    """

    fraction: float
    m: int
    n: int
    di_full: float
    results: dict[str, FairestResult]
    thresholds: dict[str, Any]

    @property
    def fairest(self) -> tuple[float, str] | None:
        """The highest undetected DI and its attack (ties: the last name), ``None`` if none."""
        found = [(r.best_di, mth) for mth, r in self.results.items() if r.best_di is not None]
        return max(found) if found else None

    def to_dict(self, inputs: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The ``fairwash risk --fraction --json`` object (``inputs``: the input report)."""
        top = self.fairest
        out = {"mode": "fraction", "fraction": self.fraction, "m": self.m, "n": self.n,
               "di_full": self.di_full,
               "methods": {mth: method_summary(r) for mth, r in self.results.items()},
               "fairest_undetected": None if top is None else {"di": top[0], "method": top[1]}}
        if inputs is not None:
            out["inputs"] = dict(inputs)
        return out | {"thresholds": self.thresholds}


def risk_at_fraction(data: AuditData, fraction: float, *, methods: Sequence[str], store: ThresholdStore,
                     n_samples: int, step: float = 0.05, seed: int = 0) -> FractionRisk:
    """The fairest undetected DI of each attack at ``m = sample_size(fraction, n)`` (Table 3).

    Levels from 1.0 down by ``step`` to the full data's DI, ``n_samples`` samples per
    level, the battery of ``store.settings.tests``; ``seed`` seeds the attacks and the
    sample streams.
    """
    res = _search(data, methods, [fraction], store, start=1.0, step=step, n_samples=n_samples, seed=seed)
    by_method = res[float(fraction)]
    m = next(iter(by_method.values())).m
    return FractionRisk(float(fraction), m, data.n, float(disparate_impact(data.require_y_hat(), data.S)),
                        by_method, store.provenance[m])


@dataclass
class TargetRisk:
    """Which studied sample fractions still let an attack show DI > ``target`` undetected.

    Attributes
    ----------
    fractions : list of dict
        Per fraction (ascending): ``fraction``, ``m``, ``evaded_by`` (attacks with an
        undetected sample above ``target``), ``best_di`` (uncapped), ``methods``.
    safe : SafeFraction
    """

    target: float
    n: int
    di_full: float
    fractions: list[dict[str, Any]]
    safe: SafeFraction

    def to_dict(self, inputs: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The ``fairwash risk --target --json`` object (``inputs``: the input report)."""
        s = self.safe
        out = {"mode": "target", "target": self.target, "n": self.n, "di_full": self.di_full,
               "fractions": self.fractions,
               "smallest_safe_fraction": {"fraction": s.fraction, "m": s.m, "status": s.status,
                                          "message": s.message}}
        if inputs is not None:
            out["inputs"] = dict(inputs)
        return out


def risk_for_target(data: AuditData, target: float, fractions: Sequence[float], *, methods: Sequence[str],
                    store: ThresholdStore, n_samples: int, seed: int = 0) -> TargetRisk:
    """The smallest studied fraction from which on no attack reaches ``target`` undetected (Fig. 8).

    Each fraction is searched at the single level ``target`` (start = step = target: the
    next level, 0, is not above the full data's DI); see
    :func:`~fairwash.protocol.sample_size.smallest_safe_fraction`.

    Raises
    ------
    ValueError
        If ``target`` is not above the full data's DI.
    """
    target = float(target)
    di0 = float(disparate_impact(data.require_y_hat(), data.S))
    if target <= di0:
        raise ValueError(f"target {target:g} is not above the full data's DI ({di0:.3f}): nothing to hide")
    res = _search(data, methods, sorted(set(fractions)), store, start=target, step=target,
                  n_samples=n_samples, seed=seed)
    rows, study = [], []
    for fr, by_method in res.items():
        m = next(iter(by_method.values())).m
        hits = {mth: r.best_di_raw for mth, r in by_method.items() if r.best_di is not None}
        rows.append({"fraction": fr, "m": m, "evaded_by": sorted(hits),
                     "best_di": max(hits.values()) if hits else None,
                     "methods": {mth: method_summary(r) for mth, r in by_method.items()}})
        study += [{"method": mth, "fraction": fr, "m": m,
                   "fairest_di": math.nan if r.best_di_raw is None else r.best_di_raw}
                  for mth, r in by_method.items()]
    safe = smallest_safe_fraction(pd.DataFrame(study), target=target)
    return TargetRisk(target, data.n, di0, rows, safe)
