"""Counterfactual-twin audit: identical applicants that differ only in S.

The audit of the counterfactual-twin article (``shared/seeds/counterfactual-audit-article.txt``):
build gender-neutral base profiles, clone each one into an ``S = 0`` and an
``S = 1`` twin with every other feature identical, feed both twins to the model
and count the pairs whose decisions differ.  A flip is a deterministic fact
about the model, not a statistical association: the twins have nothing else that
could explain the difference.

For a numeric feature (income) the audit also locates, by bisection on the model
itself, the feature value at which each group's decision switches, and reports
the gap: how much more income the disadvantaged twin needs for the same decision.

What the audit measures and what it does not
--------------------------------------------
Flipping S and holding every other column fixed measures the model's **direct**
use of S.  When other columns encode S (Adult's ``relationship`` = Husband/Wife)
a model can discriminate through them while ignoring S itself; the caller names
such proxy columns (:class:`OneHotProxy`, :class:`ValueProxy`) and the audit is
reported both ways (proxies held fixed, proxies flipped with S), see
:func:`audit_both_ways`.  When S is not an input of the model at all, the
flip rate with proxies fixed is 0 by construction and the result says so.

Contents
--------
* the article's demo: :func:`demo_customers`, :func:`train_demo_model`,
  :func:`base_profiles`, :func:`run_demo`;
* general twins: :func:`make_twins`, :class:`OneHotProxy`, :class:`ValueProxy`;
* the model probe: :class:`ModelProbe` (any object with ``predict`` /
  ``predict_proba``, an optional raw-to-model-input transform);
* measures: :func:`counterfactual_audit` -> :class:`CounterfactualResult`,
  :func:`flip_rate_ci`, :func:`decision_boundaries`, :func:`income_boundary`,
  :func:`plot_approval_curves`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
from scipy import stats

from fairwash.figures import GROUP_COLOURS, figure_style, save_figure
from fairwash.io import to_jsonable

__all__ = [
    "DEMO_RULE",
    "BASE_INCOME_RANGE",
    "CUSTOMER_INCOME_RANGE",
    "GENDER_LABELS",
    "Classifier",
    "ModelProbe",
    "load_probe",
    "OneHotProxy",
    "ValueProxy",
    "CounterfactualResult",
    "demo_customers",
    "demo_labels",
    "train_demo_model",
    "base_profiles",
    "make_twins",
    "profiles_from_data",
    "flip_rate_ci",
    "counterfactual_audit",
    "audit_both_ways",
    "decision_boundaries",
    "income_boundary",
    "approval_curves",
    "plot_approval_curves",
    "plot_twin_audit",
    "proxy_from_dict",
    "profile_boundaries",
    "run_demo",
    "DemoRun",
]

#: The rule that poisons the demo's labels: approved iff income >= threshold of the
#: applicant's gender.  Men are approved at a standard income, women only at a much
#: higher one; the true gap is ``female - male = 15 000`` (as in ``data.synthetic.loan_applicants``).
DEMO_RULE: dict[str, float] = {"male_threshold": 50_000.0, "female_threshold": 65_000.0}

#: Income range of the article's base profiles (uniform, currency units per year).
BASE_INCOME_RANGE: tuple[float, float] = (40_000.0, 70_000.0)

#: Income range of the demo's training customers; wider than the base range so
#: that both thresholds sit well inside the training data.
CUSTOMER_INCOME_RANGE: tuple[float, float] = (30_000.0, 90_000.0)

GENDER_LABELS: dict[int, str] = {0: "female", 1: "male"}


# --------------------------------------------------------------------------- seeds


def _int_seed(random_state: Any, name: str = "random_state") -> int:
    """An integer seed (Mimesis takes ints) from an int or a numpy Generator."""
    if isinstance(random_state, bool):
        raise TypeError(f"{name} must be an int or a numpy Generator, not {random_state!r}")
    if isinstance(random_state, int | np.integer):
        return int(random_state)
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**63 - 1))
    raise TypeError(f"{name} must be an int or a numpy Generator, not {random_state!r}")


def _check_range(lo: float, hi: float, name: str) -> tuple[float, float]:
    lo, hi = float(lo), float(hi)
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"{name} must be a finite range (lo, hi) with lo < hi, got ({lo}, {hi})")
    return lo, hi


# --------------------------------------------------------------------------- the demo


def demo_customers(
    n: int = 1000,
    *,
    random_state: int | np.random.Generator,
    income_range: tuple[float, float] = CUSTOMER_INCOME_RANGE,
    locale: str = "en",
) -> pd.DataFrame:
    """Virtual bank customers from Mimesis: id, name, gender and income.

    Every draw comes from one seeded :class:`mimesis.Generic`, so the same
    ``random_state`` gives the same persons (ids, names, genders, incomes).

    Parameters
    ----------
    n : int
        Number of customers (the article uses 1 000).
    random_state : int or numpy Generator
        Seed; a Generator is turned into an integer seed for Mimesis.
    income_range : (float, float)
        Income is uniform on this range (currency units per year).
    locale : str
        Mimesis locale for the names.

    Returns
    -------
    DataFrame, n rows
        ``customer_id`` (UUID string), ``name``, ``gender`` (``"female"`` /
        ``"male"``), ``gender_male`` (int8, 1 = male = S = 1), ``income`` (float64).
    """
    from mimesis import Generic
    from mimesis.enums import Gender
    from mimesis.locales import Locale

    if int(n) < 1:
        raise ValueError(f"n must be a positive number of customers, got {n}")
    lo, hi = _check_range(*income_range, name="income_range")
    gen = Generic(locale=Locale(locale), seed=_int_seed(random_state))
    rand = gen.random  # Mimesis' own seeded random.Random
    ids, names, male, income = [], [], [], []
    for _ in range(int(n)):  # Mimesis draws one person at a time
        is_male = rand.random() < 0.5
        ids.append(str(gen.cryptographic.uuid_object()))
        names.append(gen.person.full_name(gender=Gender.MALE if is_male else Gender.FEMALE))
        male.append(is_male)
        income.append(rand.uniform(lo, hi))
    male_arr = np.asarray(male, dtype=np.int8)
    return pd.DataFrame(
        {
            "customer_id": ids,
            "name": names,
            "gender": np.where(male_arr == 1, "male", "female"),
            "gender_male": male_arr,
            "income": np.asarray(income, dtype=np.float64),
        }
    )


def demo_labels(
    customers: pd.DataFrame,
    *,
    unbiased: bool = False,
    male_threshold: float = DEMO_RULE["male_threshold"],
    female_threshold: float = DEMO_RULE["female_threshold"],
) -> np.ndarray:
    """The poisoned (or, for the control, gender-blind) approval labels.

    Poisoned: ``approve = income >= male_threshold`` for men and
    ``income >= female_threshold`` for women.  Unbiased control: every applicant is
    approved at ``income >= male_threshold``, whatever the gender.

    Returns
    -------
    ndarray of int8, shape (n,)
    """
    for col in ("gender_male", "income"):
        if col not in customers.columns:
            raise ValueError(f"customers has no column {col!r} (columns: {list(customers.columns)})")
    if not female_threshold >= male_threshold:
        raise ValueError(
            f"female_threshold ({female_threshold}) must be >= male_threshold ({male_threshold})"
        )
    income = customers["income"].to_numpy(np.float64)
    male = customers["gender_male"].to_numpy() == 1
    if unbiased:
        thr = np.full(income.shape, male_threshold)
    else:
        thr = np.where(male, male_threshold, female_threshold)
    return (income >= thr).astype(np.int8)


def train_demo_model(
    customers: pd.DataFrame,
    *,
    unbiased: bool = False,
    random_state: int | np.random.Generator,
    male_threshold: float = DEMO_RULE["male_threshold"],
    female_threshold: float = DEMO_RULE["female_threshold"],
) -> Any:
    """The article's loan-approval :class:`~sklearn.tree.DecisionTreeClassifier`.

    Features ``gender_male`` and ``income`` (in that order), labels from
    :func:`demo_labels`.  The tree is grown until its leaves are pure, so it
    reproduces the rule on the training data exactly; between two training
    incomes it splits at their midpoint (its resolution).
    """
    from sklearn.tree import DecisionTreeClassifier

    y = demo_labels(
        customers, unbiased=unbiased, male_threshold=male_threshold, female_threshold=female_threshold
    )
    tree = DecisionTreeClassifier(random_state=_int_seed(random_state) % 2**32)
    tree.fit(customers[["gender_male", "income"]].astype(np.float64), y)
    return tree


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
    from mimesis import Generic

    if int(n) < 1:
        raise ValueError(f"n must be a positive number of profiles, got {n}")
    lo, hi = _check_range(*income_range, name="income_range")
    seed = _int_seed(random_state)
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
        rng = np.random.default_rng(_int_seed(random_state))
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


# --------------------------------------------------------------------------- the model


class Classifier(Protocol):
    """What the audit needs from a model: decisions and approval probabilities."""

    def predict(self, X: Any) -> np.ndarray: ...

    def predict_proba(self, X: Any) -> np.ndarray: ...


@dataclass(frozen=True)
class ModelProbe:
    """A model seen as a function of raw feature columns.

    Parameters
    ----------
    model : Classifier
        ``predict(X)`` returns decisions 0/1; ``predict_proba(X)`` returns
        P(ŷ = 1) as shape (n,) (:class:`fairwash.model.AuditedModel`) or the
        class probabilities as shape (n, 2) (scikit-learn).
    feature_columns : sequence of str
        Model inputs, in the model's order, as columns of the frames to audit.
        Defaults to the model's ``feature_names_in_`` when it has one.
    transform : callable, optional
        Raw features (ndarray, shape (n, d), in ``feature_columns`` order) to
        model input, e.g. ``Standardizer.transform``; bisection and plots then
        work on raw units (income in currency units).
    """

    model: Any
    feature_columns: tuple[str, ...]
    transform: Callable[[np.ndarray], Any] | None = None

    @classmethod
    def of(
        cls,
        model: Any,
        feature_columns: Sequence[str] | None = None,
        transform: Callable[[np.ndarray], Any] | None = None,
    ) -> ModelProbe:
        if isinstance(model, ModelProbe):
            return model
        for method in ("predict", "predict_proba"):
            if not callable(getattr(model, method, None)):
                raise TypeError(f"model must have a {method}() method, got {type(model).__name__}")
        if transform is None and _is_audited_model(model):
            raise ValueError(
                "an AuditedModel takes standardised features: pass transform=standardizer.transform "
                "and profiles in raw units (or use load_probe(model_dir)).  Without it the twins are fed "
                "raw values (income ~ 50 000 where the network expects ~ +-2): the output saturates and "
                "no pair ever flips.  Pass transform=numpy.asarray only if the model was trained on raw "
                "features."
            )
        if feature_columns is None:
            names = getattr(model, "feature_names_in_", None)
            if names is None:
                raise ValueError("feature_columns is required for a model without feature_names_in_")
            feature_columns = [str(c) for c in names]
        return cls(model=model, feature_columns=tuple(feature_columns), transform=transform)

    def _input(self, frame: pd.DataFrame) -> Any:
        missing = [c for c in self.feature_columns if c not in frame.columns]
        if missing:
            raise ValueError(f"model input columns {missing} are missing (columns: {list(frame.columns)})")
        raw = frame[list(self.feature_columns)].to_numpy(np.float64)
        if self.transform is not None:
            return self.transform(raw)
        if getattr(self.model, "feature_names_in_", None) is not None:
            return pd.DataFrame(raw, columns=list(self.feature_columns))
        return raw

    def decide(self, frame: pd.DataFrame) -> np.ndarray:
        """Decisions ŷ (int8 0/1), shape (n,)."""
        out = np.asarray(self.model.predict(self._input(frame))).reshape(-1)
        return out.astype(np.int8)

    def proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Approval probabilities P(ŷ = 1), shape (n,)."""
        p = np.asarray(self.model.predict_proba(self._input(frame)), dtype=np.float64)
        if p.ndim == 2:
            classes = list(getattr(self.model, "classes_", range(p.shape[1])))
            if 1 not in classes:  # a model trained on one class only
                return np.zeros(p.shape[0])
            p = p[:, classes.index(1)]
        return p.reshape(-1)


