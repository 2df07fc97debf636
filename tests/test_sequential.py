"""Sequential Monte-Carlo p-values (fairwash.detect.sequential): the verdict of all N draws, earlier."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from fairwash.detect.context import BatteryContext
from fairwash.detect.sequential import sequential_test, stop_count
from fairwash.detect.thresholds import reference_draws, thresholds_from_draws


def _full_verdict(statistic: float, draws: np.ndarray, level: float) -> bool:
    """The full-N quantile rule through the production thresholds (eq. 3), on a tiny context."""
    ctx = BatteryContext.prepare(np.array([[0.0, 0, 0], [1.0, 1, 1], [0.5, 0, 1], [0.2, 1, 0]]))
    thr = thresholds_from_draws(ctx, 2, {t: draws for t in ctx.calibrated(("W_A",))}, tests=("W_A",),
                                level=level, rule="quantile")
    return thr.rejects("W_A", statistic)


def test_stop_count_by_enumeration() -> None:
    # r is the smallest h at which rejection is impossible: brute force over h for several N and levels
    for n in (19, 20, 39, 99, 100, 199):
        for level in (0.9, 0.95):
            if np.ceil(level * (n + 1)) > n:
                with pytest.raises(ValueError, match="too small"):
                    stop_count(n, level)
                continue
            r = stop_count(n, level)
            for h in range(n + 1):
                draws = np.r_[np.full(h, 2.0), np.zeros(n - h)]  # h draws at least 1.0, the rest below
                assert _full_verdict(1.0, draws, level) == (h < r)
    assert stop_count(100, 0.95) == 5


def test_constructed_cases() -> None:
    n = 100
    # the 5th draw at least the statistic comes at index 9: stop there, accept, p = 5 / 10
    draws = np.zeros(n)
    draws[[0, 3, 5, 7, 9]] = 3.0
    asked: list[int] = []

    def draw(i: int) -> float:
        asked.append(i)
        return float(draws[i])

    res = sequential_test(1.0, draw, n_draws=n)
    assert (res.rejected, res.stopped, res.evaluated, res.at_least) == (False, True, 10, 5)
    assert asked == list(range(10)) and res.p_value == 0.5 and res.p_bound == 6 / 101
    # only 4 draws at least it: every draw is evaluated, rejected, p = 5 / 101
    draws[9] = 0.0
    res = sequential_test(1.0, draws, n_draws=n)
    assert (res.rejected, res.stopped, res.evaluated, res.p_value) == (True, False, n, 5 / 101)
    # the 5th at the last draw: accepted, not stopped early, p the full one
    draws[99] = 3.0
    res = sequential_test(1.0, draws, n_draws=n)
    assert (res.rejected, res.stopped, res.evaluated, res.p_value) == (False, False, n, 6 / 101)
    # ties up to rounding count as "at least" (as ReferenceThresholds.p_value does)
    res = sequential_test(1.0, np.full(n, 1.0 + 1e-12), n_draws=n)
    assert (res.rejected, res.evaluated) == (False, 5)
    # an infinite statistic exceeds every finite draw but not an infinite one
    assert sequential_test(np.inf, np.ones(n), n_draws=n).rejected
    assert not sequential_test(np.inf, np.full(n, np.inf), n_draws=n).rejected


def test_same_verdict_as_full_draws_on_random_sequences() -> None:
    rng = np.random.default_rng(7)
    stopped = 0
    for _ in range(2_000):
        n = int(rng.choice([20, 50, 100]))
        draws = rng.gamma(2.0, size=n).round(int(rng.integers(1, 4)))  # rounding: ties
        stat = float(rng.choice([rng.gamma(2.0), rng.choice(draws), rng.gamma(2.0) * 3]))
        res = sequential_test(stat, draws, n_draws=n)
        assert res.rejected == _full_verdict(stat, draws, 0.95)
        assert np.array_equal(res.draws, draws[:res.evaluated])
        stopped += res.stopped
    assert stopped > 500  # the walk does stop early on most accepted statistics


def _context(rng: np.random.Generator, n: int = 300) -> BatteryContext:
    x = rng.normal(size=(n, 2))
    s = rng.integers(0, 2, n)
    y = (rng.random(n) < 0.3 + 0.3 * s).astype(float)
    return BatteryContext.prepare(np.c_[x, s, y])


def test_battery_draws_honest_and_manipulated_and_level() -> None:
    # on real battery statistics (W_P, KL_P, MMD_P: cheap) and indexed honest draws: the sequential
    # verdict equals the full-N one for honest samples and for samples tilted towards S=0, Ŷ=1; under
    # H0 the sequential test's rejection rate lies inside the binomial interval of its 5 % level
    rng = np.random.default_rng(3)
    ctx = _context(rng)
    m, n_draws, tests = 40, 99, ("W_P", "KL_P", "MMD_P")
    ref = reference_draws(ctx, m, tests=tests, n_draws=n_draws, random_state=11)
    favoured = np.flatnonzero((ctx.full[:, 2] == 0) & (ctx.full[:, 3] == 1))
    honest = 400
    for j in range(honest + 100):
        if j < honest:
            idx = rng.choice(ctx.n, m, replace=False)
        else:
            k = int(rng.integers(5, len(favoured)))
            idx = np.r_[rng.choice(favoured, k, replace=False),
                        rng.choice(np.setdiff1d(np.arange(ctx.n), favoured), m - k, replace=False)]
        got = ctx.statistics(ctx.full[idx], tests)
        for t in tests:
            res = sequential_test(got[t][0], ref[t], n_draws=n_draws)
            thr = thresholds_from_draws(ctx, m, ref, tests=tests, level=0.95, rule="quantile")
            assert res.rejected == thr.rejects(t, got[t][0])
    # the level is 5 % over fresh reference sets (against one set it depends on that set's luck):
    # a fresh set per sample, on MMD_A (continuous: no ties to make the test conservative)
    lo, hi = stats.binom.ppf([0.0005, 0.9995], honest, 0.05)
    fresh = 0
    for j in range(honest):
        draws = reference_draws(ctx, m, tests=("MMD_A",), n_draws=n_draws, random_state=1_000 + j)["MMD_A"]
        sample = ctx.full[rng.choice(ctx.n, m, replace=False)]
        stat = ctx.statistics(sample, ("MMD_A",))["MMD_A"][0]
        fresh += sequential_test(stat, draws, n_draws=n_draws).rejected
    assert lo <= fresh <= hi, (fresh, lo, hi)
