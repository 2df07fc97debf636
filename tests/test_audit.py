"""The audit protocol (fairwash.protocol): Tables 2, 3, 15 and Fig. 8 on a small instance.

Fixture: n = 600 rows on a grid (rows repeat, so KL_A varies), decisions from a fixed rule
(no trained model), m = 60. The fast search (greedy prefixes, DI first, short-circuited
battery, cell cap) is checked against a plain search written here from the public
battery API.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from fairwash.catalogue import CELL_TESTS, NO_MMD, TESTS
from fairwash.data.base import AuditData
from fairwash.detect.battery import (
    BatteryContext,
    context_for_thresholds,
    reference_thresholds,
    run_battery,
)
from fairwash.detect.cells import cell_di_cap, kl_cells_vec, mmd_cells_vec
from fairwash.detect.lazy import LazyBattery, TestCounters
from fairwash.fairness import disparate_impact
from fairwash.manipulate import Manipulation, run_method
from fairwash.protocol import (
    ManipulationLevels,
    detection,
    detection_summary,
    draw_samples,
    empty_detection,
    fairest_undetected,
    fairest_undetected_sets,
    sample_di,
    sample_size_study,
    search_levels,
    smallest_safe_fraction,
)

N, M = 600, 60


def _data(seed: int = 0, n: int = N) -> AuditData:
    rng = np.random.default_rng(seed)
    x1 = rng.integers(0, 4, n) - 1.5
    x2 = rng.integers(0, 3, n) * 0.5
    s = (rng.random(n) < 0.6).astype(np.int8)
    score = 0.8 * x1 + 0.9 * s + rng.normal(0, 0.8, n)
    y_hat = (score > 0.9).astype(np.int8)
    return AuditData.from_arrays("toy", np.column_stack([x1, x2]), s, Y_hat=y_hat)


@pytest.fixture(scope="module")
def data() -> AuditData:
    return _data()


@pytest.fixture(scope="module")
def ctx(data) -> BatteryContext:
    return BatteryContext.prepare(data.joint())


@pytest.fixture(scope="module")
def thr(ctx):
    return reference_thresholds(None, M, n_draws=99, random_state=7, context=ctx)


def _identity(data: AuditData) -> Manipulation:
    n = data.n
    w = np.full(n, 1 / n)
    return Manipulation("identity", 0.0, data.X.to_numpy(), data.S, data.Y_hat, w, np.arange(n))


# ----------------------------------------------------------------------------- samples
def test_sample_di_matches_disparate_impact_and_undefined_cases(data):
    man = _identity(data)
    idx = draw_samples(man, M, 50, 3)
    got = sample_di(man.S, man.Y_hat, idx)
    want = [disparate_impact(man.Y_hat[i], man.S[i]) for i in idx]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    # S=1 without a positive (DI = inf) and a missing group are undefined, never compliant
    S = np.array([0, 0, 1, 1], dtype=np.int8)
    Y = np.array([1, 0, 0, 0], dtype=np.int8)
    assert np.isnan(sample_di(S, Y, np.array([[0, 1, 2, 3]])))[0]
    assert np.isnan(sample_di(S, np.ones(4, np.int8), np.array([[0, 1]])))[0]


def test_draw_samples_streams_are_reproducible_and_keyed(data):
    man = _identity(data)
    a = draw_samples(man, M, 5, 11, key=(1, 2))
    np.testing.assert_array_equal(a, draw_samples(man, M, 5, 11, key=(1, 2)))
    # sample j is the same whether 5 or 3 are drawn (one stream per sample)
    np.testing.assert_array_equal(a[:3], draw_samples(man, M, 3, 11, key=(1, 2)))
    assert not np.array_equal(a, draw_samples(man, M, 5, 11, key=(1, 3)))
    assert all(len(set(row)) == M for row in a)  # without replacement
    with pytest.raises(ValueError, match="m must be"):
        draw_samples(man, N + 1, 1, 0)


# ----------------------------------------------------------------------------- short circuit
def test_short_circuit_verdicts_equal_full_battery(data, ctx, thr):
    """The lazy battery's "passes" equals run_battery's, for 7 and 5 tests, on varied samples."""
    rng = np.random.default_rng(5)
    mans = [_identity(data), run_method("Matching", data, target=0.8),
            run_method("Entropic_b", data, target=0.8)]
    X = data.X.to_numpy().copy()
    X[rng.choice(N, 5, replace=False), 0] += 0.123  # a few moved points (Grad-like)
    mans.append(Manipulation("moved", 0.8, X, data.S, data.Y_hat, np.full(N, 1 / N), np.arange(N)))
    n_pass = 0
    for man in mans:
        rows = man.joint()
        for idx in draw_samples(man, M, 15, 9):
            full = run_battery(None, rows[idx], thr, context=ctx)
            full5 = run_battery(None, rows[idx], thr, tests=NO_MMD, context=ctx)
            counters = TestCounters()
            lazy = LazyBattery(ctx, thr, rows[idx], counters)
            assert lazy.passes(TESTS) == full.passed
            assert lazy.passes(NO_MMD) == full5.passed
            for t, rejected in lazy.rejected.items():
                assert rejected == full[t].rejected
            n_pass += full.passed
            if not full.passed:  # stopped early: W_A computed only if every cheaper test passed
                assert counters.tests.get("W_A", 0) <= 1
    assert 0 < n_pass < 60  # both verdicts occur


# ----------------------------------------------------------------------------- Table 2
def test_honest_identity_rejected_at_the_battery_false_positive_rate(data, ctx, thr):
    """Q = P_n: detection's rejection rate equals the rate of honest samples drawn directly."""
    k = 300
    frame = detection(None, _identity(data), M, thr, n_samples=k, random_state=21, context=ctx)
    rng = np.random.default_rng(99)
    full = data.joint()
    direct = [run_battery(None, full[rng.choice(N, M, replace=False)], thr, context=ctx).passed
              for _ in range(k)]
    a, b = int((~frame["passed"]).sum()), k - int(np.sum(direct))
    table = [[a, k - a], [b, k - b]]
    assert stats.fisher_exact(table).pvalue > 1e-3, table
    # each calibrated test rejects at most at its level: <= the 99.9 % Beta-binomial quantile
    kk = math.ceil(0.95 * 100)
    upper = stats.betabinom(k, kk, 100 - kk).ppf(0.999)
    for t in ("KL_A", "KL_P", "W_A", "W_P", "MMD_A", "MMD_P"):
        assert frame[f"{t}_rejected"].sum() <= upper, t
    assert 0.02 < a / k < 0.5  # several 5 % tests: more than 5 %, far from always