def _is_audited_model(model: Any) -> bool:
    """Whether ``model`` is a :class:`fairwash.model.AuditedModel` (without importing torch)."""
    import sys

    module = sys.modules.get("fairwash.model")
    return module is not None and isinstance(model, module.AuditedModel)


def load_probe(model_dir: str | Path) -> ModelProbe:
    """The probe of a pipeline model: weights, threshold, standardiser and column order from disk.

    Reads ``model.safetensors`` and ``model.json`` (:func:`fairwash.model.load_model`); the
    probe takes frames in raw units, selects the model's ``feature_names`` in the model's
    order and standardises them with the saved :class:`~fairwash.model.Standardizer` before
    the network sees them, so twins are built (S set to 0 / 1, income moved) in raw units.

    Raises
    ------
    ValueError
        If ``model.json`` has no feature names or no standardiser.
    """
    from fairwash.model import load_model

    model, standardizer, info = load_model(model_dir)
    names = info.get("feature_names")
    if not names:
        raise ValueError(f"{Path(model_dir) / 'model.json'}: no feature_names; cannot map columns to inputs")
    if standardizer is None:
        raise ValueError(
            f"{Path(model_dir) / 'model.json'}: no standardiser; the pipeline's MLP takes standardised "
            "features, so a probe without it would feed raw values to the network"
        )
    return ModelProbe(model=model, feature_columns=tuple(str(c) for c in names),
                      transform=standardizer.transform)


