"""The exact law of an honest sample's DI: brute force, conventions, cap, interval, sample size."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from scipy.stats import binom, multivariate_hypergeom

from fairwash.detect.dilaw import (
    cell_counts,
    di_interval,
    di_quantile,
    di_sf,
    di_test,
    di_value,
    recommended_sample_size,
)


def _vectors(C, m):
    """Every count vector of size m within C, with its exact multivariate hypergeometric weight."""
    n = sum(C)
    total = math.comb(n, m)
    for c01 in range(min(C[1], m) + 1):
        for c10 in range(min(C[2], m - c01) + 1):
            for c11 in range(min(C[3], m - c01 - c10) + 1):
                c00 = m - c01 - c10 - c11
                if c00 <= C[0]:
                    c = (c00, c01, c10, c11)
                    w = math.prod(math.comb(C[i], c[i]) for i in range(4))
                    yield (c00, c01, c10, c11), Fraction(w, total)


def _law(C, m):
    """Distinct DI values (Fraction / inf) -> exact probability; 'undefined' -> probability."""
    out: dict = {}
    for c, w in _vectors(C, m):
        t = di_value(c)
        key = "undefined" if isinstance(t, float) and math.isnan(t) else t
        out[key] = out.get(key, 0) + w
    return out


def _brute_sf(law, d):
    return float(sum(w for t, w in law.items() if t != "undefined" and t >= d))


def _brute_q(law, alpha):
    values = sorted((t for t in law if t != "undefined"), reverse=True)
    acc = Fraction(0)
    for t in values:
        acc += law[t]
        if acc > Fraction(alpha):
            return t
    return -math.inf


CASES = [((7, 3, 6, 4), 6), ((30, 10, 30, 30), 20), ((12, 1, 3, 9), 9), ((5, 5, 2, 0), 5),
         ((40, 25, 20, 45), 37)]


@pytest.mark.parametrize(("C", "m"), CASES)
def test_sf_equals_enumeration_of_count_vectors(C, m):
    law = _law(C, m)
    ds = sorted({t for t in law if t not in ("undefined", math.inf)})
    ds = ds[:: max(1, len(ds) // 60)] + ds[-5:]  # every attainable value on small cases, a spread on larger
    grid = list(ds) + [0.0, -1.0, Fraction(4, 5), 1e-9, 1e9, math.inf]
    got = di_sf(np.array(grid, dtype=object), C, m)
    want = [_brute_sf(law, Fraction(d) if math.isfinite(d) else d) for d in grid]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


@pytest.mark.parametrize(("C", "m"), CASES)
def test_p_value_uses_the_exact_fraction(C, m):
    law = _law(C, m)
    for c, _ in list(_vectors(C, m))[:: max(1, len(law) // 25)]:
        t = di_value(c)
        res = di_test(c, C)
        if isinstance(t, float) and math.isnan(t):
            assert res.p_value == 1.0 and not res.defined and not res.reject
        else:
            assert res.p_value == pytest.approx(_brute_sf(law, t), abs=1e-12)


def test_sf_equals_enumeration_of_all_samples():
    rng = np.random.default_rng(3)
    S = np.array([0] * 6 + [1] * 7)
    Y = (rng.random(13) < 0.5).astype(int)
    C = cell_counts(S, Y)
    for m in (3, 6, 9):
        vals = []
        for idx in itertools.combinations(range(13), m):
            vals.append(di_value(cell_counts(S[list(idx)], Y[list(idx)])))
        for d in (Fraction(1, 2), Fraction(1), Fraction(3, 2), math.inf):
            hits = sum(1 for v in vals if not (isinstance(v, float) and math.isnan(v)) and v >= d)
            assert di_sf(d, C, m) == pytest.approx(hits / len(vals), abs=1e-12)


def test_conventions():
    C = (10, 10, 10, 10)
    assert math.isnan(di_value((3, 2, 0, 0))) and math.isnan(di_value((0, 0, 3, 2)))
    assert math.isnan(di_value((3, 0, 2, 0)))  # 0 / 0
    assert di_value((3, 1, 2, 0)) == math.inf
    r = di_test((3, 1, 2, 0), C)
    assert r.statistic == math.inf and r.defined and r.p_value == pytest.approx(di_sf(math.inf, C, 6))
    u = di_test((4, 2, 0, 0), C)
    assert not u.defined and u.p_value == 1.0 and not u.reject
    assert di_test((1, 0, 0, 0), C).p_undefined == pytest.approx(1.0)  # m = 1: never defined
    assert di_test((11, 0, 0, 0), C).impossible


def test_validation_names_the_argument():
    with pytest.raises(ValueError, match="cells"):
        di_sf(0.5, [1, 2, 3], 2)
    with pytest.raises(ValueError, match="both groups"):
        di_sf(0.5, [0, 0, 3, 3], 2)
    with pytest.raises(ValueError, match="m must"):
        di_sf(0.5, [3, 3, 3, 3], 13)
    with pytest.raises(ValueError, match="alpha"):
        di_test([1, 1, 1, 1], [3, 3, 3, 3], alpha=1.5)
    with pytest.raises(ValueError, match="nan"):
        di_sf(float("nan"), [3, 3, 3, 3], 4)


@pytest.mark.parametrize(("C", "m"), CASES)
@pytest.mark.parametrize("alpha", [0.05, 0.2])
def test_quantile_equals_brute_force(C, m, alpha):
    law = _law(C, m)
    q = di_quantile(C, m, alpha)
    want = _brute_q(law, alpha)
    assert q.value == (float(want) if want not in (math.inf, -math.inf) else want)
    if math.isfinite(q.value):
        assert Fraction(q.numerator, q.denominator) == want
        assert q.size == pytest.approx(_brute_sf(law, want) - float(law[want]), abs=1e-12)
        assert q.size <= alpha < q.sf_at_value


def test_quantile_medium_size_against_scipy_pmf():
    C, m = (140, 30, 90, 60), 60
    vecs = np.array([c for c, _ in _vectors(C, m)])
    w = multivariate_hypergeom.pmf(vecs, m=C, n=m)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (vecs[:, 1] / (vecs[:, 0] + vecs[:, 1])) / (vecs[:, 3] / (vecs[:, 2] + vecs[:, 3]))
    ok = ~np.isnan(t)  # DI = +inf counts, an undefined DI does not
    q = di_quantile(C, m, 0.05)
    assert w[ok & (t > q.value * (1 + 1e-12))].sum() == pytest.approx(q.size, abs=1e-10)
    assert q.size <= 0.05 < w[ok & (t >= q.value * (1 - 1e-12))].sum()
    for d in (0.3, 0.5, q.value * 1.01):
        assert di_sf(d, C, m) == pytest.approx(w[ok & (t >= d)].sum(), abs=1e-10)


def test_rejection_region_is_above_the_cap():
    C, m = (30, 10, 30, 30), 20
    q = di_quantile(C, m, 0.05)
    for c, _ in _vectors(C, m):
        t = di_value(c)
        if isinstance(t, float) and math.isnan(t):
            continue
        assert di_test(c, C).reject == (t > Fraction(q.numerator, q.denominator))


def test_large_m_is_fast_and_bounded():
    import time

    C = (300_000, 33_000, 400_000, 267_000)
    t0 = time.perf_counter()
    p = di_sf([0.245, 0.25], C, 100_000)
    assert time.perf_counter() - t0 < 10
    assert 0 < p[1] < p[0] < 1
    assert di_test((30_000, 3_300, 40_000, 26_700), C).tail_bound < 1e-13


def _brute_rec(C, tau, alpha):
    n, last = sum(C), 0
    for m in range(1, n + 1):
        if _brute_sf(_law(C, m), Fraction(str(tau))) > alpha:  # 0.8 is 4/5
            last = m
    return last + 1


@pytest.mark.parametrize("C", [(14, 4, 10, 8), (9, 2, 6, 7), (20, 3, 8, 9)])
def test_recommended_sample_size_equals_brute_scan(C):
    res = recommended_sample_size(C, tau=0.8, alpha=0.05)
    assert res.m == _brute_rec(C, 0.8, 0.05)
    n = sum(C)
    for m in range(res.m, n + 1):  # the cap criterion agrees: cap(m) < tau from m* on
        assert di_quantile(C, m, 0.05).value < 0.8
    assert di_quantile(C, res.last_unsafe, 0.05).value >= 0.8


def test_recommended_none_when_already_fair():
    assert recommended_sample_size((10, 8, 10, 9)).m is None


def test_interval_coverage_inside_binomial_band():
    rng = np.random.default_rng(7)
    C = np.array([1478, 160, 2267, 1095])  # ADULT's cells
    di_full = (160 / 1638) / (1095 / 3362)
    for m, fpc in ((500, True), (1000, True), (500, False)):
        draws = rng.multivariate_hypergeometric(C, m, size=2000)
        n = int(C.sum()) if fpc else None
        hit = [di_interval(c, n=n).low <= di_full <= di_interval(c, n=n).high for c in draws]
        cover = float(np.mean(hit))
        if fpc:
            lo, hi = binom.ppf([0.0005, 0.9995], 2000, 0.95) / 2000
            assert lo <= cover <= hi, (m, cover)
        else:  # without the correction the interval is conservative for a 10-20 % sample
            assert cover >= 0.95
