"""The twin audit of a model on data rows: the one function the CLI and the pipeline call.

:func:`twin_audit` takes a model probe, the data rows and the sensitive column; it twins
the chosen rows (a seeded draw of ``n_profiles`` rows, or given positions) across S,
counts the flips with the proxies held fixed (and flipped with S, when proxies are
named), and, along an optional numeric feature, finds the decision boundary of both
twins of one profile and of every profile.  It returns a :class:`TwinAudit`, which
holds everything ``fairwash twins`` prints and the pipeline stage writes.

Its two callers check their inputs first, once, at their boundary:

* :func:`audit_model_file` (``fairwash twins --model --data``): a model of any kind
  (:func:`~fairwash.twins.load.load_probe`: the pipeline's, an ONNX or skops file, a
  callable, an HTTP endpoint) and a data file, checked column by column;
* :func:`fairwash.twins.trained.audit_trained_model` (the ``counterfactual`` rule): the
  pipeline's model of a data set, its audited individuals and the data set's
  ``counterfactual`` config;

and :func:`demo_twin_audit` gives the article's demo (:func:`fairwash.twins.demo.run_demo`)
the same shape.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairwash.data.base import DataError
from fairwash.inputs import check_columns, read_table
from fairwash.twins.boundaries import approval_curves, income_boundary, profile_boundaries
from fairwash.twins.demo import DEMO_FEATURES, GENDER_LABELS, DemoRun, run_demo
from fairwash.twins.load import load_probe, model_kind
from fairwash.twins.measures import CounterfactualResult, counterfactual_audit
from fairwash.twins.probe import ModelProbe
from fairwash.twins.probes_http import EndpointOptions
from fairwash.twins.profiles import BASE_INCOME_RANGE, Proxy, representative_profile

__all__ = [
    "ROW_COLUMN",
    "TwinAudit",
    "twin_audit",
    "boundary_summary",
    "check_twin_inputs",
    "audit_model_file",
    "demo_twin_audit",
]

#: The id column of the base profiles: the row position of each profile in the data.
ROW_COLUMN = "data_row"


@dataclass(frozen=True)
class TwinAudit:
    """The outcome of :func:`twin_audit`: the flips both ways, the boundaries, what was twinned.

    Attributes
    ----------
    probe : ModelProbe
        The audited model.
    base : DataFrame
        The twinned profiles (``data_row`` first when drawn from data rows).
    sensitive_column : str
        The column flipped between the twins.
    values, labels
        The two values of S (disadvantaged first) and their names.
    proxies : tuple of Proxy
        The proxies named (flipped in ``flipped``, held fixed in ``fixed``).
    fixed, flipped : CounterfactualResult
        The audit with the proxies held fixed, and flipped with S (None without proxies).
    primary_flipped : bool
        Whether ``flipped`` is the audit shown: S is not a column of the data and
        proxies are named (held fixed, the flip rate would be 0 by construction).
    feature, lo, hi, unit
        The numeric feature of the boundaries, its search range and unit (None without).
    boundary : dict, optional
        :func:`~fairwash.twins.boundaries.income_boundary` of the profile ``profile``.
    profile : int, optional
        Position in ``base`` of the profile whose twins' boundaries are in ``boundary``.
    boundary_profiles : dict, optional
        :func:`boundary_summary` of every profile's boundaries.
    """

    probe: ModelProbe
    base: pd.DataFrame
    sensitive_column: str
    values: tuple[Any, Any]
    labels: dict[Any, str]
    proxies: tuple[Proxy, ...]
    fixed: CounterfactualResult
    flipped: CounterfactualResult | None = None
    primary_flipped: bool = False
    feature: str | None = None
    lo: float | None = None
    hi: float | None = None
    unit: str = "raw units"
    boundary: dict[str, Any] | None = None
    profile: int | None = None
    boundary_profiles: dict[str, Any] | None = None

    @property
    def primary(self) -> CounterfactualResult:
        """The audit shown: ``flipped`` when :attr:`primary_flipped`, else ``fixed``."""
        return self.flipped if self.primary_flipped and self.flipped is not None else self.fixed

    @property
    def primary_name(self) -> str:
        return "proxies_flipped" if self.primary is self.flipped else "proxies_fixed"

    @property
    def primary_proxies(self) -> tuple[Proxy, ...]:
        """The proxies flipped in the primary audit (its boundaries and curves too)."""
        return self.proxies if self.primary is self.flipped else ()

    @property
    def result(self) -> CounterfactualResult:
        """The primary audit with the profile's ``boundary`` attached (what ``fairwash twins`` prints)."""
        return dataclasses.replace(self.primary, boundary=self.boundary)

    def curves(self, n_grid: int) -> pd.DataFrame:
        """Both twins' approval along ``n_grid`` values of :attr:`feature` over ``[lo, hi]``, one profile."""
        if self.feature is None or self.profile is None:
            raise DataError("--plot draws approval curves along --numeric-feature; give it too")
        return approval_curves(self.probe, self.base.iloc[self.profile], self.feature,
                               np.linspace(self.lo, self.hi, n_grid), s_column=self.sensitive_column,
                               values=self.values, proxies=self.primary_proxies)