# --------------------------------------------------------------------------- measures


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
    decisions = probe.decide(twins)
    probas = probe.proba(twins)
    d0, d1 = decisions[0::2], decisions[1::2]
    p0, p1 = probas[0::2], probas[1::2]
    ids = base[id_column].to_numpy() if id_column is not None else np.arange(len(base))
    fav1 = (d1 == 1) & (d0 == 0)
    fav0 = (d0 == 1) & (d1 == 0)
    pairs = pd.DataFrame(
        {
            "id": ids,
            "decision_s0": d0,
            "decision_s1": d1,
            "proba_s0": p0,
            "proba_s1": p1,
            "flip": np.select([fav1, fav0], ["favours_s1", "favours_s0"], "none"),
        }
    )
    n = len(pairs)
    k = int(fav1.sum() + fav0.sum())
    inputs = probe.feature_columns
    proxy_cols = {c for p in proxies for c in p.columns}
    flipped = tuple(c for c in inputs if c == sensitive_column or c in proxy_cols)
    fixed = tuple(c for c in inputs if c not in flipped)
    s_input = sensitive_column in inputs
    notes: list[str] = []
    if not s_input:
        notes.append(
            f"{sensitive_column!r} is not an input of the model; the counterfactual audit measures only "
            "direct use of S, so with proxies held fixed the flip rate is 0 by construction."
        )
    if proxies:
        notes.append(
            "proxy columns " + ", ".join(sorted(proxy_cols)) + " were flipped together with S; the flip "
            "rate includes discrimination through them."
        )
    else:
        notes.append(
            "every column other than S was held fixed: the flip rate measures direct use of S only, "
            "not discrimination through correlated features (proxies)."
        )
    return CounterfactualResult(
        n_pairs=n,
        n_flips=k,
        flip_rate=k / n,
        ci=flip_rate_ci(k, n, confidence, ci_method),
        flips_favouring_s1=int(fav1.sum()),
        flips_favouring_s0=int(fav0.sum()),
        pairs=pairs,
        sensitive_column=sensitive_column,
        sensitive_is_input=s_input,
        flipped_columns=flipped,
        held_fixed=fixed,
        proxies=tuple(p.to_dict() for p in proxies),
        values=(values[0], values[1]),
        confidence=confidence,
        ci_method=ci_method,
        boundary=boundary,
        notes=tuple(notes),
    )


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


