"""Base profiles, proxies and twins: the rows the twin audit feeds to a model.

* base profiles: the article's gender-neutral skeletons (:func:`base_profiles`) or
  rows drawn from an audited data set (:func:`profiles_from_data`);
* proxies, columns that encode S and can be flipped with it: :class:`OneHotProxy`,
  :class:`ValueProxy`, :func:`proxy_from_dict`;
* :func:`make_twins`: every profile cloned into an ``S = 0`` and an ``S = 1`` twin;
* on an audited data set: which column holds S (:func:`resolve_sensitive_column`),
  one representative individual (:func:`representative_profile`) and the inputs most
  associated with S (:func:`proxy_association`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fairwash.data.base import AuditData, DataError

__all__ = [
    "BASE_INCOME_RANGE",
    "OneHotProxy",
    "ValueProxy",
    "Proxy",
    "proxy_from_dict",
    "base_profiles",
    "profiles_from_data",
    "make_twins",
    "resolve_sensitive_column",
    "representative_profile",
    "proxy_association",
]

#: Income range of the article's base profiles (uniform, currency units per year).
BASE_INCOME_RANGE: tuple[float, float] = (40_000.0, 70_000.0)

# --------------------------------------------------------------------------- seeds and ranges


def int_seed(random_state: Any, name: str = "random_state") -> int:
    """An integer seed (Mimesis takes ints) from an int or a numpy Generator."""
    if isinstance(random_state, bool):
        raise TypeError(f"{name} must be an int or a numpy Generator, not {random_state!r}")
    if isinstance(random_state, int | np.integer):
        return int(random_state)
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**63 - 1))
    raise TypeError(f"{name} must be an int or a numpy Generator, not {random_state!r}")


def check_range(lo: float, hi: float, name: str) -> tuple[float, float]:
    """``(lo, hi)`` as floats, checked finite with ``lo < hi`` (the message names ``name``)."""
    lo, hi = float(lo), float(hi)
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"{name} must be a finite range (lo, hi) with lo < hi, got ({lo}, {hi})")
    return lo, hi



def base_profiles(
    n: int = 1000,
    *,
    random_state: int | np.random.Generator,
    income_range: tuple[float, float] = BASE_INCOME_RANGE,
) -> pd.DataFrame:
    """Gender-neutral base profiles: a UUID application id and an income.

    Parameters
    ----------
    n : int
        Number of profiles.
    random_state : int or numpy Generator
        Seed of a :class:`mimesis.Generic` (ids) and of a numpy Generator
        (incomes, uniform on ``income_range``).

    Returns
    -------
    DataFrame
        ``application_id`` (UUID string) and ``income`` (float64); no gender.
    """
    from mimesis import Generic  # mimesis only for generated profiles: import cost

    if int(n) < 1:
        raise ValueError(f"n must be a positive number of profiles, got {n}")
    lo, hi = check_range(*income_range, name="income_range")
    seed = int_seed(random_state)
    gen = Generic(seed=seed)
    ids = [str(gen.cryptographic.uuid_object()) for _ in range(int(n))]
    income = np.random.default_rng(seed).uniform(lo, hi, size=int(n))
    return pd.DataFrame({"application_id": ids, "income": income})


def profiles_from_data(
    X: pd.DataFrame,
    n: int,
    *,
    random_state: int | np.random.Generator,
    independent: bool = False,
) -> pd.DataFrame:
    """Base profiles drawn from an audited data set's own distribution.

    ``independent=False`` resamples whole rows (with replacement), keeping every
    dependence between features; ``independent=True`` draws each column from its
    own marginal, which also reaches combinations absent from the data but breaks
    one-hot groups (a row may get two categories or none) -- use it for numeric
    columns only.

    Returns
    -------
    DataFrame, n rows, the columns of ``X`` and a ``profile_id`` column (0..n-1).
    """
    if not isinstance(X, pd.DataFrame) or len(X) == 0:
        raise ValueError("X must be a non-empty DataFrame")
    if int(n) < 1:
        raise ValueError(f"n must be a positive number of profiles, got {n}")
    if "profile_id" in X.columns:
        raise ValueError("X already has a column 'profile_id', which profiles_from_data creates")
    if isinstance(random_state, np.random.Generator):
        rng = random_state
    else:
        rng = np.random.default_rng(int_seed(random_state))
    if independent:
        idx = rng.integers(0, len(X), size=(int(n), X.shape[1]))
        values = X.to_numpy()[idx, np.arange(X.shape[1])]
        out = pd.DataFrame(values, columns=X.columns).astype(X.dtypes.to_dict())
    else:
        out = X.iloc[rng.integers(0, len(X), size=int(n))].reset_index(drop=True)
    out.insert(0, "profile_id", np.arange(int(n)))
    return out


# --------------------------------------------------------------------------- proxies and twins


@dataclass(frozen=True)
class OneHotProxy:
    """Two one-hot columns that encode S, e.g. ``relationship_Wife`` / ``relationship_Husband``.

    When the proxy is flipped, the twin of group ``s`` gets the pair's total
    ``x[s0_column] + x[s1_column]`` in the column of its own group and 0 in the
    other: a husband's female twin is a wife, a person who is neither stays neither.
    """

    s0_column: str
    s1_column: str

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.s0_column, self.s1_column)

    def apply(self, frame: pd.DataFrame, s: np.ndarray) -> None:
        total = frame[self.s0_column].to_numpy(np.float64) + frame[self.s1_column].to_numpy(np.float64)
        frame[self.s0_column] = np.where(s == 0, total, 0.0)
        frame[self.s1_column] = np.where(s == 1, total, 0.0)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "one_hot", "s0_column": self.s0_column, "s1_column": self.s1_column}


@dataclass(frozen=True)
class ValueProxy:
    """A column set to ``s0_value`` in the ``S = 0`` twin and ``s1_value`` in the ``S = 1`` twin."""

    column: str
    s0_value: float
    s1_value: float

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.column,)

    def apply(self, frame: pd.DataFrame, s: np.ndarray) -> None:
        frame[self.column] = np.where(s == 0, float(self.s0_value), float(self.s1_value))

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "value", "column": self.column, "s0_value": self.s0_value, "s1_value": self.s1_value}


Proxy = OneHotProxy | ValueProxy


def proxy_from_dict(spec: Mapping[str, Any]) -> Proxy:
    """A proxy from its config / JSON form (the inverse of ``Proxy.to_dict``).

    ``{"kind": "one_hot", "s0_column": ..., "s1_column": ...}`` or
    ``{"kind": "value", "column": ..., "s0_value": ..., "s1_value": ...}``.
    """
    if not isinstance(spec, Mapping):
        raise ValueError(f"a proxy must be a mapping with a 'kind', got {spec!r}")
    kind = spec.get("kind")
    keys = {
        "one_hot": {"kind", "s0_column", "s1_column"},
        "value": {"kind", "column", "s0_value", "s1_value"},
    }
    if kind not in keys:
        raise ValueError(f"proxy kind must be 'one_hot' or 'value', got {kind!r} in {dict(spec)!r}")
    if set(spec) != keys[kind]:
        raise ValueError(f"a {kind!r} proxy needs exactly the keys {sorted(keys[kind])}, got {sorted(spec)}")
    if kind == "one_hot":
        return OneHotProxy(str(spec["s0_column"]), str(spec["s1_column"]))
    return ValueProxy(str(spec["column"]), float(spec["s0_value"]), float(spec["s1_value"]))


def make_twins(
    base: pd.DataFrame,
    sensitive_column: str,
    *,
    values: tuple[int, int] = (0, 1),
    id_column: str | None = None,
    proxies: Sequence[Proxy] = (),
    labels: Mapping[int, str] | None = None,
) -> pd.DataFrame:
    """Clone every base profile into an ``S = values[0]`` and an ``S = values[1]`` twin.

    Row ``2 i`` is the ``S = values[0]`` twin of base row ``i`` and row ``2 i + 1``
    its ``S = values[1]`` twin.  The twins share the id and every column except
    ``sensitive_column`` (and the ``proxies``, when given, which are flipped with S).
    ``sensitive_column`` is created if the base profiles have none (the article's
    gender-neutral skeletons) and overwritten otherwise (twins of real individuals).

    Parameters
    ----------
    base : DataFrame
        One row per base profile.
    sensitive_column : str
        Column that receives S.
    values : (int, int)
        The two values of S, disadvantaged group first.
    id_column : str, optional
        Column with the profile's id; checked to be present (the twins keep it).
    proxies : sequence of OneHotProxy or ValueProxy
        Other columns that encode S, flipped together with it.
    labels : mapping {value: str}, optional
        Names of the two groups for the ``twin`` column (default ``"S=0"``, ``"S=1"``).

    Returns
    -------
    DataFrame, 2 n rows
        The base columns plus ``sensitive_column``, ``pair`` (index of the base
        profile) and ``twin`` (the group's label).
    """
    if not isinstance(base, pd.DataFrame) or len(base) == 0:
        raise ValueError("base must be a non-empty DataFrame of profiles")
    if len(values) != 2 or values[0] == values[1]:
        raise ValueError(f"values must be two distinct values of S, got {values!r}")
    if id_column is not None and id_column not in base.columns:
        raise ValueError(f"base has no id column {id_column!r} (columns: {list(base.columns)})")
    for name in ("pair", "twin"):
        if name in base.columns:
            raise ValueError(f"base already has a column {name!r}, which make_twins creates")
    for proxy in proxies:
        for col in proxy.columns:
            if col not in base.columns:
                raise ValueError(f"proxy column {col!r} is not in base (columns: {list(base.columns)})")
            if col == sensitive_column:
                raise ValueError(f"proxy column {col!r} is the sensitive column itself")
    n = len(base)
    rows = np.repeat(np.arange(n), 2)
    twins = base.iloc[rows].reset_index(drop=True)
    s_values = np.tile(np.asarray(values), n)
    s_code = np.tile(np.array([0, 1]), n)
    twins[sensitive_column] = s_values
    for proxy in proxies:
        proxy.apply(twins, s_code)
    names = labels or {v: f"{sensitive_column}={v}" for v in values}
    twins["pair"] = rows
    twins["twin"] = np.where(s_code == 0, names[values[0]], names[values[1]])
    return twins



# --------------------------------------------------------------------------- on an audited data set


def resolve_sensitive_column(data: AuditData, spec: Mapping[str, Any]) -> tuple[str | None, str]:
    """The column of ``data.X`` that holds S, and where that answer came from.

    ``spec["sensitive_column"]`` (the config) wins and is checked to equal S on every
    row.  Without it, a column equal to S on every row is taken (``"detected"``): a
    model that sees S must not be reported as blind to it because a config key is
    missing.  Otherwise S is not an input (``None``, ``"absent"``).

    Raises
    ------
    DataError
        If the configured column is missing or differs from S, or several columns equal S.
    """
    s = data.S.astype(np.float64)
    col = spec.get("sensitive_column")
    if col is not None:
        if col not in data.X.columns:
            raise DataError(f"{data.name}: counterfactual.sensitive_column {col!r} is not a column of X "
                            f"(columns: {list(data.X.columns)})")
        bad = int(np.sum(data.X[col].to_numpy(np.float64) != s))
        if bad:
            raise DataError(f"{data.name}: counterfactual.sensitive_column {col!r} differs from S on "
                            f"{bad} of {data.n} rows; it must hold S (0 = disadvantaged, 1 = advantaged)")
        return str(col), "config"
    X = data.X.to_numpy(np.float64)
    equal = [c for c, same in zip(data.X.columns, np.all(X == s[:, None], axis=0), strict=True) if same]
    if len(equal) > 1:
        raise DataError(f"{data.name}: columns {equal} all equal S; set counterfactual.sensitive_column")
    if equal:
        return str(equal[0]), "detected"
    return None, "absent"


def representative_profile(X: pd.DataFrame, exclude: Sequence[str] = ()) -> int:
    """Position of the row nearest the column-wise median (standardised, ``exclude`` ignored).

    A real individual, so one-hot groups stay valid; used for the approval curves and
    the exact (grid + bisection) boundary of one profile.
    """
    cols = [c for c in X.columns if c not in set(exclude)]
    if not cols:
        return 0
    A = X[cols].to_numpy(np.float64)
    scale = A.std(axis=0)
    scale[scale == 0] = 1.0
    Z = (A - np.median(A, axis=0)) / scale
    return int(np.argmin(np.einsum("ij,ij->i", Z, Z)))


def proxy_association(X: pd.DataFrame, s: np.ndarray, top: int = 5) -> list[dict[str, Any]]:
    """The inputs most associated with S: Pearson correlation with S (point-biserial).

    What the twin audit with proxies held fixed cannot see: a model can treat identical
    twins identically and still discriminate through these columns.  For 0/1 columns
    ``P(S = 1 | column = 1)`` is given too.
    """
    s = np.asarray(s, dtype=np.float64)
    A = X.to_numpy(np.float64)
    sd = A.std(axis=0)
    ok = sd > 0
    corr = np.full(A.shape[1], np.nan)
    corr[ok] = ((A[:, ok] - A[:, ok].mean(axis=0)) * (s - s.mean())[:, None]).mean(axis=0) / (
        sd[ok] * s.std())
    order = np.argsort(-np.nan_to_num(np.abs(corr), nan=-1.0))[:top]
    out = []
    for j in order:
        if not ok[j]:
            continue
        col = A[:, j]
        row: dict[str, Any] = {"column": str(X.columns[j]), "corr_with_s": float(corr[j])}
        if np.isin(col, (0.0, 1.0)).all() and (col == 1).any():
            row["p_s1_given_1"] = float(s[col == 1].mean())
            row["share_1"] = float((col == 1).mean())
        out.append(row)
    return out

