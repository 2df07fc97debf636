"""Tests of the counterfactual-twin audit (fairwash.twins)."""

from __future__ import annotations

import json
import uuid

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from fairwash.twins import (
    BASE_INCOME_RANGE,
    DEMO_RULE,
    GENDER_LABELS,
    ModelProbe,
    OneHotProxy,
    ValueProxy,
    audit_both_ways,
    base_profiles,
    counterfactual_audit,
    decision_boundaries,
    demo_customers,
    demo_labels,
    flip_rate_ci,
    income_boundary,
    make_twins,
    plot_approval_curves,
    profiles_from_data,
    run_demo,
)

MALE, FEMALE = DEMO_RULE["male_threshold"], DEMO_RULE["female_threshold"]
COLS = ("gender_male", "income")


# --------------------------------------------------------------------------- helpers


def tree_steps(tree, gender: int, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """Independent step function of the tree for one gender, read from its own thresholds.

    For a fixed gender the tree's decision is constant between consecutive income
    thresholds of its nodes (sklearn sends ``x <= t`` left), so one evaluation
    inside each cell gives the exact function.  Returns the cell edges and the
    decision of each cell.
    """
    t = tree.tree_
    cuts = np.unique(t.threshold[t.feature == 1])
    edges = np.concatenate([[lo], cuts[(cuts > lo) & (cuts < hi)], [hi]])
    mids = 0.5 * (edges[:-1] + edges[1:])
    return edges, tree.predict(pd.DataFrame({"gender_male": float(gender), "income": mids}))


def disagreement(edges: np.ndarray, dec: np.ndarray, thr: float) -> list[tuple[float, float]]:
    """Intervals where the step function disagrees with the rule ``approve iff income >= thr``."""
    out = []
    for u, v, d in zip(edges[:-1], edges[1:], dec, strict=True):
        u2, v2 = (u, min(v, thr)) if d == 1 else (max(u, thr), v)
        if v2 > u2:
            out.append((u2, v2))
    return out


def resolution(intervals: list[tuple[float, float]], incomes: np.ndarray, thr: float) -> float:
    """Total width of the gaps between a group's own training incomes where the tree may err.

    A fully grown tree is exact at every training income of the group; between
    two consecutive ones it may copy the other group's label (it never split on
    gender in that cell).  The resolution is the width of the gap that holds the
    threshold plus that of every gap holding a disagreement interval.
    """
    inc = np.sort(incomes)
    gaps = {int(np.searchsorted(inc, thr))}
    for u, v in intervals:
        gaps.add(int(np.searchsorted(inc, 0.5 * (u + v))))
    return float(sum(inc[j] - inc[j - 1] for j in gaps))


# --------------------------------------------------------------------------- seeds and twins


def test_same_seed_same_persons():
    a, b = demo_customers(60, random_state=11), demo_customers(60, random_state=11)
    pd.testing.assert_frame_equal(a, b)
    c = demo_customers(60, random_state=12)
    assert not a["customer_id"].equals(c["customer_id"])
    assert set(a["gender"]) == {"male", "female"}
    assert (a["gender_male"] == (a["gender"] == "male")).all()
    assert a["customer_id"].is_unique and all(uuid.UUID(x) for x in a["customer_id"])

    p, q = base_profiles(80, random_state=5), base_profiles(80, random_state=5)
    pd.testing.assert_frame_equal(p, q)
    assert list(p.columns) == ["application_id", "income"]  # no gender
    assert p["application_id"].is_unique and all(uuid.UUID(x) for x in p["application_id"])
    assert p["income"].between(*BASE_INCOME_RANGE).all()
    # a Generator works and is reproducible too
    g1 = base_profiles(5, random_state=np.random.default_rng(3))
    g2 = base_profiles(5, random_state=np.random.default_rng(3))
    pd.testing.assert_frame_equal(g1, g2)
    with pytest.raises(TypeError, match="random_state"):
        base_profiles(5, random_state="seed")


def test_twins_differ_only_in_sensitive_column():
    base = base_profiles(50, random_state=1).assign(age=np.arange(50.0), gender_male=7)
    twins = make_twins(base, "gender_male", id_column="application_id", labels=GENDER_LABELS)
    assert len(twins) == 100
    s0, s1 = twins.iloc[0::2].reset_index(drop=True), twins.iloc[1::2].reset_index(drop=True)
    assert (s0["gender_male"] == 0).all() and (s1["gender_male"] == 1).all()
    assert (s0["twin"] == "female").all() and (s1["twin"] == "male").all()
    other = [c for c in twins.columns if c not in ("gender_male", "twin")]
    pd.testing.assert_frame_equal(s0[other], s1[other])
    pd.testing.assert_series_equal(s0["application_id"], base["application_id"], check_names=False)
    assert (s0["income"].to_numpy() == base["income"].to_numpy()).all()
    with pytest.raises(ValueError, match="values"):
        make_twins(base, "gender_male", values=(1, 1))
    with pytest.raises(ValueError, match="nope"):
        make_twins(base, "gender_male", proxies=[OneHotProxy("nope", "age")])


def test_profiles_from_data_keep_rows_or_marginals():
    rng = np.random.default_rng(0)
    a = rng.normal(size=3000)
    X = pd.DataFrame({"income": 50_000 + 10_000 * a, "age": 40 + 10 * a + rng.normal(size=3000)})
    joint = profiles_from_data(X, 4000, random_state=1)
    pd.testing.assert_frame_equal(joint, profiles_from_data(X, 4000, random_state=1))
    assert joint.merge(X, on=["income", "age"]).shape[0] >= 4000  # every profile is a row of X
    assert np.corrcoef(joint["income"], joint["age"])[0, 1] > 0.9
    ind = profiles_from_data(X, 4000, random_state=1, independent=True)
    assert ind["income"].isin(X["income"]).all() and ind["age"].isin(X["age"]).all()
    assert abs(np.corrcoef(ind["income"], ind["age"])[0, 1]) < 0.06  # 4000 draws: sd of r ~ 0.016
    assert stats.ks_2samp(ind["age"], X["age"]).pvalue > 1e-3
    assert ind["profile_id"].tolist() == list(range(4000))


def test_one_hot_proxy_swaps_husband_and_wife():
    base = pd.DataFrame({"rel_Wife": [0.0, 1.0, 0.0], "rel_Husband": [1.0, 0.0, 0.0],
                         "rel_Own_child": [0.0, 0.0, 1.0], "sex_code": 0.0})
    proxies = [OneHotProxy("rel_Wife", "rel_Husband"), ValueProxy("sex_code", 2, 1)]
    twins = make_twins(base, "sex", proxies=proxies)
    assert twins["sex_code"].tolist() == [2.0, 1.0] * 3
    f, m = twins.iloc[0::2], twins.iloc[1::2]
    assert f["rel_Wife"].tolist() == [1.0, 1.0, 0.0] and f["rel_Husband"].tolist() == [0.0, 0.0, 0.0]
    assert m["rel_Wife"].tolist() == [0.0, 0.0, 0.0] and m["rel_Husband"].tolist() == [1.0, 1.0, 0.0]
    assert (twins["rel_Own_child"].to_numpy() == np.repeat([0.0, 0.0, 1.0], 2)).all()
    # each twin remains a valid one-hot row
    assert (twins[["rel_Wife", "rel_Husband", "rel_Own_child"]].sum(axis=1) == 1).all()


# --------------------------------------------------------------------------- the article's demo


@pytest.mark.parametrize("seed", [7, 23, 2024])
def test_demo_poisoned_model(seed):
    run = run_demo(random_state=seed)
    result, tree, customers, profiles = run.result, run.model, run.customers, run.profiles
    b, lo, hi = result.boundary, *BASE_INCOME_RANGE
    tol = b["tol"]
    # direction: every flip favours the male twin (the poisoned rule never favours women)
    assert result.flip_rate > 0.3
    assert result.flips_favouring_s0 == 0 and result.flips_favouring_s1 == result.n_flips
    assert result.ci[0] <= result.flip_rate <= result.ci[1]
    assert (result.pairs["id"].to_numpy() == profiles["application_id"].to_numpy()).all()

    res, wrong = {}, []
    for key, g, thr in (("s0", 0, FEMALE), ("s1", 1, MALE)):
        edges, dec = tree_steps(tree, g, lo, hi)
        # the bisected switches are the tree's own switch points, to within tol
        exact = edges[1:-1][np.diff(dec) != 0]
        assert len(b[key]["switches"]) == len(exact)
        assert np.all(np.abs(np.asarray(b[key]["switches"]) - exact) <= tol)
        # the boundary is lo + the measure of rejected incomes (= the switch if monotone)
        assert abs(b[key]["boundary"] - (lo + np.sum(np.diff(edges)[dec == 0]))) <= len(exact) * tol
        # the tree is exact at the group's own training incomes: it errs only inside gaps between them
        inc = customers.loc[customers["gender_male"] == g, "income"].to_numpy()
        bad = disagreement(edges, dec, thr)
        for u, v in bad:
            assert not np.any((inc > u) & (inc < v))
        res[key] = resolution(bad, inc, thr)
        assert res[key] < 2_500  # a local effect of the tree, not a different rule
        assert abs(b[key]["boundary"] - thr) <= res[key] + len(exact) * tol
        wrong += bad

    # the measured gap is the rule's, within the tree's resolution
    rule_gap = FEMALE - MALE
    assert b["rule"]["gap"] == rule_gap
    assert abs(b["gap"] - rule_gap) <= res["s0"] + res["s1"] + 8 * tol

    # pair by pair the flips are the rule's, except where the tree errs for one of the twins
    income = profiles["income"].to_numpy()
    rule_flip = (income >= MALE) & (income < FEMALE)
    measured = (result.pairs["flip"] != "none").to_numpy()
    fuzzy = np.zeros(income.size, dtype=bool)
    for u, v in wrong:
        fuzzy |= (income >= u - tol) & (income <= v + tol)
    assert (measured[~fuzzy] == rule_flip[~fuzzy]).all()
    assert abs(result.flip_rate - rule_flip.mean()) <= fuzzy.mean() + 1e-12


def test_demo_unbiased_control_does_not_cry_wolf():
    run = run_demo(random_state=7, unbiased=True)
    result, tree, customers = run.result, run.model, run.customers
    assert result.n_flips == 0 and result.flip_rate == 0.0
    assert result.ci[0] == 0.0 and result.ci[1] < 0.005
    b = result.boundary
    assert b["gap"] == 0.0  # identical decisions for both twins at every income
    assert b["s0"]["switches"] == b["s1"]["switches"] and b["s1"]["monotone"]
    # one rule for all: every customer pins it, so the resolution is the gap holding the threshold
    edges, dec = tree_steps(tree, 1, *BASE_INCOME_RANGE)
    inc = customers["income"].to_numpy()
    res = resolution(disagreement(edges, dec, MALE), inc, MALE)
    assert abs(b["s1"]["boundary"] - MALE) <= res + b["tol"]
    used = {tree.feature_names_in_[f] for f in tree.tree_.feature if f >= 0}
    assert used == {"income"}


def test_demo_labels_follow_the_rule():
    income = [49_999.0, 50_000.0, 50_000.0, 64_999.0, 65_000.0]
    c = pd.DataFrame({"gender_male": [1, 1, 0, 0, 0], "income": income})
    assert demo_labels(c).tolist() == [0, 1, 0, 0, 1]
    assert demo_labels(c, unbiased=True).tolist() == [0, 1, 1, 1, 1]
    with pytest.raises(ValueError, match="female_threshold"):
        demo_labels(c, male_threshold=60_000, female_threshold=50_000)


# --------------------------------------------------------------------------- general models


class ThresholdModel:
    """P(approve) = logistic(slope * (z_income - cut - bias * z_s)) on standardized inputs."""

    def __init__(self, cut: float, bias: float = 0.0, slope: float = 50.0):
        self.cut, self.bias, self.slope = cut, bias, slope

    def predict_proba(self, Z):
        Z = np.asarray(Z)
        return 1.0 / (1.0 + np.exp(-self.slope * (Z[:, 1] - self.cut + self.bias * Z[:, 0])))

    def predict(self, Z):
        return (self.predict_proba(Z) >= 0.5).astype(np.int8)


MEAN, SCALE = np.array([0.5, 55_000.0]), np.array([0.5, 10_000.0])


def standardize(X):
    return (np.asarray(X) - MEAN) / SCALE


def test_model_ignoring_s_never_flips_and_transform_is_used():
    base = base_profiles(400, random_state=3)
    model = ThresholdModel(cut=0.0)  # approve iff income >= 55 000 (raw), whatever S
    r = counterfactual_audit(model, base, "gender_male", feature_columns=COLS, transform=standardize)
    assert r.n_flips == 0 and r.flip_rate == 0.0 and r.sensitive_is_input
    assert r.pairs["decision_s0"].tolist() == (base["income"] >= 55_000).astype(int).tolist()
    bd = income_boundary(model, base.iloc[0], s_column="gender_male", feature_columns=COLS,
                         transform=standardize, tol=0.5)
    assert bd["gap"] == 0.0 and abs(bd["s0"]["boundary"] - 55_000) <= 0.5


def test_smooth_model_gap_matches_analytic_value():
    # bias 0.3 on z_s (scale 0.5): s=1 shifted by 0.3 * (+1) and s=0 by 0.3 * (-1) in z_income units
    model = ThresholdModel(cut=0.0, bias=0.3)
    bd = income_boundary(model, {"income": 0.0}, s_column="gender_male", feature_columns=COLS,
                         transform=standardize, tol=0.25)
    # boundary: z_inc = 0.3 * (-z_s)  ->  income = 55 000 - 3 000 * z_s, z_s = -1 (s=0), +1 (s=1)
    assert abs(bd["s0"]["boundary"] - 58_000) <= 0.25 and abs(bd["s1"]["boundary"] - 52_000) <= 0.25
    assert abs(bd["gap"] - 6_000) <= 0.5 and bd["s0"]["monotone"] and bd["s1"]["monotone"]
    base = base_profiles(2000, random_state=9)
    r = counterfactual_audit(model, base, "gender_male", feature_columns=COLS, transform=standardize)
    inc = base["income"].to_numpy()
    assert r.n_flips == int(((inc >= 52_000) & (inc < 58_000)).sum()) == r.flips_favouring_s1


def test_sklearn_model_via_probe_and_decreasing_boundary():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"gender_male": rng.integers(0, 2, 500).astype(float), "debt": rng.uniform(0, 10, 500)})
    y = (X["debt"] < 4).astype(int)  # more debt -> rejected
    clf = LogisticRegression(C=1e4, max_iter=1000).fit(X, y)
    probe = ModelProbe.of(clf)
    assert probe.feature_columns == ("gender_male", "debt")
    assert probe.proba(X).shape == (500,)
    table = decision_boundaries(clf, X.iloc[:3], "debt", 0.0, 10.0, tol=1e-3)
    assert (table["status"] == "decreasing").all()
    assert np.allclose(table["boundary"], 4.0, atol=0.2)
    table = decision_boundaries(clf, X.iloc[:2], "debt", 0.0, 1.0)
    assert (table["status"] == "always approved").all() and table["boundary"].isna().all()
    with pytest.raises(ValueError, match="feature_columns"):
        ModelProbe.of(ThresholdModel(0.0))