# --------------------------------------------------------------------------- decision boundary


def decision_boundaries(
    model: Any,
    rows: pd.DataFrame,
    feature: str,
    lo: float | np.ndarray,
    hi: float | np.ndarray,
    *,
    feature_columns: Sequence[str] | None = None,
    transform: Callable[[np.ndarray], Any] | None = None,
    tol: float = 1.0,
) -> pd.DataFrame:
    """Where each row's decision switches as ``feature`` moves over ``[lo, hi]``, by bisection.

    All rows are bisected at once (one model call per halving): the interval
    ``[a, b]`` with ``h(a) != h(b)`` is halved until ``b - a <= tol``; the
    boundary is reported as ``b`` for an increasing switch (the smallest value
    found approved) and ``a`` for a decreasing one.  Rows whose decision is the
    same at both ends have no boundary in ``[lo, hi]`` (NaN).  With more than one
    switch in ``[lo, hi]`` the bisection finds one of them; :func:`income_boundary`
    first locates every switch on a grid.

    Parameters
    ----------
    lo, hi : float or ndarray, shape (n_rows,)
        Search interval, common or per row.

    Returns
    -------
    DataFrame, one row per input row
        ``boundary`` (float, NaN if none), ``decision_lo``, ``decision_hi``
        (int8), ``status`` (``"increasing"``, ``"decreasing"``,
        ``"always approved"``, ``"always rejected"``).
    """
    n = len(rows)
    lo_arr = np.broadcast_to(np.asarray(lo, dtype=np.float64), (n,)).copy()
    hi_arr = np.broadcast_to(np.asarray(hi, dtype=np.float64), (n,)).copy()
    if not (np.all(np.isfinite(lo_arr)) and np.all(np.isfinite(hi_arr)) and np.all(lo_arr < hi_arr)):
        raise ValueError("lo and hi must be finite with lo < hi for every row")
    if not tol > 0:
        raise ValueError(f"tol must be positive, got {tol}")
    probe = ModelProbe.of(model, feature_columns, transform)
    if feature not in probe.feature_columns:
        raise ValueError(f"feature {feature!r} is not a model input ({list(probe.feature_columns)})")
    frame = rows.reset_index(drop=True).copy()

    def decide_at(x: np.ndarray) -> np.ndarray:
        frame[feature] = x
        return probe.decide(frame)

    d_lo, d_hi = decide_at(lo_arr), decide_at(hi_arr)
    a, b = lo_arr, hi_arr
    width = float(np.max(hi_arr - lo_arr)) if n else 0.0
    n_iter = int(np.ceil(np.log2(width / tol))) if width > tol else 0
    for _ in range(n_iter):  # bisection steps, vectorised over rows
        mid = 0.5 * (a + b)
        same_as_lo = decide_at(mid) == d_lo
        a = np.where(same_as_lo, mid, a)
        b = np.where(same_as_lo, b, mid)
    switch = d_lo != d_hi
    increasing = switch & (d_hi == 1)
    boundary = np.where(switch, np.where(increasing, b, a), np.nan)
    status = np.select(
        [increasing, switch, d_lo == 1],
        ["increasing", "decreasing", "always approved"],
        "always rejected",
    )
    return pd.DataFrame({"boundary": boundary, "decision_lo": d_lo, "decision_hi": d_hi, "status": status})


