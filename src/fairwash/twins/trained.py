"""The twin audit of a pipeline-trained model: its audited individuals, its data set's config.

:func:`audit_trained_model` is what the ``counterfactual`` rule runs: it checks that the
model, its predictions and the raw data belong together (the probe must reproduce every
audited decision), finds the column that holds S (:func:`~fairwash.twins.profiles.resolve_sensitive_column`),
reads the data set's ``counterfactual`` config block and calls
:func:`~fairwash.twins.audit.twin_audit` on the audited individuals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairwash.data.base import AuditData, DataError
from fairwash.twins.audit import ROW_COLUMN, TwinAudit, twin_audit
from fairwash.twins.demo import GENDER_LABELS
from fairwash.twins.probe import ModelProbe
from fairwash.twins.profiles import Proxy, proxy_association, proxy_from_dict, resolve_sensitive_column

__all__ = ["SPEC_KEYS", "ModelAudit", "audit_trained_model"]

#: The keys of a data set's ``counterfactual`` config block.
SPEC_KEYS = frozenset(
    {"sensitive_column", "numeric_feature", "feature_range", "unit", "group_labels", "proxies"})


@dataclass(frozen=True)
class ModelAudit:
    """The twin audit of a trained model, with where S came from and what the audit cannot see.

    Attributes
    ----------
    name : str
        The data set.
    audit : TwinAudit
        The audit of the audited individuals (twinned in :attr:`TwinAudit.sensitive_column`).
    s_column : str or None
        The column of X that holds S (None: S is not an input).
    s_source : str
        ``"config"``, ``"detected"`` or ``"absent"`` (:func:`resolve_sensitive_column`).
    association : list of dict
        The inputs most associated with S (:func:`proxy_association`).
    """

    name: str
    audit: TwinAudit
    s_column: str | None
    s_source: str
    association: list[dict[str, Any]]

    @property
    def boundary(self) -> dict[str, Any] | None:
        """The representative profile's boundaries, with its data row, its inputs and the unit."""
        a = self.audit
        if a.boundary is None or a.profile is None:
            return None
        rep = a.base.iloc[a.profile]
        return {
            **a.boundary,
            "profile_row": int(rep[ROW_COLUMN]),
            "profile": {c: float(rep[c]) for c in a.probe.feature_columns if c != a.sensitive_column},
            "unit": a.unit,
        }


def audit_trained_model(
    probe: ModelProbe,
    data: AuditData,
    predictions: pd.DataFrame,
    spec: Mapping[str, Any] | None,
    *,
    name: str,
    tol: float = 1.0,
    files: Mapping[str, str | Path] | None = None,
) -> ModelAudit:
    """Counterfactual twins of every audited individual of a trained pipeline model.

    Parameters
    ----------
    probe : ModelProbe
        The model (:func:`~fairwash.twins.probe.probe_for` of ``results/models/{ds}``).
    data : AuditData
        The raw data set: twins are built in raw units.
    predictions : DataFrame
        ``row``, ``audited``, ``Y_hat``, ``S`` of the model's ``predictions.parquet``: its
        audited rows are twinned, and the probe must reproduce their ``Y_hat``.
    spec : mapping or None
        The data set's ``counterfactual`` block: ``sensitive_column``, ``numeric_feature``,
        ``feature_range`` ([lo, hi], default the data's min and max), ``unit``,
        ``group_labels`` ([S=0, S=1]), ``proxies`` (list of proxy dicts).
    name : str
        The data set, for messages.
    tol : float
        Bisection tolerance of the boundaries, in the numeric feature's units.
    files : mapping, optional
        ``data``, ``predictions`` and ``model`` paths, named in the messages.

    Raises
    ------
    DataError, ValueError
        Unknown config keys, a model input or proxy not in the data, predictions of other
        data, or a probe that does not reproduce the audited decisions.
    """
    spec = dict(spec or {})
    unknown = set(spec) - SPEC_KEYS
    if unknown:
        raise ValueError(
            f"{name}: unknown counterfactual keys {sorted(unknown)} (known: {sorted(SPEC_KEYS)})")
    where = {"data": "the data", "predictions": "the predictions", "model": "the model", **(files or {})}
    missing = [c for c in probe.feature_columns if c not in data.X.columns]
    if missing:
        raise DataError(f"{name}: model inputs {missing} are not columns of {where['data']}")
    rows = _audited_rows(data, predictions, name, where)
    s_col, s_source = resolve_sensitive_column(data, spec)
    twin_col = s_col if s_col is not None else _free_column(data)
    _check_reproduces(probe, data, rows, predictions, s_col, twin_col, name, where["model"])
    proxies = _proxies(spec, data, name)
    feature = spec.get("numeric_feature")
    if feature is not None and feature not in probe.feature_columns:
        raise DataError(f"{name}: counterfactual.numeric_feature {feature!r} is not a model input "
                        f"({list(probe.feature_columns)})")
    lo, hi = (float(v) for v in spec["feature_range"]) if spec.get("feature_range") else (None, None)
    audit = twin_audit(probe, data.X, twin_col, rows=rows, numeric_feature=feature, lo=lo, hi=hi,
                       proxies=proxies, labels=_labels(spec, s_col, twin_col), tol=tol,
                       unit=str(spec.get("unit") or "raw units"))
    association = proxy_association(data.X.iloc[rows].drop(columns=[c for c in [s_col] if c]), data.S[rows])
    return ModelAudit(name, audit, s_col, s_source, association)


