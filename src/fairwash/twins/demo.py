"""The counterfactual-twin article's demo: virtual customers, a poisoned tree, its audit.

The article (``shared/seeds/counterfactual-audit-article.txt``) builds 1 000 virtual bank
customers with Mimesis (:func:`demo_customers`), labels them with a rule that approves
men at a lower income than women (:func:`demo_labels`, :data:`DEMO_RULE`), trains a
decision tree on the labels (:func:`train_demo_model`) and audits it with twins of
gender-neutral base profiles (:func:`run_demo`).  The unbiased control labels every
applicant with the men's threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fairwash.twins.boundaries import income_boundary
from fairwash.twins.measures import CounterfactualResult, counterfactual_audit
from fairwash.twins.profiles import BASE_INCOME_RANGE, base_profiles, check_range, int_seed

__all__ = [
    "DEMO_RULE",
    "CUSTOMER_INCOME_RANGE",
    "GENDER_LABELS",
    "DEMO_FEATURES",
    "demo_customers",
    "demo_labels",
    "train_demo_model",
    "DemoRun",
    "run_demo",
]

#: The rule that poisons the demo's labels: approved iff income >= threshold of the
#: applicant's gender.  Men are approved at a standard income, women only at a much
#: higher one; the true gap is ``female - male = 15 000`` (as in ``data.synthetic.loan_applicants``).
DEMO_RULE: dict[str, float] = {"male_threshold": 50_000.0, "female_threshold": 65_000.0}

#: Income range of the demo's training customers; wider than the base range so
#: that both thresholds sit well inside the training data.
CUSTOMER_INCOME_RANGE: tuple[float, float] = (30_000.0, 90_000.0)

GENDER_LABELS: dict[int, str] = {0: "female", 1: "male"}

#: The demo tree's inputs, in its order.
DEMO_FEATURES: tuple[str, str] = ("gender_male", "income")


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
    from mimesis import Generic  # mimesis only for the demo: import cost
    from mimesis.enums import Gender
    from mimesis.locales import Locale

    if int(n) < 1:
        raise ValueError(f"n must be a positive number of customers, got {n}")
    lo, hi = check_range(*income_range, name="income_range")
    gen = Generic(locale=Locale(locale), seed=int_seed(random_state))
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
    from sklearn.tree import DecisionTreeClassifier  # scikit-learn only for the demo: import cost

    y = demo_labels(
        customers, unbiased=unbiased, male_threshold=male_threshold, female_threshold=female_threshold
    )
    tree = DecisionTreeClassifier(random_state=int_seed(random_state) % 2**32)
    tree.fit(customers[list(DEMO_FEATURES)].astype(np.float64), y)
    return tree




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
    cols = DEMO_FEATURES
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