def test_moved_points_are_always_rejected_by_kl_a(data, ctx, thr):
    """Grad-like Q: every sample holding a moved (new) row has KL_A = inf and is rejected."""
    rng = np.random.default_rng(3)
    moved = rng.choice(N, 20, replace=False)
    X = data.X.to_numpy().copy()
    X[moved] += 0.37
    man = Manipulation("moved", 0.8, X, data.S, data.Y_hat, np.full(N, 1 / N), np.arange(N))
    frame = detection(None, man, M, thr, n_samples=40, random_state=4, context=ctx)
    idx = draw_samples(man, M, 40, 4, key=(M,))
    has_moved = np.isin(idx, moved).any(axis=1)
    assert has_moved.sum() >= 30
    assert frame.loc[has_moved, "KL_A_rejected"].all()
    assert np.isinf(frame.loc[has_moved, "KL_A_stat"]).all()
    assert not frame.loc[has_moved, "passed"].any()
    summary = detection_summary(frame)
    assert summary["rejection_rate"]["KL_A"] >= has_moved.mean()


def test_detection_summary_logic():
    frame = pd.DataFrame({
        "di": [0.9, 0.85, 0.5, np.nan], "compliant": [True, True, False, False],
        "KS_rejected": [False, True, False, False], "KL_A_rejected": [True, False, False, True],
        "passed": [False, False, True, False],
    })
    s = detection_summary(frame, ("KS", "KL_A"))
    assert s["n_compliant"] == 2 and s["n_undefined"] == 1
    assert s["evades"] == {"KS": True, "KL_A": True}
    assert s["evades_all"] is False  # the passing sample is not compliant
    assert s["rejection_rate"]["KL_A"] == 0.5
    assert s["compliant_pass_rate"]["KS"] == 0.5