def twin_audit(
    probe: ModelProbe | Any,
    data: pd.DataFrame,
    sensitive_column: str,
    *,
    values: tuple[Any, Any] = (0, 1),
    rows: Sequence[int] | np.ndarray | None = None,
    n_profiles: int = 1000,
    seed: int = 0,
    numeric_feature: str | None = None,
    lo: float | None = None,
    hi: float | None = None,
    proxies: Sequence[Proxy] = (),
    labels: Mapping[Any, str] | None = None,
    tol: float | None = None,
    boundary_profile: int | None = None,
    unit: str = "raw units",
) -> TwinAudit:
    """Twin data rows across S, count the flips, and find the boundaries along a numeric feature.

    Parameters
    ----------
    probe : ModelProbe or any model
        The audited model: a probe (:func:`~fairwash.twins.load.load_probe` of a file,
        a callable or an endpoint), or a fitted model with ``feature_names_in_``, or
        whatever else :func:`~fairwash.twins.load.load_probe` takes without options.
    data : DataFrame
        Rows in raw units with the model's inputs (checked by the caller).
    sensitive_column : str
        The column flipped; it need not be a column of ``data`` (then the twins carry it
        in a column the model never reads, and only flipped proxies can flip a pair).
    values : (int, int)
        The two values of S, disadvantaged group first.
    rows : sequence of int, optional
        Positions of the rows to twin; default: ``min(n_profiles, len(data))`` rows drawn
        without replacement by ``numpy.random.default_rng(seed)``, sorted.
    numeric_feature : str, optional
        A model input along which the boundaries are found, over ``[lo, hi]`` (default:
        its minimum and maximum in ``data``) to ``tol`` (default ``max((hi - lo) 1e-5, 1e-9)``).
    proxies : sequence of OneHotProxy or ValueProxy
        Columns that encode S: the audit is then run both ways.
    labels : mapping {value: str}, optional
        Names of the two groups (default ``"{sensitive_column}={value}"``).
    boundary_profile : int, optional
        Position (in the twinned rows) of the profile of :attr:`TwinAudit.boundary`;
        default the row nearest the median (:func:`~fairwash.twins.profiles.representative_profile`).
    unit : str
        The unit of the numeric feature, for the figures.

    Returns
    -------
    TwinAudit
    """
    probe = load_probe(probe)
    names = list(probe.feature_columns)
    if rows is None:
        n_prof = min(n_profiles, len(data))
        rows = np.sort(np.random.default_rng(seed).choice(len(data), size=n_prof, replace=False))
    rows = np.asarray(rows, dtype=np.int64)
    extra = [sensitive_column] if sensitive_column in data.columns else []
    cols = list(dict.fromkeys([*names, *extra, *(c for p in proxies for c in p.columns)]))
    base = data.iloc[rows][cols].reset_index(drop=True)
    base.insert(0, ROW_COLUMN, rows)
    names_of = dict(labels) if labels else {v: f"{sensitive_column}={v}" for v in values}
    kw: dict[str, Any] = {"values": values, "id_column": ROW_COLUMN}
    fixed = counterfactual_audit(probe, base, sensitive_column, **kw)
    flipped = counterfactual_audit(probe, base, sensitive_column, proxies=proxies, **kw) if proxies else None
    audit = TwinAudit(probe, base, sensitive_column, (values[0], values[1]), names_of, tuple(proxies), fixed,
                      flipped, primary_flipped=bool(proxies) and not extra, unit=unit)
    if numeric_feature is None:
        return audit
    lo = float(data[numeric_feature].min()) if lo is None else float(lo)
    hi = float(data[numeric_feature].max()) if hi is None else float(hi)
    tol = max((hi - lo) * 1e-5, 1e-9) if tol is None else float(tol)
    if boundary_profile is None:
        boundary_profile = representative_profile(base[names], exclude=(numeric_feature, sensitive_column))
    return _with_boundaries(audit, numeric_feature, lo, hi, tol, int(boundary_profile))


def _with_boundaries(audit: TwinAudit, feature: str, lo: float, hi: float, tol: float,
                     profile: int) -> TwinAudit:
    """``audit`` with the boundaries along ``feature``: of the twins of ``profile``, and of every profile."""
    kw: dict[str, Any] = {"s_column": audit.sensitive_column, "values": audit.values,
                          "proxies": audit.primary_proxies, "tol": tol}
    boundary = income_boundary(audit.probe, audit.base.iloc[profile], feature, lo, hi, labels=audit.labels,
                               **kw)
    table = profile_boundaries(audit.probe, audit.base, feature, lo, hi, **kw)
    return dataclasses.replace(audit, feature=feature, lo=lo, hi=hi, boundary=boundary, profile=profile,
                               boundary_profiles=boundary_summary(table))