def test_decision_boundaries_per_row_against_known_thresholds():
    class PerRow:
        def predict(self, X):
            return (X[:, 1] >= X[:, 0]).astype(np.int8)

        def predict_proba(self, X):
            return self.predict(X).astype(float)

    rows = pd.DataFrame({"cut": np.linspace(41_000, 69_000, 9), "income": 0.0})
    table = decision_boundaries(PerRow(), rows, "income", 40_000, 70_000, feature_columns=("cut", "income"),
                                tol=0.1)
    assert (table["status"] == "increasing").all()
    assert np.all((table["boundary"] >= rows["cut"]) & (table["boundary"] <= rows["cut"] + 0.1))


def test_s_not_an_input_and_proxies_reported_both_ways():
    rng = np.random.default_rng(4)
    n = 600
    rel = rng.choice(["Husband", "Wife", "Own-child"], size=n, p=[0.4, 0.1, 0.5])
    X = pd.DataFrame({"age": rng.uniform(18, 70, n), "rel_Husband": (rel == "Husband") * 1.0,
                      "rel_Wife": (rel == "Wife") * 1.0, "sex": (rel == "Husband") * 1.0})

    class ProxyModel:  # approves husbands only: discriminates through the proxy, never reads sex
        def predict(self, Z):
            return (Z[:, 1] == 1).astype(np.int8)

        def predict_proba(self, Z):
            return self.predict(Z).astype(float)

    feats = ("age", "rel_Husband", "rel_Wife")
    proxy = OneHotProxy("rel_Wife", "rel_Husband")
    both = audit_both_ways(ProxyModel(), X, "sex", [proxy], feature_columns=feats)
    fixed, flipped = both["proxies_fixed"], both["proxies_flipped"]
    assert not fixed.sensitive_is_input and fixed.n_flips == 0
    assert any("not an input" in note for note in fixed.notes)
    assert fixed.held_fixed == feats and fixed.flipped_columns == ()
    married = int(np.isin(rel, ["Husband", "Wife"]).sum())
    assert flipped.n_flips == married == flipped.flips_favouring_s1
    assert set(flipped.flipped_columns) == {"rel_Husband", "rel_Wife"} and flipped.held_fixed == ("age",)
    assert flipped.to_dict()["proxies"] == [{"kind": "one_hot", "s0_column": "rel_Wife",
                                              "s1_column": "rel_Husband"}]