def _table2_methods(data: AuditData) -> list[Manipulation]:
    """Q's of several kinds: honest, reweighting, moved rows (cheap tests reject), Matching."""
    X = data.X.to_numpy().copy()
    X[np.random.default_rng(5).choice(N, 5, replace=False), 0] += 0.123
    moved = Manipulation("moved", 0.8, X, data.S, data.Y_hat, np.full(N, 1 / N), np.arange(N))
    return [_identity(data), run_method("Matching", data, target=0.8),
            run_method("Entropic_b", data, target=0.8), moved]


def test_lazy_detection_equals_the_full_battery_on_the_same_samples(data, ctx, thr):
    """W_A only where it decides: every computed cell and the verdict "evades all" are run_battery's."""
    n_samples, n_sub, saved, compliant, evading = 25, 4, 0, 0, 0
    for i, man in enumerate(_table2_methods(data)):
        full = detection(None, man, M, thr, n_samples=n_samples, random_state=30 + i, context=ctx)
        lazy = detection(None, man, M, thr, n_samples=n_samples, random_state=30 + i, context=ctx,
                         w_a_rate_samples=n_sub)
        assert full["full_battery"].all() and full["passed"].notna().all()
        assert int(lazy["full_battery"].sum()) == n_sub
        # the full frame is the independent battery's (run_battery on the same rows)
        idx = draw_samples(man, M, n_samples, 30 + i, key=(M,))
        rows = man.joint()
        for j in range(n_samples):
            res = run_battery(None, rows[idx[j]], thr, context=ctx)
            assert bool(full.loc[j, "passed"]) == res.passed
            for r in res.results:
                assert full.loc[j, f"{r.name}_stat"] == r.statistic or (
                    math.isnan(r.statistic) and math.isnan(full.loc[j, f"{r.name}_stat"]))
                assert bool(full.loc[j, f"{r.name}_rejected"]) == r.rejected
        # every cell the lazy job computed equals the full one; every cheap test is everywhere
        for t in TESTS:
            known = lazy[f"{t}_rejected"].notna().to_numpy()
            if t != "W_A":
                assert known.all(), t
            assert (lazy.loc[known, f"{t}_rejected"] == full.loc[known, f"{t}_rejected"]).all(), t
            pd.testing.assert_series_equal(lazy.loc[known, f"{t}_stat"], full.loc[known, f"{t}_stat"])
            pd.testing.assert_series_equal(lazy.loc[known, f"{t}_p"], full.loc[known, f"{t}_p"])
            assert lazy.loc[~known, f"{t}_stat"].isna().all() and lazy.loc[~known, f"{t}_p"].isna().all()
        fb = lazy["full_battery"].to_numpy()
        pd.testing.assert_frame_equal(lazy[fb], full[fb])
        # passed: known where it is full's, NA only on non-compliant samples passing every cheap test
        known = lazy["passed"].notna().to_numpy()
        assert (lazy.loc[known, "passed"] == full.loc[known, "passed"]).all()
        assert not lazy.loc[~known, "compliant"].any()
        cheap = [t for t in TESTS if t != "W_A"]
        assert not lazy.loc[~known, [f"{t}_rejected" for t in cheap]].any(axis=None)
        a, b = detection_summary(full), detection_summary(lazy)
        assert a["evades_all"] == b["evades_all"] and a["n_compliant"] == b["n_compliant"]
        np.testing.assert_equal(a["compliant_pass_all"], b["compliant_pass_all"])  # nan == nan
        for t in cheap:
            assert a["rejection_rate"][t] == b["rejection_rate"][t] and b["rejection_n"][t] == n_samples
            np.testing.assert_equal(a["compliant_pass_rate"][t], b["compliant_pass_rate"][t])
        assert b["rejection_n"]["W_A"] == n_sub
        assert b["rejection_rate"]["W_A"] == full.loc[fb, "W_A_rejected"].mean()
        for t in TESTS:  # a lazy "evades" is full's where it is known
            assert b["evades"][t] in (a["evades"][t], None), t
        saved += int(lazy["W_A_rejected"].isna().sum())
        compliant += a["n_compliant"]
        evading += bool(a["evades_all"])
    assert saved > 0 and compliant > 0 and evading > 0  # W_A skipped somewhere; both verdicts occur