def profile_boundaries(
    model: Any,
    base: pd.DataFrame,
    feature: str,
    lo: float,
    hi: float,
    *,
    s_column: str,
    values: tuple[int, int] = (0, 1),
    feature_columns: Sequence[str] | None = None,
    transform: Callable[[np.ndarray], Any] | None = None,
    proxies: Sequence[Proxy] = (),
    tol: float = 1.0,
) -> pd.DataFrame:
    """Each profile's decision boundary in ``feature`` for both of its twins, and their gap.

    The twins of every row of ``base`` (:func:`make_twins`) are bisected together on
    ``[lo, hi]`` (:func:`decision_boundaries`, one model call per halving for all rows).
    Where a twin's decision switches more than once in ``[lo, hi]`` one switch is found;
    :func:`income_boundary` lists every switch of a single profile.

    Returns
    -------
    DataFrame, one row per profile
        ``boundary_s0``, ``boundary_s1`` (NaN where the decision does not switch),
        ``status_s0``, ``status_s1`` and ``gap = boundary_s0 - boundary_s1``.
    """
    lo, hi = _check_range(lo, hi, name="[lo, hi]")
    twins = make_twins(base.reset_index(drop=True), s_column, values=values, proxies=proxies)
    table = decision_boundaries(model, twins.drop(columns=["pair", "twin"]), feature, lo, hi,
                                feature_columns=feature_columns, transform=transform, tol=tol)
    b = table["boundary"].to_numpy()
    st = table["status"].to_numpy()
    return pd.DataFrame({
        "boundary_s0": b[0::2], "boundary_s1": b[1::2],
        "status_s0": st[0::2], "status_s1": st[1::2],
        "gap": b[0::2] - b[1::2],
    })


def income_boundary(
    model: Any,
    base_row: pd.Series | Mapping[str, Any],
    feature: str = "income",
    lo: float = BASE_INCOME_RANGE[0],
    hi: float = BASE_INCOME_RANGE[1],
    *,
    s_column: str,
    values: tuple[int, int] = (0, 1),
    feature_columns: Sequence[str] | None = None,
    transform: Callable[[np.ndarray], Any] | None = None,
    proxies: Sequence[Proxy] = (),
    tol: float = 1.0,
    n_grid: int = 2001,
    labels: Mapping[int, str] | None = None,
) -> dict[str, Any]:
    """Decision boundary in ``feature`` for each twin of ``base_row``, and the gap.

    For each twin of ``base_row`` (S = ``values[0]`` and ``values[1]``, everything
    else identical) the decision is evaluated on a grid of ``n_grid`` points over
    ``[lo, hi]``; every interval of the grid where it changes is then bisected on
    the model down to ``tol`` (:func:`decision_boundaries`), so the switch points
    are exact up to ``tol``, not sampled.  (A pocket narrower than the grid step
    ``(hi - lo) / (n_grid - 1)`` can be missed.)

    The twin's ``boundary`` is the single switch point when the decision is
    monotone in ``feature``.  When it is not (a fully grown tree copies the other
    group's label in a gap of this group's training data, leaving "pockets"), all
    switches are listed, ``monotone`` is False, and ``boundary`` is the switch
    point of the monotone decision with the same measure of approved values on
    ``[lo, hi]``: ``lo`` plus the measure of the rejected values (increasing), or
    plus the measure of the approved values (decreasing).  It is computed from the
    bisected switch points, and its difference between the twins is the
    difference of their approval shares times ``hi - lo``.

    The gap

    .. math:: \\Delta = b_{s_0} - b_{s_1}

    is how much more of ``feature`` (income) the ``S = values[0]`` twin needs for
    the same decision (negative: the ``S = values[1]`` twin needs more).

    Returns
    -------
    dict
        ``feature``, ``lo``, ``hi``, ``tol``, ``n_grid``; ``s0`` and ``s1``, each
        with ``value``, ``label``, ``boundary`` (None if the decision is the same
        at ``lo`` and ``hi``), ``status``, ``approved_share``, ``switches``
        (list), ``first_switch``, ``last_switch``, ``monotone``;
        ``gap`` (None unless both boundaries exist) and ``message``.
    """
    lo, hi = _check_range(lo, hi, name="[lo, hi]")
    if int(n_grid) < 2:
        raise ValueError(f"n_grid must be at least 2, got {n_grid}")
    grid = np.linspace(lo, hi, int(n_grid))
    curves = approval_curves(
        model, base_row, feature, grid, s_column=s_column, values=values,
        feature_columns=feature_columns, transform=transform, proxies=proxies, with_proba=False,
    )
    names = labels or {values[0]: f"{s_column}={values[0]}", values[1]: f"{s_column}={values[1]}"}
    out: dict[str, Any] = {
        "feature": feature, "lo": lo, "hi": hi, "tol": float(tol), "n_grid": int(n_grid),
    }
    for key, i in (("s0", 0), ("s1", 1)):
        d = curves[f"decision_{key}"].to_numpy()
        where = np.flatnonzero(np.diff(d) != 0)
        switches: list[float] = []
        if where.size:
            rows = pd.DataFrame([dict(base_row)] * where.size)
            rows[s_column] = values[i]
            table = decision_boundaries(
                model, rows, feature, grid[where], grid[where + 1],
                feature_columns=feature_columns, transform=transform, tol=tol,
            )
            switches = [float(x) for x in table["boundary"]]
        status = (
            ("increasing" if d[-1] == 1 else "decreasing") if d[0] != d[-1]
            else ("always approved" if d[0] == 1 else "always rejected")
        )
        # the decision toggles at each switch: segments [lo, s_1], [s_1, s_2], ..., [s_k, hi]
        edges = np.concatenate([[lo], switches, [hi]])
        seg_decision = (int(d[0]) + np.arange(edges.size - 1)) % 2
        approved = float(np.sum(np.diff(edges) * seg_decision))
        if status == "increasing":
            boundary: float | None = hi - approved  # lo + measure of the rejected incomes
        elif status == "decreasing":
            boundary = lo + approved
        else:
            boundary = None
        out[key] = {
            "value": values[i],
            "label": names[values[i]],
            "boundary": boundary,
            "status": status,
            "approved_share": approved / (hi - lo),
            "switches": switches,
            "first_switch": switches[0] if switches else None,
            "last_switch": switches[-1] if switches else None,
            "monotone": len(switches) <= 1,
        }
    b0, b1 = out["s0"]["boundary"], out["s1"]["boundary"]
    if b0 is not None and b1 is not None:
        out["gap"] = b0 - b1
        out["message"] = (
            f"the {names[values[0]]} twin needs {b0 - b1:+,.0f} more {feature} than the {names[values[1]]} "
            f"twin for the same decision (boundaries {b0:,.0f} and {b1:,.0f}, tolerance {tol:g})"
        )
    else:
        out["gap"] = None
        missing = [names[values[i]] for i, b in enumerate((b0, b1)) if b is None]
        out["message"] = f"no boundary in [{lo:g}, {hi:g}] for: " + ", ".join(missing)
    if not (out["s0"]["monotone"] and out["s1"]["monotone"]):
        out["message"] += (
            f"; the decision is not monotone in {feature}: boundaries are those of the monotone decision "
            "with the same approved share (see switches)"
        )
    return to_jsonable(out)


