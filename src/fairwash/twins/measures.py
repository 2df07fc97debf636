"""The twin audit's measures: the flip rate, its confidence interval, both ways with proxies.

:func:`counterfactual_audit` twins every base profile across S, asks the model probe for
both twins' decisions and counts the pairs that differ (:class:`CounterfactualResult`);
:func:`audit_both_ways` runs it with the proxies held fixed and flipped with S.
Decision boundaries along a numeric feature are in :mod:`fairwash.twins.boundaries`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from fairwash.io import to_jsonable
from fairwash.twins.probe import ModelProbe
from fairwash.twins.profiles import Proxy, make_twins

__all__ = ["flip_rate_ci", "CounterfactualResult", "counterfactual_audit", "audit_both_ways"]



def flip_rate_ci(k: int, n: int, confidence: float = 0.95, method: str = "exact") -> tuple[float, float]:
    """Confidence interval of a binomial proportion ``k / n`` (the flip rate).

    ``method="exact"`` is Clopper–Pearson (coverage at least ``confidence`` for
    every true rate), ``"wilson"`` the Wilson score interval; both from
    :meth:`scipy.stats.binomtest.proportion_ci`.
    """
    if not (0 <= k <= n and n >= 1):
        raise ValueError(f"need 0 <= k <= n and n >= 1, got k={k}, n={n}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=confidence, method=method)
    return float(ci.low), float(ci.high)


@dataclass(frozen=True)
class CounterfactualResult:
    """The outcome of a counterfactual-twin audit.

    Attributes
    ----------
    n_pairs : int
        Number of twin pairs.
    n_flips : int
        Pairs whose two twins get different decisions.
    flip_rate : float
        ``n_flips / n_pairs``.
    ci : (float, float)
        Confidence interval of the flip rate (``ci_method``, ``confidence``).
    flips_favouring_s1, flips_favouring_s0 : int
        Flips where only the ``S = 1`` (resp. ``S = 0``) twin is approved.
    pairs : DataFrame
        One row per pair: ``id``, ``decision_s0``, ``decision_s1``,
        ``proba_s0``, ``proba_s1``, ``flip`` (``"none"``, ``"favours_s1"``,
        ``"favours_s0"``).
    sensitive_column : str
        The column flipped.
    sensitive_is_input : bool
        Whether ``sensitive_column`` is an input of the model.  If not, flips can
        only come from flipped proxies.
    flipped_columns, held_fixed : tuple of str
        Model inputs changed between the twins, and those held identical.
    proxies : tuple of dict
        The proxies flipped with S (empty if held fixed).
    boundary : dict, optional
        Output of :func:`income_boundary` for a representative profile.
    notes : tuple of str
        Plain-language caveats (what the audit cannot see).
    """

    n_pairs: int
    n_flips: int
    flip_rate: float
    ci: tuple[float, float]
    flips_favouring_s1: int
    flips_favouring_s0: int
    pairs: pd.DataFrame
    sensitive_column: str
    sensitive_is_input: bool
    flipped_columns: tuple[str, ...]
    held_fixed: tuple[str, ...]
    proxies: tuple[dict[str, Any], ...] = ()
    values: tuple[int, int] = (0, 1)
    confidence: float = 0.95
    ci_method: str = "exact"
    boundary: dict[str, Any] | None = None
    notes: tuple[str, ...] = field(default=())

    def to_dict(self, include_pairs: bool = False) -> dict[str, Any]:
        """JSON-able summary (``include_pairs`` adds the per-pair table as records)."""
        out: dict[str, Any] = {
            "n_pairs": self.n_pairs,
            "n_flips": self.n_flips,
            "flip_rate": self.flip_rate,
            "ci": list(self.ci),
            "confidence": self.confidence,
            "ci_method": self.ci_method,
            "flips_favouring_s1": self.flips_favouring_s1,
            "flips_favouring_s0": self.flips_favouring_s0,
            "sensitive_column": self.sensitive_column,
            "values": list(self.values),
            "sensitive_is_input": self.sensitive_is_input,
            "flipped_columns": list(self.flipped_columns),
            "held_fixed": list(self.held_fixed),
            "proxies": list(self.proxies),
            "boundary": self.boundary,
            "notes": list(self.notes),
        }
        if include_pairs:
            out["pairs"] = self.pairs.to_dict(orient="records")
        return to_jsonable(out)


def counterfactual_audit(
    model: Any,
    base: pd.DataFrame,
    sensitive_column: str,
    *,
    feature_columns: Sequence[str] | None = None,
    transform: Callable[[np.ndarray], Any] | None = None,
    values: tuple[int, int] = (0, 1),
    id_column: str | None = None,
    proxies: Sequence[Proxy] = (),
    confidence: float = 0.95,
    ci_method: str = "exact",
    boundary: dict[str, Any] | None = None,
) -> CounterfactualResult:
    """Twin every profile of ``base`` across S and compare the model's decisions.

    The flip rate is the share of pairs with different decisions,

    .. math:: \\hat f = \\frac1n \\sum_{i=1}^n \\mathbb 1\\{h(x_i, s_0) \\ne h(x_i, s_1)\\},

    with an exact (Clopper–Pearson) or Wilson confidence interval; each flip is
    classified by the group it favours.

    Parameters
    ----------
    model : Classifier or ModelProbe
        The audited model (see :class:`ModelProbe`).
    base : DataFrame
        Profiles to twin: generated base profiles, or the audited individuals
        themselves (their own S is overwritten in both twins).
    sensitive_column : str
        The column holding S.  It need not be a model input: if it is not, the
        result says so and flips can only come from flipped ``proxies``.
    feature_columns, transform
        Passed to :meth:`ModelProbe.of`.
    values : (int, int)
        S of the disadvantaged group first.
    id_column : str, optional
        Column used as the pair id (default: the row position).
    proxies : sequence of OneHotProxy or ValueProxy
        Columns that encode S and are flipped with it; empty = held fixed.
    confidence, ci_method
        Passed to :func:`flip_rate_ci`.
    boundary : dict, optional
        A precomputed :func:`income_boundary` result to attach.

    Returns
    -------
    CounterfactualResult
    """
    probe = ModelProbe.of(model, feature_columns, transform)
    twins = make_twins(base, sensitive_column, values=values, id_column=id_column, proxies=proxies)
    ids = base[id_column].to_numpy() if id_column is not None else np.arange(len(base))
    pairs = _pairs_table(probe, twins, ids)
    n = len(pairs)
    n_fav1 = int((pairs["flip"] == "favours_s1").sum())
    n_fav0 = int((pairs["flip"] == "favours_s0").sum())
    k = n_fav1 + n_fav0
    inputs = probe.feature_columns
    proxy_cols = {c for p in proxies for c in p.columns}
    flipped = tuple(c for c in inputs if c == sensitive_column or c in proxy_cols)
    s_input = sensitive_column in inputs
    return CounterfactualResult(
        n_pairs=n,
        n_flips=k,
        flip_rate=k / n,
        ci=flip_rate_ci(k, n, confidence, ci_method),
        flips_favouring_s1=n_fav1,
        flips_favouring_s0=n_fav0,
        pairs=pairs,
        sensitive_column=sensitive_column,
        sensitive_is_input=s_input,
        flipped_columns=flipped,
        held_fixed=tuple(c for c in inputs if c not in flipped),
        proxies=tuple(p.to_dict() for p in proxies),
        values=(values[0], values[1]),
        confidence=confidence,
        ci_method=ci_method,
        boundary=boundary,
        notes=_audit_notes(sensitive_column, s_input, sorted(proxy_cols)),
    )


def _pairs_table(probe: ModelProbe, twins: pd.DataFrame, ids: np.ndarray) -> pd.DataFrame:
    """One row per pair: both twins' decisions and probabilities, and which group a flip favours."""
    decisions = probe.decide(twins)
    probas = probe.proba(twins)
    d0, d1 = decisions[0::2], decisions[1::2]
    fav1 = (d1 == 1) & (d0 == 0)
    fav0 = (d0 == 1) & (d1 == 0)
    return pd.DataFrame(
        {
            "id": ids,
            "decision_s0": d0,
            "decision_s1": d1,
            "proba_s0": probas[0::2],
            "proba_s1": probas[1::2],
            "flip": np.select([fav1, fav0], ["favours_s1", "favours_s0"], "none"),
        }
    )