def test_full_battery_subsample_is_seeded(data, ctx, thr, tmp_path):
    from fairwash.protocol.detection_rates import full_battery_mask
    from fairwash.store import write_audit_frame

    man = run_method("Entropic_b", data, target=0.8)
    paths = []
    for k in range(2):
        f = detection(None, man, M, thr, n_samples=12, random_state=5, context=ctx, w_a_rate_samples=3)
        write_audit_frame(f, tmp_path / f"{k}.parquet")
        paths.append(tmp_path / f"{k}.parquet")
    assert paths[0].read_bytes() == paths[1].read_bytes()
    masks = {tuple(full_battery_mask(12, 3, seed, M)) for seed in range(20)}
    assert len(masks) > 10 and all(sum(mk) == 3 for mk in masks)
    assert full_battery_mask(12, 3, 5, M).tolist() == f["full_battery"].tolist()
    assert full_battery_mask(12, None, 5, M).all() and full_battery_mask(12, 40, 5, M).all()
    with pytest.raises(ValueError, match="w_a_rate_samples"):
        full_battery_mask(12, -1, 5, M)


def test_detection_summary_handles_missing_verdicts():
    """NA (not computed) is neither a pass nor a rejection; a subsampled test's rate is over full_battery."""
    frame = pd.DataFrame({
        "di": [0.9, 0.85, 0.5, 0.6, 0.95], "compliant": [True, True, False, False, True],
        "KS_rejected": pd.array([False, True, False, False, True], dtype="boolean"),
        "W_A_rejected": pd.array([True, pd.NA, pd.NA, False, pd.NA], dtype="boolean"),
        "passed": pd.array([False, False, pd.NA, True, False], dtype="boolean"),
        "full_battery": [True, False, False, True, False],
    })
    s = detection_summary(frame, ("KS", "W_A"))
    assert s["rejection_rate"] == {"KS": 0.4, "W_A": 0.5} and s["rejection_n"] == {"KS": 5, "W_A": 2}
    assert s["n_full_battery"] == 2 and s["pass_rate"] == 0.5
    assert s["evades"] == {"KS": True, "W_A": None}  # W_A passes no compliant sample it was computed on
    assert s["compliant_pass_rate"]["W_A"] == 0.0 and s["compliant_pass_all"] == 0.0
    assert s["evades_all"] is False
    frame.loc[0, "W_A_rejected"], frame.loc[0, "passed"] = False, True
    s = detection_summary(frame, ("KS", "W_A"))
    assert s["evades"]["W_A"] is True and s["evades_all"] is True and s["compliant_pass_all"] == 1 / 3
    empty = detection_summary(empty_detection(("KS", "W_A")), ("KS", "W_A"))
    assert empty["n_samples"] == 0 and math.isnan(empty["rejection_rate"]["W_A"])


# ----------------------------------------------------------------------------- cell cap
def test_cell_cap_is_sound(data, ctx, thr):
    """No sample with DI above the cap passes KL_P, W_P and MMD_P (checked with the battery)."""
    cap = cell_di_cap(ctx, thr, M, TESTS)
    di0 = disparate_impact(data.Y_hat, data.S)
    assert di0 < cap < math.inf
    full = data.joint()
    rng = np.random.default_rng(8)
    # adversarial samples: rows chosen cell by cell, with counts around the cap's histogram
    cells = [np.flatnonzero((data.S == s) & (data.Y_hat == y)) for s in (0, 1) for y in (0, 1)]
    checked = 0
    for _ in range(3000):
        c = rng.multinomial(M, ctx.cells)
        shift = rng.integers(-6, 7, 2)
        c = c + np.array([-shift[0], shift[0], shift[1], -shift[1]])
        if (c < 0).any() or any(c[i] > len(cells[i]) for i in range(4)):
            continue
        di = (c[1] / (c[0] + c[1])) / (c[3] / (c[2] + c[3])) if c[3] and c[0] + c[1] else np.nan
        if not (np.isfinite(di) and di > cap):
            continue
        idx = np.concatenate([rng.choice(cells[i], c[i], replace=False) for i in range(4)])
        res = run_battery(None, full[idx], thr, tests=CELL_TESTS, context=ctx)
        assert not res.passed, (c, di, cap)
        checked += 1
    assert checked > 100