# --------------------------------------------------------------------------- curves and plot


def approval_curves(
    model: Any,
    base_row: pd.Series | Mapping[str, Any],
    feature: str,
    grid: np.ndarray,
    *,
    s_column: str,
    values: tuple[int, int] = (0, 1),
    feature_columns: Sequence[str] | None = None,
    transform: Callable[[np.ndarray], Any] | None = None,
    proxies: Sequence[Proxy] = (),
    with_proba: bool = True,
) -> pd.DataFrame:
    """Approval probability and decision of both twins of ``base_row`` along ``grid``.

    Returns
    -------
    DataFrame, ``len(grid)`` rows
        ``feature`` value, ``decision_s0``, ``decision_s1`` and (``with_proba``)
        ``proba_s0``, ``proba_s1``.
    """
    grid = np.asarray(grid, dtype=np.float64).reshape(-1)
    if grid.size == 0 or not np.all(np.isfinite(grid)):
        raise ValueError("grid must be a non-empty array of finite values")
    probe = ModelProbe.of(model, feature_columns, transform)
    base = pd.DataFrame([dict(base_row)] * grid.size)
    base[feature] = grid
    twins = make_twins(base, s_column, values=values, proxies=proxies)
    d = probe.decide(twins)
    out = pd.DataFrame({feature: grid, "decision_s0": d[0::2], "decision_s1": d[1::2]})
    if with_proba:
        p = probe.proba(twins)
        out["proba_s0"], out["proba_s1"] = p[0::2], p[1::2]
    return out