def _audit_notes(sensitive_column: str, s_input: bool, proxy_columns: Sequence[str]) -> tuple[str, ...]:
    """The plain-language caveats of one audit: what it measures, and what it cannot see."""
    notes: list[str] = []
    if not s_input:
        notes.append(
            f"{sensitive_column!r} is not an input of the model; the counterfactual audit measures only "
            "direct use of S, so with proxies held fixed the flip rate is 0 by construction."
        )
    if proxy_columns:
        notes.append(
            "proxy columns " + ", ".join(proxy_columns) + " were flipped together with S; the flip "
            "rate includes discrimination through them."
        )
    else:
        notes.append(
            "every column other than S was held fixed: the flip rate measures direct use of S only, "
            "not discrimination through correlated features (proxies)."
        )
    return tuple(notes)


def audit_both_ways(
    model: Any,
    base: pd.DataFrame,
    sensitive_column: str,
    proxies: Sequence[Proxy],
    **kwargs: Any,
) -> dict[str, CounterfactualResult]:
    """The audit with the proxy columns held fixed and with them flipped together with S.

    Returns ``{"proxies_fixed": ..., "proxies_flipped": ...}``.  The first
    measures direct use of S; the difference between the two is what the model
    does through the named proxies.
    """
    if not proxies:
        raise ValueError("audit_both_ways needs at least one proxy; use counterfactual_audit otherwise")
    return {
        "proxies_fixed": counterfactual_audit(model, base, sensitive_column, proxies=(), **kwargs),
        "proxies_flipped": counterfactual_audit(model, base, sensitive_column, proxies=proxies, **kwargs),
    }