def boundary_summary(table: pd.DataFrame) -> dict[str, Any]:
    """Quantiles of every profile's boundaries and gaps (a :func:`profile_boundaries` table)."""
    both = table.dropna(subset=["gap"])
    gap = both["gap"].to_numpy()

    def q(a: np.ndarray, p: float) -> float | None:
        return float(np.quantile(a, p)) if a.size else None

    return {
        "n_profiles": int(len(table)),
        "n_with_both_boundaries": int(len(both)),
        "median_boundary_s0": q(table["boundary_s0"].dropna().to_numpy(), 0.5),
        "median_boundary_s1": q(table["boundary_s1"].dropna().to_numpy(), 0.5),
        "gap_median": q(gap, 0.5),
        "gap_mean": float(gap.mean()) if gap.size else None,
        "gap_q05": q(gap, 0.05),
        "gap_q95": q(gap, 0.95),
        "status_s0": {str(k): int(v) for k, v in table["status_s0"].value_counts().items()},
        "status_s1": {str(k): int(v) for k, v in table["status_s1"].value_counts().items()},
    }


# --------------------------------------------------------------------------- fairwash twins


def check_twin_inputs(data: pd.DataFrame, names: Sequence[str], sensitive_column: str,
                      numeric_feature: str | None, where: str) -> None:
    """Check a data file for the twin audit: the model's inputs present, complete and numeric.

    Raises
    ------
    DataError
        Naming ``where``, the column and what is wrong with it.
    """
    names = list(names)
    check_columns(data, names, "model input", where)
    if sensitive_column not in names and sensitive_column not in data.columns:
        check_columns(data, [sensitive_column], "sensitive", where)
    miss = {c: int(k) for c, k in data[names].isna().sum().items() if k}
    if miss:
        raise DataError(f"{where}: missing values in model input column(s) {miss}; drop or fix those rows")
    non_num = [c for c in names if not np.issubdtype(data[c].dtype, np.number) and data[c].dtype != bool]
    if non_num:
        raise DataError(f"{where}: model input column(s) {non_num} are not numeric; the model takes the "
                        "encoded columns it was trained on")
    if numeric_feature and numeric_feature not in names:
        check_columns(data[names], [numeric_feature], "numeric feature (model input)", where)


def audit_model_file(
    model: str | Path | Any,
    data_file: str | Path,
    sensitive_column: str,
    *,
    kind: str | None = None,
    feature_columns: Sequence[str] | None = None,
    threshold: float | None = None,
    trust: Iterable[str] = (),
    onnx_output: str | None = None,
    endpoint: EndpointOptions | None = None,
    values: tuple[Any, Any] = (0, 1),
    n_profiles: int = 1000,
    seed: int = 0,
    numeric_feature: str | None = None,
    lo: float | None = None,
    hi: float | None = None,
) -> TwinAudit:
    """``fairwash twins --model MODEL --data FILE``: the twin audit of a model of any kind on a data file.

    The file is read by :func:`fairwash.inputs.read_table`; the model by
    :func:`~fairwash.twins.load.load_probe` (``kind``, ``feature_columns``, ``threshold``,
    ``trust``, ``onnx_output`` and ``endpoint`` are its options; a callable and an endpoint
    take every column of the file unless ``feature_columns`` names them); the inputs are
    checked by :func:`check_twin_inputs`.  The audit is :func:`twin_audit` of
    ``n_profiles`` rows drawn with ``seed``, its boundaries those of the first drawn
    profile, in the units of the data file.  An endpoint's queries are
    ``audit.probe.queries``.
    """
    data = read_table(data_file)
    if feature_columns is None and (kind or _kind_of(model)) in ("callable", "http"):
        feature_columns = [str(c) for c in data.columns]
    probe = load_probe(model, kind, feature_columns=feature_columns, threshold=threshold, trust=trust,
                       onnx_output=onnx_output, endpoint=endpoint)
    check_twin_inputs(data, probe.feature_columns, sensitive_column, numeric_feature, f"data {data_file}")
    return twin_audit(probe, data, sensitive_column, values=values, n_profiles=n_profiles, seed=seed,
                      numeric_feature=numeric_feature or None, lo=lo, hi=hi, boundary_profile=0,
                      unit="units of the data file")


def _kind_of(model: Any) -> str | None:
    """The kind of a model named by a string or path (None for an object)."""
    return model_kind(model) if isinstance(model, str | Path) else None


def demo_twin_audit(run: DemoRun | None = None, *, random_state: int = 0) -> TwinAudit:
    """The article's demo (:func:`~fairwash.twins.demo.run_demo`, or ``run``) as a :class:`TwinAudit`."""
    run = run_demo(random_state=random_state) if run is None else run
    lo, hi = BASE_INCOME_RANGE
    return TwinAudit(ModelProbe.of(run.model, DEMO_FEATURES), run.profiles, "gender_male", (0, 1),
                     dict(GENDER_LABELS), (), run.result, feature="income", lo=lo, hi=hi,
                     unit="currency units per year", boundary=run.result.boundary, profile=0)