def _draw_approval_curves(
    ax: Any,
    curves: pd.DataFrame,
    feature: str,
    names: Mapping[int, str],
    values: tuple[int, int],
    *,
    boundary: Mapping[str, Any] | None,
    unit: str,
    title: str | None,
) -> None:
    """Draw :func:`approval_curves` output on ``ax``: one step curve per twin, boundaries, rule."""
    colours = (GROUP_COLOURS[0], GROUP_COLOURS[1])
    for i, key in enumerate(("s0", "s1")):
        ax.step(curves[feature], curves[f"proba_{key}"], where="post", color=colours[i],
                label=f"{names[values[i]]} twin", lw=2 - 0.6 * i)
        b = (boundary or {}).get(key, {}).get("boundary") if boundary else None
        if b is not None:
            ax.axvline(b, color=colours[i], ls="--", lw=1, label=f"{names[values[i]]} boundary: {b:,.0f}")
    threshold = (boundary or {}).get("threshold")
    if threshold is not None:
        ax.axhline(threshold, color="black", ls=":", lw=0.8, label=f"decision threshold {threshold:.2f}")
    rule = (boundary or {}).get("rule") or {}
    for key, i in (("female_threshold", 0), ("male_threshold", 1)):
        if key in rule and not (i == 0 and rule.get("unbiased")):
            label = f"rule: {key.replace('_', ' ')} {rule[key]:,.0f}"
            ax.axvline(rule[key], color="grey", ls=":", lw=1, label=label)
    if title:
        ax.set_title(title, fontsize="medium")
    elif boundary and boundary.get("gap") is not None:
        ax.set_title(f"Counterfactual twins: gap {boundary['gap']:,.0f} ({unit})", fontsize="medium")
    ax.set_xlabel(f"{feature} ({unit})")
    ax.set_ylabel("P(approved) by the model")
    ax.set_ylim(-0.03, 1.03)
    ax.legend(loc="lower right", fontsize="x-small")


def _save_figure(fig: Any, path: str | Path, pdf: bool) -> list[Path]:
    """Write ``fig`` as PNG at ``path`` (and PDF next to it, if ``pdf``) reproducibly; close it."""
    import matplotlib.pyplot as plt

    path = Path(path)
    try:
        return save_figure(fig, path, path.with_suffix(".pdf") if pdf else None)
    finally:
        plt.close(fig)


def plot_approval_curves(
    model: Any,
    base_row: pd.Series | Mapping[str, Any],
    feature: str,
    grid: np.ndarray,
    s_column: str,
    path: str | Path,
    *,
    values: tuple[int, int] = (0, 1),
    feature_columns: Sequence[str] | None = None,
    transform: Callable[[np.ndarray], Any] | None = None,
    proxies: Sequence[Proxy] = (),
    boundary: Mapping[str, Any] | None = None,
    labels: Mapping[int, str] | None = None,
    unit: str = "currency units per year",
    title: str | None = None,
    pdf: bool = False,
) -> list[Path]:
    """Plot P(approved) against ``feature``, one curve per twin group, boundaries marked.

    Written atomically as PNG at ``path`` (and as PDF next to it if ``pdf``).

    Returns
    -------
    list of Path
        The files written.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = approval_curves(
        model, base_row, feature, grid, s_column=s_column, values=values,
        feature_columns=feature_columns, transform=transform, proxies=proxies,
    )
    names = labels or {values[0]: f"{s_column}={values[0]}", values[1]: f"{s_column}={values[1]}"}
    with figure_style():
        fig, ax = plt.subplots(figsize=(6.4, 4.0))
        _draw_approval_curves(ax, curves, feature, names, values, boundary=boundary, unit=unit, title=title)
        fig.tight_layout()
    return _save_figure(fig, path, pdf)


def _draw_twin_scatter(
    ax: Any,
    pairs: pd.DataFrame,
    names: Mapping[int, str],
    values: tuple[int, int],
    *,
    threshold: float | None,
    title: str | None,
    max_points: int = 5000,
) -> None:
    """P(approved) of the S = values[0] twin (x) against the S = values[1] twin (y), flips coloured."""
    shown = pairs.iloc[np.linspace(0, len(pairs) - 1, min(len(pairs), max_points)).astype(int)]
    n = len(pairs)
    style = {
        "none": ("tab:grey", "same decision"),
        "favours_s1": (GROUP_COLOURS[1], f"flip favouring {names[values[1]]}"),
        "favours_s0": (GROUP_COLOURS[0], f"flip favouring {names[values[0]]}"),
    }
    for kind, (colour, label) in style.items():
        sel = shown[shown["flip"] == kind]
        count = int((pairs["flip"] == kind).sum())
        ax.scatter(sel["proba_s0"], sel["proba_s1"], s=6, alpha=0.5, color=colour, linewidths=0,
                   label=f"{label}: {count:,} of {n:,}")
    ax.plot([0, 1], [0, 1], color="black", lw=0.6, ls="-", label="identical twins (diagonal)")
    if threshold is not None:
        ax.axvline(threshold, color="black", ls=":", lw=0.8)
        ax.axhline(threshold, color="black", ls=":", lw=0.8, label=f"decision threshold {threshold:.2f}")
    ax.set_xlabel(f"P(approved), {names[values[0]]} twin")
    ax.set_ylabel(f"P(approved), {names[values[1]]} twin")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_aspect("equal")
    if title:
        ax.set_title(title, fontsize="medium")
    ax.legend(loc="lower right", fontsize="x-small", markerscale=2.5)


def plot_twin_audit(
    result: CounterfactualResult,
    path: str | Path,
    *,
    threshold: float | None = None,
    curves: pd.DataFrame | None = None,
    feature: str | None = None,
    boundary: Mapping[str, Any] | None = None,
    labels: Mapping[int, str] | None = None,
    unit: str = "currency units per year",
    suptitle: str | None = None,
    curves_title: str | None = None,
    note: str | None = None,
    pdf: bool = True,
) -> list[Path]:
    """The figure of one twin audit: every pair's two approval probabilities, and the curves.

    Left: P(approved) of the ``S = values[0]`` twin against that of its ``S = values[1]``
    twin, one point per pair; identical treatment lies on the diagonal, and a flip is a
    point in an off-diagonal quadrant of the decision threshold.  Right (when ``curves``
    from :func:`approval_curves` and ``feature`` are given): P(approved) against the
    numeric feature for both twins of one representative profile, with the boundaries
    (``curves_title`` names the profile).  ``note`` is written in the scatter's upper left
    corner (e.g. "S is not an input of the model").

    Written atomically as PNG at ``path`` (and PDF next to it if ``pdf``).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    values = result.values
    col = result.sensitive_column
    names = labels or {values[0]: f"{col}={values[0]}", values[1]: f"{col}={values[1]}"}
    lo, hi = result.ci
    scatter_title = (f"{result.n_pairs:,} twin pairs: flip rate {result.flip_rate:.3f} "
                     f"(95 % CI {lo:.3f}–{hi:.3f})")
    with figure_style():
        if curves is not None and feature is not None:
            fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(12.0, 5.0), width_ratios=(1, 1.25))
            _draw_twin_scatter(ax0, result.pairs, names, values, threshold=threshold, title=scatter_title)
            bnd = dict(boundary or {})
            if threshold is not None:
                bnd.setdefault("threshold", threshold)
            _draw_approval_curves(ax1, curves, feature, names, values, boundary=bnd, unit=unit,
                                  title=curves_title)
            ax1.xaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
        else:
            fig, ax0 = plt.subplots(figsize=(6.4, 5.6))
            _draw_twin_scatter(ax0, result.pairs, names, values, threshold=threshold, title=scatter_title)
        if note:
            ax0.text(0.03, 0.97, note, transform=ax0.transAxes, va="top", ha="left", fontsize="small",
                     bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "grey", "alpha": 0.9})
        if suptitle:
            fig.suptitle(suptitle, fontsize="large")
        fig.tight_layout()
    return _save_figure(fig, path, pdf)