# --------------------------------------------------------------------------- the confidence interval


def test_clopper_pearson_matches_beta_quantiles_and_covers():
    for k, n in [(0, 20), (3, 20), (20, 20), (37, 100)]:
        lo, hi = flip_rate_ci(k, n)
        assert lo <= k / n <= hi
        ref_lo = 0.0 if k == 0 else stats.beta.ppf(0.025, k, n - k + 1)
        ref_hi = 1.0 if k == n else stats.beta.ppf(0.975, k + 1, n - k)
        assert lo == pytest.approx(ref_lo, abs=1e-9) and hi == pytest.approx(ref_hi, abs=1e-9)
    # exact coverage by enumerating every outcome k of Binomial(n, p)
    n = 40
    ks = np.arange(n + 1)
    cis = np.array([flip_rate_ci(int(k), n) for k in ks])
    wilson = np.array([flip_rate_ci(int(k), n, method="wilson") for k in ks])
    for p in (0.02, 0.1, 0.3, 0.5, 0.77):
        pmf = stats.binom.pmf(ks, n, p)
        assert pmf[(cis[:, 0] <= p) & (p <= cis[:, 1])].sum() >= 0.95
        assert pmf[(wilson[:, 0] <= p) & (p <= wilson[:, 1])].sum() >= 0.90
    with pytest.raises(ValueError):
        flip_rate_ci(5, 3)


# --------------------------------------------------------------------------- outputs


def test_result_is_json_and_plot_is_written(tmp_path):
    run = run_demo(random_state=3, n_customers=300, n_profiles=100)
    result, tree = run.result, run.model
    text = json.dumps(result.to_dict(include_pairs=True))
    back = json.loads(text)
    assert back["n_pairs"] == 100 and len(back["pairs"]) == 100 and back["boundary"]["rule"]["gap"] == 15_000
    written = plot_approval_curves(tree, {"income": 0.0}, "income", np.linspace(40_000, 70_000, 601),
                                   "gender_male", tmp_path / "demo.png", feature_columns=COLS,
                                   boundary=result.boundary, labels=GENDER_LABELS, pdf=True)
    assert [p.name for p in written] == ["demo.png", "demo.pdf"]
    assert (tmp_path / "demo.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "demo.pdf").read_bytes()[:4] == b"%PDF"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.pdf", "demo.png"]  # no temporary files left
