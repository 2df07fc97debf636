"""The one data type every source yields: :class:`AuditData`.

An audit works on individuals ``(x_i, s_i, y_i)`` and, once a model has been
applied, their decisions ``ŷ_i``.  Every loader (UCI Adult, Folktables ACS, Bank
Account Fraud, the authors' published audited sets, the synthetic generators)
returns this type, and every later stage (model, attacks, tests) consumes it.

Conventions
-----------
* ``X`` is a :class:`pandas.DataFrame` of float64 columns: numeric features as
  they are, categorical features one-hot encoded (0/1) or as integer codes.
* ``S`` is the binary sensitive attribute, ``int8``, with **0 the disadvantaged
  group** (paper, Section 2.1).
* ``Y`` is the true label (``int8`` 0/1) or ``None`` where the source has none
  (the authors' audited sets).
* ``Y_hat`` is the audited model's decision (``int8`` 0/1) or ``None`` before a
  model has been applied.
* ``features`` records each column's kind and observed bounds.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from fairwash.errors import DataError  # noqa: F401 -- re-exported: its historical home
from fairwash.io import atomic_write_json, atomic_write_parquet

__all__ = ["AuditData", "FeatureSpec", "DataError", "RESERVED_COLUMNS"]

#: Column names used for S, Y and Ŷ when an :class:`AuditData` is stored.
RESERVED_COLUMNS = ("S", "Y", "Y_hat")

Kind = Literal["numeric", "categorical"]


@dataclass(frozen=True)
class FeatureSpec:
    """One feature column: its name, kind and observed bounds."""

    name: str
    kind: Kind
    lower: float
    upper: float

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "lower": self.lower, "upper": self.upper}


def _binary(values: Any, what: str, dataset: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise DataError(f"{dataset}: {what} must be one-dimensional, got shape {arr.shape}")
    if arr.dtype.kind == "f" and np.isnan(arr).any():
        raise DataError(f"{dataset}: {what} has {int(np.isnan(arr).sum())} missing values (NaN)")
    uniq = pd.unique(arr)
    bad = [u for u in uniq if u not in (0, 1)]
    if bad:
        raise DataError(
            f"{dataset}: {what} must be binary 0/1; found value(s) {sorted(map(str, bad))[:5]}"
        )
    return arr.astype(np.int8)


def infer_features(X: pd.DataFrame, categorical: Sequence[str] = ()) -> tuple[FeatureSpec, ...]:
    """Feature specs from a frame: a column is categorical if listed, or if it is 0/1 only."""
    specs = []
    cat = set(categorical)
    for col in X.columns:
        v = X[col].to_numpy(dtype=np.float64)
        is01 = bool(np.isin(v, (0.0, 1.0)).all())
        kind: Kind = "categorical" if (col in cat or is01) else "numeric"
        lo = float(np.min(v)) if v.size else 0.0
        hi = float(np.max(v)) if v.size else 0.0
        specs.append(FeatureSpec(str(col), kind, lo, hi))
    return tuple(specs)


@dataclass(frozen=True)
class AuditData:
    """Individuals ``(X, S, Y)`` and, after a model, their decisions ``Y_hat``.

    Parameters
    ----------
    name : str
        Data set name, e.g. ``"adult"``; used in every error message.
    X : pandas.DataFrame, shape (n, d)
        Features, float64.  Must not contain NaN nor a column named S, Y or Y_hat.
    S : ndarray of int8, shape (n,)
        Sensitive attribute, 0 = disadvantaged group.  Both values must occur.
    Y : ndarray of int8, shape (n,), or None
        True label.
    Y_hat : ndarray of int8, shape (n,), or None
        The audited model's decision.
    features : tuple of FeatureSpec
        One per column of ``X``; inferred when omitted.
    meta : dict
        JSON-serialisable provenance: source, sensitive attribute description,
        binarisation rule, checksums, ...

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> d = AuditData.from_arrays("toy", np.eye(4)[:, :2], S=[0, 0, 1, 1], Y=[0, 1, 1, 1])
    >>> d.n, d.d
    (4, 2)
    """

    name: str
    X: pd.DataFrame
    S: np.ndarray
    Y: np.ndarray | None = None
    Y_hat: np.ndarray | None = None
    features: tuple[FeatureSpec, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        name = self.name
        if not isinstance(self.X, pd.DataFrame):
            raise DataError(f"{name}: X must be a pandas DataFrame, got {type(self.X).__name__}")
        X = self.X
        clash = [c for c in X.columns if c in RESERVED_COLUMNS]
        if clash:
            raise DataError(f"{name}: feature column(s) {clash} clash with reserved names S/Y/Y_hat")
        if X.columns.duplicated().any():
            dup = list(X.columns[X.columns.duplicated()])
            raise DataError(f"{name}: duplicated feature column(s) {dup}")
        non_num = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
        if non_num:
            raise DataError(f"{name}: feature column(s) {non_num[:5]} are not numeric; encode them")
        Xf = X.astype(np.float64)
        nan_cols = [c for c in Xf.columns if Xf[c].isna().any()]
        if nan_cols:
            counts = {c: int(Xf[c].isna().sum()) for c in nan_cols[:5]}
            raise DataError(f"{name}: missing values (NaN) in feature column(s) {counts}")
        inf_cols = [c for c in Xf.columns if not np.isfinite(Xf[c].to_numpy()).all()]
        if inf_cols:
            raise DataError(f"{name}: infinite values in feature column(s) {inf_cols[:5]}")
        Xf = Xf.reset_index(drop=True)
        Xf.columns = [str(c) for c in Xf.columns]
        n = len(Xf)
        if n == 0:
            raise DataError(f"{name}: no rows")
        S = _binary(self.S, "S (sensitive attribute)", name)
        if len(S) != n:
            raise DataError(f"{name}: S has {len(S)} values but X has {n} rows")
        if len(np.unique(S)) < 2:
            raise DataError(
                f"{name}: S (sensitive attribute) takes the single value {int(S[0])}; "
                "both groups are needed to audit Disparate Impact"
            )
        Y = None if self.Y is None else _binary(self.Y, "Y (true label)", name)
        Yh = None if self.Y_hat is None else _binary(self.Y_hat, "Y_hat (decision)", name)
        for arr, what in ((Y, "Y"), (Yh, "Y_hat")):
            if arr is not None and len(arr) != n:
                raise DataError(f"{name}: {what} has {len(arr)} values but X has {n} rows")
        feats = self.features or infer_features(Xf)
        if [f.name for f in feats] != list(Xf.columns):
            raise DataError(f"{name}: feature specs do not match the columns of X")
        object.__setattr__(self, "X", Xf)
        object.__setattr__(self, "S", S)
        object.__setattr__(self, "Y", Y)
        object.__setattr__(self, "Y_hat", Yh)
        object.__setattr__(self, "features", tuple(feats))
        object.__setattr__(self, "meta", dict(self.meta))

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_arrays(
        cls,
        name: str,
        X: Any,
        S: Any,
        Y: Any = None,
        Y_hat: Any = None,
        *,
        columns: Sequence[str] | None = None,
        categorical: Sequence[str] = (),
        meta: Mapping[str, Any] | None = None,
    ) -> AuditData:
        """Build from plain arrays; column names default to ``x0, x1, ...``."""
        if isinstance(X, pd.DataFrame):
            frame = X
        else:
            arr = np.asarray(X, dtype=np.float64)
            if arr.ndim != 2:
                raise DataError(f"{name}: X must be two-dimensional, got shape {arr.shape}")
            cols = list(columns) if columns is not None else [f"x{j}" for j in range(arr.shape[1])]
            frame = pd.DataFrame(arr, columns=cols)
        feats = infer_features(frame.astype(np.float64), categorical) if len(frame) else ()
        return cls(name, frame, np.asarray(S), None if Y is None else np.asarray(Y),
                   None if Y_hat is None else np.asarray(Y_hat), feats, dict(meta or {}))

    # ------------------------------------------------------------------ properties
    @property
    def n(self) -> int:
        """Number of individuals."""
        return len(self.X)

    @property
    def d(self) -> int:
        """Number of features."""
        return self.X.shape[1]

    @property
    def columns(self) -> list[str]:
        return list(self.X.columns)

    def require_y_hat(self) -> np.ndarray:
        """The decisions, or a clear error if no model has been applied."""
        if self.Y_hat is None:
            raise DataError(f"{self.name}: no model decisions (Y_hat); apply a model first")
        return self.Y_hat

    def require_y(self, purpose: str = "this computation") -> np.ndarray:
        """The true labels, or a clear error naming what needed them."""
        if self.Y is None:
            raise DataError(
                f"{self.name}: {purpose} needs the true label Y, which this source does not have"
            )
        return self.Y

    def joint(self) -> np.ndarray:
        """The rows ``(x, s, ŷ)`` as one float64 array of shape (n, d + 2).

        This is the representation the paper's joint tests (W_A, KL_A, MMD_A) and
        the Matching cost (eq. 11) act on.
        """
        yh = self.require_y_hat()
        return np.column_stack([self.X.to_numpy(np.float64), self.S, yh]).astype(np.float64)

    # ------------------------------------------------------------------ transforms
    def with_decisions(self, Y_hat: Any) -> AuditData:
        return replace(self, Y_hat=np.asarray(Y_hat))

    def with_X(self, X: pd.DataFrame, features: tuple[FeatureSpec, ...] | None = None) -> AuditData:
        return replace(self, X=X, features=features or infer_features(X.astype(np.float64)))

    def subset(self, index: Any) -> AuditData:
        """Rows ``index`` (positions), bounds of the features kept as observed on the whole."""
        idx = np.asarray(index)
        return replace(
            self,
            X=self.X.iloc[idx].reset_index(drop=True),
            S=self.S[idx],
            Y=None if self.Y is None else self.Y[idx],
            Y_hat=None if self.Y_hat is None else self.Y_hat[idx],
        )

    # ------------------------------------------------------------------ storage
    def to_frame(self) -> pd.DataFrame:
        """Features plus S, Y and Y_hat columns (those present)."""
        out = self.X.copy()
        out["S"] = self.S
        if self.Y is not None:
            out["Y"] = self.Y
        if self.Y_hat is not None:
            out["Y_hat"] = self.Y_hat
        return out

    def metadata(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "n": self.n,
            "d": self.d,
            "features": [f.to_dict() for f in self.features],
            "has_Y": self.Y is not None,
            "has_Y_hat": self.Y_hat is not None,
            "meta": dict(self.meta),
        }

    def save(self, parquet_path: str | Path, json_path: str | Path | None = None) -> None:
        """Write ``{name}.parquet`` and its JSON metadata, each atomically."""
        parquet_path = Path(parquet_path)
        json_path = Path(json_path) if json_path else parquet_path.with_suffix(".json")
        atomic_write_parquet(self.to_frame(), parquet_path)
        atomic_write_json(self.metadata(), json_path)

    @classmethod
    def load(cls, parquet_path: str | Path, json_path: str | Path | None = None) -> AuditData:
        """Read what :meth:`save` wrote."""
        parquet_path = Path(parquet_path)
        json_path = Path(json_path) if json_path else parquet_path.with_suffix(".json")
        for p in (parquet_path, json_path):
            if not p.exists():
                raise DataError(f"file not found: {p}")
        info = json.loads(json_path.read_text())
        frame = pd.read_parquet(parquet_path)
        if "S" not in frame.columns:
            raise DataError(f"{parquet_path}: no column 'S'")
        feats = tuple(FeatureSpec(**f) for f in info["features"])
        cols = [f.name for f in feats]
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise DataError(f"{parquet_path}: feature column(s) {missing[:5]} missing")
        return cls(
            info["name"],
            frame[cols],
            frame["S"].to_numpy(),
            frame["Y"].to_numpy() if "Y" in frame.columns else None,
            frame["Y_hat"].to_numpy() if "Y_hat" in frame.columns else None,
            feats,
            info.get("meta", {}),
        )