def test_cell_cap_vectorised_statistics_match_the_library(data, ctx, thr):
    from fairwash.detect.distances import kl_cells, mmd_cells

    rng = np.random.default_rng(2)
    q = rng.dirichlet(np.ones(4), 200)
    q[:20, 1] = 0
    q /= q.sum(axis=1, keepdims=True)
    for form in ("sample_ref", "authors"):
        got = kl_cells_vec(q, ctx.cells, form)
        want = [kl_cells(row, ctx.cells, form=form) for row in q]
        np.testing.assert_allclose(got, want, rtol=1e-10)
    for gamma in (0.5, 1.0, 3.0):
        got = mmd_cells_vec(q, ctx.cells, gamma)
        want = [mmd_cells(row, ctx.cells, gamma=gamma) for row in q]
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-15)
    # larger m -> smaller cap (the cell tests get tighter)
    ctx2 = ctx
    thr2 = reference_thresholds(None, 4 * M, n_draws=99, random_state=7, context=ctx2)
    assert cell_di_cap(ctx2, thr2, 4 * M) < cell_di_cap(ctx, thr, M)
    assert cell_di_cap(ctx, thr, M, ("KS", "KL_A")) == math.inf  # no W_P: no cap


# ----------------------------------------------------------------------------- Table 3
def _slow_fairest(data, method, m, thr, ctx, *, start, step, n_samples, tests, seed):
    """The plain protocol: rerun the method at every level, full battery on every sample."""
    di0 = disparate_impact(data.Y_hat, data.S)
    for level in search_levels(start, step, di0):
        try:
            man = run_method(method, data, target=level + 0.001, random_state=seed)
        except ValueError:
            continue
        if np.count_nonzero(man.weights) < m:
            continue
        idx = draw_samples(man, m, n_samples, seed, key=(m, int(round(level * 10_000))))
        rows = man.joint()
        best = None
        for i in idx:
            di = disparate_impact(man.Y_hat[i], man.S[i])
            if not (np.isfinite(di) and di > level):
                continue
            if run_battery(None, rows[i], thr, tests=tests, context=ctx).passed:
                best = di if best is None else max(best, di)
        if best is not None:
            return min(best, 1.0), level
    return None, None


@pytest.mark.parametrize("method", ["Matching", "Replace", "Entropic_b", "SBS"])
def test_fast_fairest_equals_the_plain_search(data, ctx, thr, method):
    for seed in (0, 1):
        for tests in (TESTS, NO_MMD):
            got = fairest_undetected(data, method, M, thr, start=0.95, step=0.05, n_samples=12, tests=tests,
                                     random_state=seed, context=ctx)
            want = _slow_fairest(data, method, M, thr, ctx, start=0.95, step=0.05, n_samples=12, tests=tests,
                                 seed=seed)
            assert (got.best_di, got.level_found) == want, (method, seed, tests)
            if METHOD_GREEDY[method]:
                assert got.method_runs <= 1


METHOD_GREEDY = {"Matching": True, "Replace": True, "Entropic_b": False, "SBS": False}


def test_sets_share_samples_and_five_tests_dominate_at_a_common_level(data, ctx, thr):
    res = fairest_undetected_sets(data, "Entropic_p", M, thr, test_sets={"seven": TESTS, "five": NO_MMD},
                                  start=0.95, n_samples=20, random_state=3, context=ctx)
    seven, five = res["seven"], res["five"]
    assert five.level_found is not None
    assert seven.level_found is None or five.level_found >= seven.level_found
    if seven.level_found == five.level_found:
        assert five.best_di >= seven.best_di
    # every skipped level is at or above the cap, every searched level below it
    for lv in seven.levels:
        assert (lv["level"] >= seven.cell_cap) == (lv["status"] == "skipped_cell_cap")


