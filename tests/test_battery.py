"""The seven-test battery: calibration on honest samples, power on shifted ones, caching."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

from fairwash.catalogue import DISTANCE_TESTS, NO_MMD, TESTS
from fairwash.detect import battery
from fairwash.detect.battery import context_for_thresholds, run_battery
from fairwash.detect.context import BatteryContext, WassersteinConfig
from fairwash.detect.distances import wasserstein
from fairwash.detect.thresholds import (
    ReferenceThresholds,
    reference_draws,
    reference_thresholds,
    thresholds_from_draws,
)

N, M = 1_000, 100


def _discrete_full(n: int, seed: int) -> np.ndarray:
    """Rows (x1, x2, s, ŷ) on a grid of 80 distinct values, so rows repeat and KL_A varies."""
    rng = np.random.default_rng(seed)
    x1 = rng.integers(0, 5, n) - 2.0
    x2 = rng.integers(0, 4, n) * 0.5
    s = (rng.random(n) < 0.5).astype(float)
    y = (rng.random(n) < 0.25 + 0.3 * s + 0.05 * x1).astype(float)
    return np.column_stack([x1, x2, s, y])


@pytest.fixture(scope="module")
def full() -> np.ndarray:
    return _discrete_full(N, 0)


@pytest.fixture(scope="module")
def ctx(full) -> BatteryContext:
    return BatteryContext.prepare(full)


@pytest.fixture(scope="module")
def thresholds(ctx) -> ReferenceThresholds:
    return reference_thresholds(None, M, n_draws=399, random_state=1, context=ctx)


def _honest(full, rng, m=M):
    return full[rng.choice(len(full), m, replace=False)]


# ----------------------------------------------------------------------------- calibration
def test_calibration_on_honest_samples(full, ctx, thresholds):
    """Independent honest samples: each distance test rejects at ~5 %.

    With the threshold the 380th of 399 honest draws, the number of rejections among R
    new honest samples is Beta-binomial(R, 20, 380) for a continuous statistic (the
    threshold's own randomness included); ties (cell tests) can only lower the rate.
    KS on a binary ŷ is conservative (its p-values assume a continuous law): its rate
    must stay below the nominal bound.
    """
    rng = np.random.default_rng(2)
    R = 400
    rejected = {t: 0 for t in TESTS}
    overall = 0
    for _ in range(R):
        res = run_battery(None, _honest(full, rng), thresholds, context=ctx)
        for r in res.results:
            rejected[r.name] += r.rejected
        overall += not res.passed
    lo, hi = stats.betabinom.interval(0.99, R, 20, 380)
    rates = {t: v / R for t, v in rejected.items()}
    print(f"honest rejection rates: {rates}; battery overall {overall / R:.3f}")
    for t in ("KL_A", "W_A", "MMD_A", "KL_P", "W_P", "MMD_P"):
        assert lo <= rejected[t] <= hi, f"{t}: {rejected[t]}/{R} rejections outside [{lo}, {hi}]"
    assert rejected["KS"] <= hi
    # the battery rejects when any test does: between the largest and the sum of the rates
    assert max(rejected.values()) <= overall <= sum(rejected.values())
    assert overall / R < 0.35


# ----------------------------------------------------------------------------- power
def test_power_flipped_decisions_in_group_0(full, ctx, thresholds):
    """ŷ 0 -> 1 for every S=0 row: the (s, ŷ) tests and KS all reject."""
    rng = np.random.default_rng(3)
    reps = 20
    hits = {t: 0 for t in TESTS}
    for _ in range(reps):
        s = _honest(full, rng).copy()
        s[s[:, -2] == 0, -1] = 1.0
        res = run_battery(None, s, thresholds, context=ctx)
        for r in res.results:
            hits[r.name] += r.rejected
        assert not res.passed
    for t in ("KS", "KL_P", "W_P", "MMD_P", "W_A", "MMD_A"):
        assert hits[t] >= 0.9 * reps, (t, hits)


def test_power_moved_features(full, ctx, thresholds):
    """Features moved by +0.75 (off the grid): the joint tests reject, KL_A at +inf."""
    rng = np.random.default_rng(4)
    for _ in range(10):
        s = _honest(full, rng).copy()
        s[:, 0] += 0.75
        res = run_battery(None, s, thresholds, context=ctx)
        assert res["KL_A"].statistic == np.inf and res["KL_A"].rejected
        assert res["KL_A"].p_value == pytest.approx(1 / 400)
        assert res["W_A"].rejected and res["MMD_A"].rejected
        # the (s, ŷ) tests do not see the features
        unmoved = ctx.statistics(s - np.array([0.75, 0, 0, 0]), ("W_P", "KL_P", "MMD_P"))
        for t, (stat, _) in unmoved.items():
            assert res[t].statistic == stat


def test_kl_a_rejects_one_new_row(full, ctx, thresholds):
    rng = np.random.default_rng(5)
    s = _honest(full, rng).copy()
    assert run_battery(None, s, thresholds, context=ctx, tests=("KL_A",))["KL_A"].statistic < np.inf
    s[17, 1] += 1e-9
    res = run_battery(None, s, thresholds, context=ctx, tests=("KL_A",))
    assert res["KL_A"].statistic == np.inf and res["KL_A"].rejected and not res.passed


# ----------------------------------------------------------------------------- thresholds
def test_same_seed_same_thresholds_and_shards(ctx):
    a = reference_thresholds(None, 50, n_draws=30, random_state=7, context=ctx, tests=NO_MMD)
    b = reference_thresholds(None, 50, n_draws=30, random_state=7, context=ctx, tests=NO_MMD)
    c = reference_thresholds(None, 50, n_draws=30, random_state=8, context=ctx, tests=NO_MMD)
    for t in a.draws:
        np.testing.assert_array_equal(a.draws[t], b.draws[t])
    assert a.thresholds == b.thresholds
    assert not np.array_equal(a.draws["W_A"], c.draws["W_A"])
    # draws computed in two shards = the same draws
    first = reference_draws(ctx, 50, tests=NO_MMD, n_draws=12, random_state=7)
    rest = reference_draws(ctx, 50, tests=NO_MMD, n_draws=18, random_state=7, start=12)
    for t in a.draws:
        np.testing.assert_array_equal(np.concatenate([first[t], rest[t]]), a.draws[t])


def test_threshold_rules(ctx):
    draws = reference_draws(ctx, 50, tests=("W_A", "W_P"), n_draws=39, random_state=3)
    q = thresholds_from_draws(ctx, 50, draws, tests=("W_A", "W_P"))
    ms = thresholds_from_draws(ctx, 50, draws, tests=("W_A", "W_P"), rule="mean_std")
    w = draws["W_A"]
    assert q.thresholds["W_A"] == np.sort(w)[37]  # ceil(0.95 * 40) = 38th smallest
    assert ms.thresholds["W_A"] == pytest.approx(w.mean() + 1.959964 * w.std(), rel=1e-6)
    # "statistic > threshold" is exactly "Monte-Carlo p-value <= 0.05"
    for x in np.concatenate([w, np.linspace(w.min() - 0.1, w.max() + 0.1, 101)]):
        assert q.rejects("W_A", x) == (q.p_value("W_A", x) <= 0.05)
    with pytest.raises(ValueError, match="too small"):
        thresholds_from_draws(ctx, 50, {"W_A": w[:10]}, tests=("W_A",))


def test_json_round_trip(full, ctx, thresholds):
    back = ReferenceThresholds.from_dict(json.loads(json.dumps(thresholds.to_dict())))
    s = _honest(full, np.random.default_rng(6))
    r1 = run_battery(None, s, thresholds, context=ctx).to_frame()
    r2 = run_battery(full, s, back).to_frame()  # context rebuilt from the stored settings
    assert r1.equals(r2)


def test_stored_mmd_self_term_is_reused_only_on_the_same_data(full, thresholds, monkeypatch):
    """The MMD_A self term travels with the thresholds: a later context skips the n x n pass."""
    import fairwash.detect.distances as dist

    stored = thresholds.precomputed["mmd_self_term"]
    fresh = dist.MMDReference.build(full).self_term
    assert stored == fresh
    back = ReferenceThresholds.from_dict(json.loads(json.dumps(thresholds.to_dict())))
    calls = []
    real = dist._kernel_quadform
    monkeypatch.setattr(dist, "_kernel_quadform", lambda *a, **k: calls.append(a[0].shape) or real(*a, **k))
    s = _honest(full, np.random.default_rng(7))
    ctx2 = context_for_thresholds(full, back)
    r = run_battery(None, s, back, context=ctx2)
    assert (len(full), full.shape[1]) not in calls[:1] and all(c[0] == M for c in calls)
    assert r["MMD_A"].statistic == pytest.approx(dist.mmd(s, full), rel=1e-12, abs=1e-15)
    other = _discrete_full(N, 99)
    assert context_for_thresholds(other, back)._mmd_ref is None  # other data: nothing preloaded


# ----------------------------------------------------------------------------- configuration
def test_no_mmd_configuration_and_frame(full, ctx, thresholds):
    s = _honest(full, np.random.default_rng(7))
    res = run_battery(None, s, thresholds, context=ctx, tests=NO_MMD)
    df = res.to_frame()
    assert list(df["test"]) == list(NO_MMD)
    assert list(df.columns) == ["test", "statistic", "threshold", "p_value", "rejected"]
    assert np.isnan(df.loc[0, "threshold"])  # KS: its own p-value
    assert res.passed == (not df["rejected"].any())


def test_run_battery_refuses_mismatches(full, ctx, thresholds):
    s = _honest(full, np.random.default_rng(8))
    with pytest.raises(ValueError, match="m = 100"):
        run_battery(None, s[:50], thresholds, context=ctx)
    other = BatteryContext.prepare(_discrete_full(N, 1))
    with pytest.raises(ValueError, match="fingerprint"):
        run_battery(None, s, thresholds, context=other)
    sub = BatteryContext.prepare(full, w_config=WassersteinConfig("subref", subref_size=300))
    with pytest.raises(ValueError, match="settings"):
        run_battery(None, s, thresholds, context=sub)
    partial = reference_thresholds(None, M, n_draws=19, random_state=0, context=ctx, tests=("W_P",))
    with pytest.raises(ValueError, match="do not cover"):
        run_battery(None, s, partial, context=ctx)
    with pytest.raises(ValueError, match="unknown test"):
        run_battery(None, s, thresholds, context=ctx, tests=("W_X",))
    with pytest.raises(ValueError, match="KS"):
        run_battery(None, s, thresholds, context=ctx, sample_weights=np.ones(M))


def test_weighted_sample_without_ks(full, ctx, thresholds):
    """Doubling every weight changes nothing; a zero-weight foreign row does not count."""
    s = _honest(full, np.random.default_rng(9)).copy()
    tests = DISTANCE_TESTS
    base = run_battery(None, s, thresholds, context=ctx, tests=tests).to_frame()
    twice = run_battery(None, s, thresholds, context=ctx, tests=tests, sample_weights=np.full(M, 2.0))
    np.testing.assert_allclose(twice.to_frame()["statistic"], base["statistic"], rtol=1e-9)
    w = np.ones(M)
    w[0] = 0.0
    s[0, 0] = 99.0
    res = run_battery(None, s, thresholds, context=ctx, tests=("KL_A", "W_A"), sample_weights=w)
    assert np.isfinite(res["KL_A"].statistic) and res["W_A"].statistic < 10


def test_faster_w_a_estimators(full):
    """subref with a reference >= n is the exact distance; sliced is a lower-scale proxy."""
    s = _honest(full, np.random.default_rng(10))
    big = BatteryContext.prepare(full, w_config=WassersteinConfig("subref", subref_size=N))
    exact = wasserstein(s, full)
    assert big.statistics(s, ("W_A",))["W_A"][0] == pytest.approx(exact, rel=1e-12)
    sub = BatteryContext.prepare(full, w_config=WassersteinConfig("subref", subref_size=300, seed=1))
    v1 = sub.statistics(s, ("W_A",))["W_A"][0]
    assert v1 == sub.statistics(s, ("W_A",))["W_A"][0]  # the same fixed subsample
    sl = BatteryContext.prepare(full, w_config=WassersteinConfig("sliced", n_projections=200))
    v2 = sl.statistics(s, ("W_A",))["W_A"][0]
    assert 0 < v2 < exact  # a 1-D projection never increases the Euclidean cost


def test_ks_reference_calibration(full):
    """ks_calibration="reference": KS gets honest draws and rejects at ~5 %; power kept."""
    kctx = BatteryContext.prepare(full, ks_calibration="reference")
    th = reference_thresholds(None, M, tests=("KS",), n_draws=199, random_state=11, context=kctx)
    assert "KS" in th.draws and np.isfinite(th.thresholds["KS"])
    rng = np.random.default_rng(12)
    R = 300
    rej = sum(
        run_battery(None, _honest(full, rng), th, context=kctx, tests=("KS",)).results[0].rejected
        for _ in range(R)
    )
    lo, hi = stats.betabinom.interval(0.99, R, 10, 190)
    assert lo <= rej <= hi, rej
    s = _honest(full, rng).copy()
    s[s[:, -2] == 0, -1] = 1.0
    assert run_battery(None, s, th, context=kctx, tests=("KS",))["KS"].rejected
    with pytest.raises(ValueError, match="settings"):
        run_battery(None, s, th, context=BatteryContext.prepare(full), tests=("KS",))


def test_code_mode_thresholds_regenerate_the_same_samples(full, ctx, thresholds):
    """The code's mode: mean + 1.96 std of the first 30 draws; KL in the authors' form on the same samples."""
    from fairwash.detect.distances import kl_discrete
    from fairwash.detect.thresholds import code_mode_thresholds

    code = code_mode_thresholds(full, thresholds, n_draws=30)
    w = thresholds.draws["W_A"][:30]
    assert code["W_A"] == pytest.approx(w.mean() + 1.959963984540054 * w.std(), rel=1e-12)
    # brute force: regenerate draw i with its own stream, KL_A in the authors' form
    kl = []
    for i in range(30):
        rng = np.random.default_rng(np.random.SeedSequence(1, spawn_key=(i,)))
        s = full[rng.choice(len(full), M, replace=False)]
        assert kl_discrete(s, full) == pytest.approx(thresholds.draws["KL_A"][i], rel=1e-12)
        kl.append(kl_discrete(s, full, form="authors"))
    kl = np.asarray(kl)
    assert code["KL_A"] == pytest.approx(kl.mean() + 1.959963984540054 * kl.std(), rel=1e-12)
    with pytest.raises(ValueError, match="n_draws"):
        code_mode_thresholds(full, thresholds, n_draws=10_000)
    with pytest.raises(ValueError, match="fingerprint"):
        code_mode_thresholds(_discrete_full(N, 5), thresholds)


def test_battery_keeps_the_historical_import_path():
    """tables.py, results.py, store.py and the notebook import these from fairwash.detect.battery."""
    from fairwash.detect import context, thresholds

    for name in ("BatteryContext", "WassersteinConfig"):
        assert getattr(battery, name) is getattr(context, name)
    for name in ("ReferenceThresholds", "reference_draws", "thresholds_from_draws", "reference_thresholds",
                 "code_mode_thresholds"):
        assert getattr(battery, name) is getattr(thresholds, name)
    assert set(battery.__all__) >= {"TESTS", "NO_MMD", "run_battery", "check_thresholds",
                                    "context_for_thresholds"}