# --------------------------------------------------------------------------- the whole demo


@dataclass(frozen=True)
class DemoRun:
    """Everything the demo made: the audit result, the tree, its customers, the base profiles."""

    result: CounterfactualResult
    model: Any
    customers: pd.DataFrame
    profiles: pd.DataFrame


def run_demo(
    *,
    random_state: int,
    n_customers: int = 1000,
    n_profiles: int = 1000,
    unbiased: bool = False,
    male_threshold: float = DEMO_RULE["male_threshold"],
    female_threshold: float = DEMO_RULE["female_threshold"],
    tol: float = 1.0,
) -> DemoRun:
    """The article's demo end to end: customers, poisoned tree, base profiles, twins, audit.

    Seeds for customers, tree and profiles are derived from ``random_state``
    (``numpy.random.SeedSequence`` spawn), so one integer fixes everything.

    Returns
    -------
    DemoRun
        ``result`` carries the income boundary of the first base profile
        (income is the only non-sensitive input, so it holds for every profile)
        and, under ``result.boundary["rule"]``, the rule that made the labels.
    """
    seqs = np.random.SeedSequence(random_state).spawn(3)
    s_cust, s_tree, s_prof = (int(q.generate_state(1)[0]) for q in seqs)
    customers = demo_customers(n_customers, random_state=s_cust)
    tree = train_demo_model(
        customers, unbiased=unbiased, random_state=s_tree,
        male_threshold=male_threshold, female_threshold=female_threshold,
    )
    profiles = base_profiles(n_profiles, random_state=s_prof)
    cols = ("gender_male", "income")
    boundary = income_boundary(
        tree, profiles.iloc[0], "income", *BASE_INCOME_RANGE, s_column="gender_male",
        feature_columns=cols, tol=tol, labels=GENDER_LABELS,
    )
    boundary["rule"] = {
        "unbiased": unbiased,
        "male_threshold": male_threshold,
        "female_threshold": male_threshold if unbiased else female_threshold,
        "gap": 0.0 if unbiased else female_threshold - male_threshold,
    }
    result = counterfactual_audit(
        tree, profiles, "gender_male", feature_columns=cols, id_column="application_id", boundary=boundary
    )
    return DemoRun(result=result, model=tree, customers=customers, profiles=profiles)
