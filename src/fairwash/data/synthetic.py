"""Synthetic audit data: the paper's simulated family and the counterfactual loan set.

Two generators, both returning :class:`~fairwash.data.base.AuditData` with true
labels ``Y`` (no decisions yet: the audited model is trained on them later):

* :func:`simulate`, the simulated family of the paper (Appendix 0.I): the label
  Disparate Impact ``P(Y=1|S=0) / P(Y=1|S=1)`` is dialled in through its
  parameters, and the features make ``Y`` learnable, so that a trained model's DI
  tracks the labels' DI.
* :func:`loan_applicants`, the loan data set of the counterfactual-audit article:
  Mimesis persons with a gender and an income, approved by a rule that demands a
  higher income from women (or, with ``unbiased=True``, the same income from all).

:data:`SYNTHETIC_PRESETS` names instances at the paper's audited sizes and
:func:`make_synthetic` builds one from a name or a parameter mapping.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from fairwash.data.base import AuditData

__all__ = [
    "simulate",
    "loan_people_frame",
    "loan_applicants",
    "SYNTHETIC_PRESETS",
    "make_synthetic",
    "AUDIT_FRACTION",
]

#: The pipeline audits the first ``n_audit`` rows of a 20 % test split, so a
#: generator's ``n`` must be at least ``n_audit / AUDIT_FRACTION``.
AUDIT_FRACTION = 0.2


# ---------------------------------------------------------------------- validation helpers
def _rng(random_state: Any, where: str) -> np.random.Generator:
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, int | np.integer) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"{where}: random_state must be a non-negative int, got {random_state}")
        return np.random.default_rng(int(random_state))
    raise TypeError(
        f"{where}: random_state must be an int or a numpy Generator (explicit seed), got {random_state!r}"
    )


def _int_at_least(value: Any, name: str, low: int, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{where}: {name} must be an int, got {value!r}")
    if value < low:
        raise ValueError(f"{where}: {name} must be >= {low}, got {value}")
    return int(value)


def _as_float(value: Any, name: str, where: str) -> float:
    if isinstance(value, bool):
        raise TypeError(f"{where}: {name} must be a number, got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{where}: {name} must be a number, got {value!r}") from None


def _open_prob(value: Any, name: str, where: str) -> float:
    v = _as_float(value, name, where)
    if not (0.0 < v < 1.0):
        raise ValueError(f"{where}: {name} must be a probability in the open interval (0, 1), got {value!r}")
    return v


def _finite(value: Any, name: str, where: str, *, positive: bool = False) -> float:
    v = _as_float(value, name, where)
    if not math.isfinite(v) or (positive and v <= 0):
        kind = "a finite positive number" if positive else "a finite number"
        raise ValueError(f"{where}: {name} must be {kind}, got {value!r}")
    return v


# ---------------------------------------------------------------------- simulated family
def simulate(
    n: int,
    n_features: int,
    p_s1: float,
    p_y1_s0: float,
    p_y1_s1: float,
    *,
    signal: float = 4.0,
    n_informative: int | None = None,
    n_binary: int | None = None,
    random_state: int | np.random.Generator,
    name: str = "simulated",
) -> AuditData:
    r"""The paper's simulated family (Appendix 0.I) with a dialled label DI.

    The paper says only that the simulation's parameters control ``P(S=1)``,
    ``P(Y=1|S=0)`` and ``P(Y=1|S=1)``; its authors' notebook draws ``S``, then
    ``Y | S``, then the decisions directly, with no features.  fairwash needs
    features a model can learn (the attacks act through the model), so the
    generative model is (independently for each individual):

    .. math::
        S \sim \mathrm{Bernoulli}(p_{s1}), \qquad
        Y \mid S = s \sim \mathrm{Bernoulli}(p_{y1,s}),

        X_{\text{inf}} \mid Y \sim \mathcal N\!\left((2Y - 1)\,
            \tfrac{\text{signal}}{2\sqrt{k}}\,\mathbf 1_k,\; I_k\right),
        \quad X_{\text{bin}} \sim \mathrm{Bernoulli}(1/2)^{b},
        \quad X_{\text{noise}} \sim \mathcal N(0, I_{d-k-b}),

    all three blocks independent given ``Y``, and ``S`` not among the features
    (``X`` is independent of ``S`` given ``Y``).  The two class means of the ``k``
    informative features lie ``signal`` apart in Mahalanobis distance, whatever
    ``k``: the Bayes classifier is linear and errs with probability
    ``Φ(-signal/2)`` (2.3 % at the default 4).  Because ``X ⟂ S | Y``, a good
    classifier thresholded at the label positive rate has decision rates
    ``p_s·TPR + (1-p_s)·FPR`` per group, close to the label rates, so its DI
    is close to the label DI

    .. math:: DI_Y = p_{y1,s0} / p_{y1,s1}

    (eq. 1 applied to ``Y``; with the default signal the Bayes classifier's DI is
    within about 0.03 of it for label DIs 0.3–0.8, and logistic regression within
    0.05, see ``tests/test_synthetic.py``).  The empirical label DI is within
    binomial noise of the dialled one (no rounding to exact counts).

    Parameters
    ----------
    n : int, >= 10
        Number of individuals.
    n_features : int, >= 1
        Number of feature columns ``d``.
    p_s1 : float in (0, 1)
        ``P(S = 1)`` (S = 1 is the advantaged group).
    p_y1_s0, p_y1_s1 : float in (0, 1)
        ``P(Y = 1 | S = 0)`` and ``P(Y = 1 | S = 1)``.
    signal : float > 0, default 4.0
        Mahalanobis distance between the class means of the informative features.
    n_informative : int, optional
        Number ``k`` of informative Gaussian features, ``1 <= k <= d``; default
        ``ceil(d / 2)``.
    n_binary : int, optional
        Number ``b`` of binary (Bernoulli(1/2)) noise features, ``0 <= b <= d - k``;
        default ``(d - k) // 2``.  The remaining ``d - k - b`` are Gaussian noise.
    random_state : int or numpy.random.Generator
        Seed; the same seed gives the same data.
    name : str, default "simulated"
        Name of the returned data set.

    Returns
    -------
    AuditData
        Columns ``inf_0..inf_{k-1}``, ``bin_0..``, ``noise_0..`` (float64), ``S``,
        ``Y``; no ``Y_hat``.  ``meta`` holds the parameters, ``"source":
        "simulated"``, the dialled ``label_di`` and the empirical ``label_di_empirical``.

    Examples
    --------
    >>> d = simulate(1000, 4, 0.5, 0.2, 0.5, random_state=0)
    >>> d.columns
    ['inf_0', 'inf_1', 'bin_0', 'noise_0']
    >>> d.meta["label_di"]
    0.4
    """
    where = "simulate"
    n = _int_at_least(n, "n", 10, where)
    d = _int_at_least(n_features, "n_features", 1, where)
    p_s1 = _open_prob(p_s1, "p_s1", where)
    p_y1_s0 = _open_prob(p_y1_s0, "p_y1_s0", where)
    p_y1_s1 = _open_prob(p_y1_s1, "p_y1_s1", where)
    signal = _finite(signal, "signal", where, positive=True)
    k = math.ceil(d / 2) if n_informative is None else _int_at_least(n_informative, "n_informative", 1, where)
    if k > d:
        raise ValueError(f"{where}: n_informative must be <= n_features = {d}, got {k}")
    b = (d - k) // 2 if n_binary is None else _int_at_least(n_binary, "n_binary", 0, where)
    if k + b > d:
        raise ValueError(
            f"{where}: n_binary must be <= n_features - n_informative = {d - k}, got {b}"
        )
    rng = _rng(random_state, where)

    S = (rng.random(n) < p_s1).astype(np.int8)
    Y = (rng.random(n) < np.where(S == 1, p_y1_s1, p_y1_s0)).astype(np.int8)
    shift = signal / (2.0 * math.sqrt(k))
    X_inf = rng.standard_normal((n, k)) + ((2.0 * Y - 1.0) * shift)[:, None]
    X_bin = (rng.random((n, b)) < 0.5).astype(np.float64)
    X_noise = rng.standard_normal((n, d - k - b))
    columns = (
        [f"inf_{j}" for j in range(k)]
        + [f"bin_{j}" for j in range(b)]
        + [f"noise_{j}" for j in range(d - k - b)]
    )
    X = pd.DataFrame(np.hstack([X_inf, X_bin, X_noise]), columns=columns)

    rate0 = float(Y[S == 0].mean()) if (S == 0).any() else float("nan")
    rate1 = float(Y[S == 1].mean()) if (S == 1).any() else float("nan")
    meta = {
        "source": "simulated",
        "generator": "fairwash.data.synthetic.simulate",
        "params": {
            "n": n,
            "n_features": d,
            "p_s1": p_s1,
            "p_y1_s0": p_y1_s0,
            "p_y1_s1": p_y1_s1,
            "signal": signal,
            "n_informative": k,
            "n_binary": b,
        },
        "s_rule": "simulated: S = 0 the disadvantaged group",
        "label_di": p_y1_s0 / p_y1_s1,
        "label_di_empirical": rate0 / rate1 if rate1 > 0 else None,
        "bayes_error": float(0.5 * math.erfc(signal / (2.0 * math.sqrt(2.0)))),
    }
    return AuditData.from_arrays(name, X, S, Y, categorical=[f"bin_{j}" for j in range(b)], meta=meta)


# ---------------------------------------------------------------------- loan applicants
#: The article's base profiles have "a mid-range income between 40,000 and 70,000".
DEFAULT_INCOME_RANGE = (40_000, 70_000)


def loan_people_frame(
    n: int,
    random_state: int | np.random.Generator,
    *,
    p_male: float = 0.5,
    income_low: int = DEFAULT_INCOME_RANGE[0],
    income_high: int = DEFAULT_INCOME_RANGE[1],
    age_low: int = 18,
    age_high: int = 75,
    locale: str = "en",
) -> pd.DataFrame:
    """Synthetic bank customers: Mimesis identities with a gender, an age and an income.

    Identities (``application_id`` UUID, first name matching the gender, last
    name) and the genders come from a :class:`mimesis.Generic` seeded from
    ``random_state``; ages and incomes from a numpy generator seeded the same way.
    Gender is binary here (Mimesis' :class:`~mimesis.enums.Gender` enum):
    ``P(male) = p_male``.  Income is uniform on the integers
    ``[income_low, income_high]`` (the article's 40 000 – 70 000 by default), age
    uniform on ``[age_low, age_high]``; both independent of gender.

    Parameters
    ----------
    n : int, >= 10
    random_state : int or numpy.random.Generator
    p_male : float in (0, 1), default 0.5
    income_low, income_high : int, income_low < income_high
    age_low, age_high : int, 0 <= age_low <= age_high
    locale : str, default "en"
        Mimesis locale code for the names.

    Returns
    -------
    pandas.DataFrame, shape (n, 6)
        Columns ``application_id`` (str), ``first_name`` (str), ``last_name`` (str),
        ``gender`` (``"male"`` / ``"female"``), ``age`` (int64), ``income`` (int64).
    """
    # mimesis (names, jobs) only for the loan data: ~0.5 s of import time the simulated sets do not need
    from mimesis import Generic
    from mimesis.enums import Gender
    from mimesis.locales import Locale

    where = "loan_people_frame"
    n = _int_at_least(n, "n", 10, where)
    p_male = _open_prob(p_male, "p_male", where)
    income_low = _int_at_least(income_low, "income_low", 0, where)
    income_high = _int_at_least(income_high, "income_high", 0, where)
    if income_low >= income_high:
        raise ValueError(f"{where}: income_low ({income_low}) must be < income_high ({income_high})")
    age_low = _int_at_least(age_low, "age_low", 0, where)
    age_high = _int_at_least(age_high, "age_high", 0, where)
    if age_low > age_high:
        raise ValueError(f"{where}: age_low ({age_low}) must be <= age_high ({age_high})")
    try:
        loc = Locale(locale)
    except ValueError:
        raise ValueError(f"{where}: locale {locale!r} is not a Mimesis locale") from None
    rng = _rng(random_state, where)

    seed = int(rng.integers(0, 2**63 - 1))
    gen = Generic(loc, seed=seed)
    genders = gen.person.random.choices([Gender.MALE, Gender.FEMALE], weights=[p_male, 1.0 - p_male], k=n)
    person, crypto = gen.person, gen.cryptographic
    frame = pd.DataFrame(
        {
            "application_id": [crypto.uuid() for _ in range(n)],
            "first_name": [person.first_name(gender=g) for g in genders],
            "last_name": [person.last_name() for _ in range(n)],
            "gender": [g.value for g in genders],
        }
    )
    frame["age"] = rng.integers(age_low, age_high + 1, size=n, dtype=np.int64)
    frame["income"] = rng.integers(income_low, income_high + 1, size=n, dtype=np.int64)
    return frame


def _approval_probability(threshold: float, low: int, high: int) -> float:
    """``P(income >= threshold)`` for income uniform on the integers ``[low, high]``."""
    first = max(math.ceil(threshold), low)
    return max(0, high - first + 1) / (high - low + 1)


def loan_applicants(
    n: int,
    *,
    random_state: int | np.random.Generator,
    male_income_threshold: float = 50_000,
    female_income_threshold: float = 65_000,
    unbiased: bool = False,
    label_noise: float = 0.0,
    p_male: float = 0.5,
    income_low: int = DEFAULT_INCOME_RANGE[0],
    income_high: int = DEFAULT_INCOME_RANGE[1],
    name: str = "loan",
) -> AuditData:
    r"""The loan data set of the counterfactual-audit article, with a gender-biased rule.

    Persons come from :func:`loan_people_frame`.  The label is the historical
    approval decision the audited model will learn:

    .. math::
        Y = \mathbb 1\{\text{income} \ge T_{\text{gender}}\},
        \qquad T_{\text{male}} = 50\,000 < T_{\text{female}} = 65\,000,

    so women need a much higher income for the same approval (the article's
    "much harsher threshold").  With incomes uniform on 40 000 – 70 000 the label
    DI is ``P(income ≥ 65 000) / P(income ≥ 50 000) ≈ 0.25``.  With
    ``unbiased=True`` both genders face ``male_income_threshold`` (the control
    the counterfactual audit needs: label DI ≈ 1, and gender flips change
    nothing).  With ``label_noise = ε > 0`` each label is then flipped
    independently with probability ε.

    Because the counterfactual audit flips gender and needs the model to see it,
    ``X`` contains ``gender_male`` (= S) next to ``income`` and ``age`` (age is
    noise: the rule ignores it).  ``S = 1`` is male, ``S = 0`` female, the
    disadvantaged group.

    Parameters
    ----------
    n : int, >= 10
    random_state : int or numpy.random.Generator
        The same seed gives the same persons whatever the rule's parameters.
    male_income_threshold, female_income_threshold : float, finite, >= 0
    unbiased : bool, default False
    label_noise : float in [0, 0.5), default 0
    p_male, income_low, income_high
        Passed to :func:`loan_people_frame`.
    name : str, default "loan"

    Returns
    -------
    AuditData
        ``X`` columns ``income``, ``age``, ``gender_male``; ``S``; ``Y``.  ``meta``
        holds the parameters, the rule, and the expected and empirical label DIs.
    """
    where = "loan_applicants"
    t_m = _finite(male_income_threshold, "male_income_threshold", where)
    t_f = _finite(female_income_threshold, "female_income_threshold", where)
    if t_m < 0 or t_f < 0:
        raise ValueError(f"{where}: income thresholds must be >= 0, got male={t_m}, female={t_f}")
    noise = _as_float(label_noise, "label_noise", where)
    if not (0.0 <= noise < 0.5):
        raise ValueError(f"{where}: label_noise must be in [0, 0.5), got {label_noise!r}")
    rng = _rng(random_state, where)
    people = loan_people_frame(n, rng, p_male=p_male, income_low=income_low, income_high=income_high)

    S = (people["gender"].to_numpy() == "male").astype(np.int8)
    income = people["income"].to_numpy(np.float64)
    t_female_used = t_m if unbiased else t_f
    Y = (income >= np.where(S == 1, t_m, t_female_used)).astype(np.int8)
    if noise > 0:
        Y = np.where(rng.random(len(Y)) < noise, 1 - Y, Y).astype(np.int8)

    X = pd.DataFrame(
        {"income": income, "age": people["age"].to_numpy(np.float64), "gender_male": S.astype(np.float64)}
    )
    q_m = _approval_probability(t_m, income_low, income_high)
    q_f = _approval_probability(t_female_used, income_low, income_high)
    p1 = noise + (1 - 2 * noise) * q_m
    p0 = noise + (1 - 2 * noise) * q_f
    r0 = float(Y[S == 0].mean()) if (S == 0).any() else float("nan")
    r1 = float(Y[S == 1].mean()) if (S == 1).any() else float("nan")
    meta = {
        "source": "loan (counterfactual-audit article, Mimesis persons)",
        "generator": "fairwash.data.synthetic.loan_applicants",
        "params": {
            "n": len(people),
            "male_income_threshold": t_m,
            "female_income_threshold": t_f,
            "unbiased": bool(unbiased),
            "label_noise": noise,
            "p_male": float(p_male),
            "income_low": int(income_low),
            "income_high": int(income_high),
        },
        "s_rule": "gender: S = 0 female",
        "rule": {
            "text": "approve if income >= threshold[gender]",
            "threshold": {"male": t_m, "female": t_female_used},
        },
        "label_di": p0 / p1 if p1 > 0 else None,
        "label_di_empirical": r0 / r1 if r1 > 0 else None,
    }
    return AuditData.from_arrays(name, X, S, Y, categorical=["gender_male"], meta=meta)


# ---------------------------------------------------------------------- presets
def _sim(n: int, n_audit: int, p_y1_s0: float) -> dict[str, Any]:
    return {
        "kind": "simulate",
        "n": n,
        "n_audit": n_audit,
        "n_features": 10,
        "p_s1": 0.7,
        "p_y1_s0": p_y1_s0,
        "p_y1_s1": 0.5,
    }


#: Named synthetic instances at the paper's audited sizes.  ``n_audit`` is the
#: audited size; ``n = n_audit / AUDIT_FRACTION`` because the pipeline audits the
#: first ``n_audit`` rows of a 20 % test split.  ``P(S=1) = 0.7`` as in the
#: authors' simulation notebook; ``P(Y=1|S=1) = 0.5``.
SYNTHETIC_PRESETS: dict[str, dict[str, Any]] = {
    "sim_di03": _sim(100_000, 20_000, 0.15),
    "sim_di06": _sim(100_000, 20_000, 0.30),
    "sim_di09": _sim(100_000, 20_000, 0.45),
    "sim_di03_small": _sim(25_000, 5_000, 0.15),
    "sim_di06_small": _sim(25_000, 5_000, 0.30),
    "loan": {"kind": "loan", "n": 25_000, "n_audit": 5_000},
    "loan_unbiased": {"kind": "loan", "n": 25_000, "n_audit": 5_000, "unbiased": True},
}

_KINDS = {"simulate": simulate, "loan": loan_applicants}


def make_synthetic(
    name_or_params: str | Mapping[str, Any], random_state: int | np.random.Generator
) -> AuditData:
    """Build a synthetic data set from a preset name or a parameter mapping.

    Parameters
    ----------
    name_or_params : str or mapping
        A key of :data:`SYNTHETIC_PRESETS`, or a mapping of the same form:
        ``"kind"`` (``"simulate"`` or ``"loan"``), optional ``"n_audit"`` (checked:
        ``n >= n_audit / AUDIT_FRACTION``), optional ``"name"``, and the
        generator's keyword arguments.
    random_state : int or numpy.random.Generator

    Returns
    -------
    AuditData
        Its ``meta`` also records ``"preset"`` (or None) and ``"n_audit"``.
    """
    if isinstance(name_or_params, str):
        if name_or_params not in SYNTHETIC_PRESETS:
            raise ValueError(
                f"make_synthetic: unknown preset {name_or_params!r}; known: {sorted(SYNTHETIC_PRESETS)}"
            )
        preset: str | None = name_or_params
        params = dict(SYNTHETIC_PRESETS[name_or_params])
        params.setdefault("name", name_or_params)
    elif isinstance(name_or_params, Mapping):
        preset = None
        params = dict(name_or_params)
    else:
        raise TypeError(f"make_synthetic: expected a preset name or a mapping, got {name_or_params!r}")
    kind = params.pop("kind", None)
    if kind not in _KINDS:
        raise ValueError(f"make_synthetic: 'kind' must be one of {sorted(_KINDS)}, got {kind!r}")
    n_audit = params.pop("n_audit", None)
    if n_audit is not None:
        n_audit = _int_at_least(n_audit, "n_audit", 1, "make_synthetic")
        n = params.get("n")
        needed = math.ceil(n_audit / AUDIT_FRACTION)
        if isinstance(n, int | np.integer) and n < needed:
            raise ValueError(
                f"make_synthetic: n = {n} is too small for n_audit = {n_audit}; the audit takes "
                f"{n_audit} rows of a {AUDIT_FRACTION:.0%} test split, so n must be >= {needed}"
            )
    params.setdefault("name", kind if kind != "simulate" else "simulated")
    try:
        data = _KINDS[kind](random_state=random_state, **params)
    except TypeError as exc:
        if "unexpected keyword" in str(exc) or "missing" in str(exc):
            raise ValueError(f"make_synthetic: bad parameters for kind {kind!r}: {exc}") from None
        raise
    meta = dict(data.meta)
    meta["preset"] = preset
    meta["n_audit"] = n_audit
    return AuditData(data.name, data.X, data.S, data.Y, data.Y_hat, data.features, meta)