def _audited_rows(data: AuditData, predictions: pd.DataFrame, name: str,
                  where: Mapping[str, Any]) -> np.ndarray:
    """Data-row positions of the audited individuals, checked against the data's S."""
    audited = predictions[predictions["audited"].to_numpy(bool)]
    rows = audited["row"].to_numpy(np.int64)
    if rows.size == 0 or rows.max() >= data.n:
        raise DataError(
            f"{name}: {where['predictions']} has no audited rows or rows beyond the data ({data.n})")
    if not np.array_equal(audited["S"].to_numpy(), data.S[rows]):
        raise DataError(f"{name}: S of {where['predictions']} does not match {where['data']}")
    return rows


def _free_column(data: AuditData) -> str:
    """S is not in X: the twins still carry it, in a column the model never reads."""
    col = str(data.meta.get("sensitive_attribute") or "S")
    while col in data.X.columns:
        col = "_" + col
    return col


def _labels(spec: Mapping[str, Any], s_col: str | None, twin_col: str) -> dict[int, str]:
    """The groups' names: the config's ``group_labels``, female / male for ``gender_male``, else ``col=v``."""
    if spec.get("group_labels"):
        return {0: str(spec["group_labels"][0]), 1: str(spec["group_labels"][1])}
    if s_col == "gender_male":
        return dict(GENDER_LABELS)
    return {0: f"{twin_col}=0", 1: f"{twin_col}=1"}


def _check_reproduces(probe: ModelProbe, data: AuditData, rows: np.ndarray, predictions: pd.DataFrame,
                      s_col: str | None, twin_col: str, name: str, model: Any) -> None:
    """The probe must give every audited individual the model's recorded decision."""
    own = data.X.iloc[rows].reset_index(drop=True)
    if s_col is None:
        own[twin_col] = data.S[rows]
    reproduced = probe.decide(own)
    recorded = predictions[predictions["audited"].to_numpy(bool)]["Y_hat"].to_numpy()
    mismatch = int(np.sum(reproduced != recorded))
    if mismatch:
        raise ValueError(
            f"{name}: the probe of {model} gives {mismatch} of {rows.size} audited individuals a "
            "decision different from the model's predictions: model, standardiser or column order do not "
            "match the data"
        )


def _proxies(spec: Mapping[str, Any], data: AuditData, name: str) -> list[Proxy]:
    """The config's proxies, each column checked to be a column of X."""
    proxies: list[Proxy] = [proxy_from_dict(p) for p in spec.get("proxies") or []]
    for p in proxies:
        bad = [c for c in p.columns if c not in data.X.columns]
        if bad:
            raise DataError(
                f"{name}: proxy columns {bad} are not columns of X (columns: {list(data.X.columns)})")
    return proxies