def test_greedy_levels_are_prefixes_of_one_run(data):
    levels = ManipulationLevels(data, "Matching", random_state=0)
    for level in (0.9, 0.8, 0.6, 0.5):
        man = levels.at(level)
        fresh = run_method("Matching", data, target=level + 0.001, random_state=0)
        np.testing.assert_array_equal(man.joint(), fresh.joint())
    assert levels.runs == 1


def test_larger_m_leaves_less_room(data, ctx, thr):
    """Over seeds, the fairest undetected DI at m = 240 is below the one at m = 60 (sign test)."""
    thr4 = reference_thresholds(None, 4 * M, n_draws=99, random_state=8, context=ctx)
    di0 = disparate_impact(data.Y_hat, data.S)
    small, large = [], []
    for seed in range(10):
        cache = ManipulationLevels(data, "Entropic_b", random_state=seed)
        for m, t, out in ((M, thr, small), (4 * M, thr4, large)):
            r = fairest_undetected(data, "Entropic_b", m, t, start=0.95, n_samples=10, random_state=seed,
                                   context=ctx, levels_cache=cache)
            out.append(di0 if r.best_di is None else r.best_di)
    wins = sum(a > b for a, b in zip(small, large, strict=True))
    ties = sum(a == b for a, b in zip(small, large, strict=True))
    # one-sided sign test: P(>= wins of 10 - ties | p = 1/2) < 0.05
    assert stats.binomtest(wins, 10 - ties, 0.5, alternative="greater").pvalue < 0.05, (small, large)


def test_fairest_validates_thresholds(data, ctx, thr):
    with pytest.raises(ValueError, match="m = 60"):
        fairest_undetected(data, "Matching", 2 * M, thr, start=0.9, n_samples=2, random_state=0, context=ctx)
    other = BatteryContext.prepare(_data(1).joint())
    with pytest.raises(ValueError, match="fingerprint"):
        fairest_undetected(data, "Matching", M, thr, start=0.9, n_samples=2, random_state=0, context=other)
    assert search_levels(0.95, 0.05, 0.3)[-1] == 0.35 and search_levels(0.2, 0.05, 0.3) == []


def test_context_for_rebuilds_the_settings(data, thr):
    want = {k: v for k, v in thr.config.items() if k != "random_state"}
    assert context_for_thresholds(data.joint(), thr).config() == want


# ----------------------------------------------------------------------------- Fig. 8
def test_sample_size_study_and_safe_fraction(data, ctx, thr):
    thr2 = reference_thresholds(None, 2 * M, n_draws=99, random_state=9, context=ctx)
    study = sample_size_study(data, ["Matching", "Entropic_b"], [0.1, 0.2], thresholds={M: thr, 2 * M: thr2},
                              start=1.0, n_samples=5, random_state=0, context=ctx)
    assert list(study["m"]) == [M, 2 * M, M, 2 * M]
    assert set(study.columns) >= {"method", "fraction", "fairest_di"}
    safe = smallest_safe_fraction(study, 0.8)
    assert safe.status in ("found", "all_safe", "none_safe")


@pytest.mark.parametrize(
    "values, status, fraction",
    [
        ({0.1: [0.9, 0.5], 0.2: [0.7, np.nan], 0.3: [0.6, 0.5]}, "found", 0.2),
        ({0.1: [0.9, 0.5], 0.2: [0.7, 0.5], 0.3: [0.85, 0.5]}, "none_safe", None),  # not hidden by 0.2
        ({0.1: [0.7, np.nan], 0.2: [0.6, 0.5]}, "all_safe", 0.1),
        ({0.1: [0.9, 0.5], 0.2: [0.7, 0.5], 0.3: [0.9, 0.5], 0.4: [0.5, 0.5]}, "found", 0.4),
    ],
)
def test_smallest_safe_fraction_cases(values, status, fraction):
    rows = [{"method": me, "fraction": f, "m": int(f * 1000), "fairest_di": v}
            for f, vs in values.items() for me, v in zip(("A", "B"), vs, strict=True)]
    safe = smallest_safe_fraction(pd.DataFrame(rows), 0.8)
    assert (safe.status, safe.fraction) == (status, fraction)
    assert safe.message
