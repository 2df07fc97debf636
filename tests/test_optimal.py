"""The optimal protocol: exact level on honest samples, power on real attacks, the cap attained."""

from __future__ import annotations

import json
import math
from fractions import Fraction

import numpy as np
import pytest
from scipy.stats import binom

from fairwash.catalogue import sample_size
from fairwash.data.base import AuditData
from fairwash.detect.dilaw import cell_counts, di_value
from fairwash.detect.optimal import optimal_cap, optimal_check
from fairwash.manipulate import run_method

N_HONEST = 400
ALPHA = 0.05


def _simulated(n=4000, seed=0) -> AuditData:
    rng = np.random.default_rng(seed)
    s = (rng.random(n) < 0.6).astype(int)
    y = (rng.random(n) < np.where(s == 1, 0.6, 0.25)).astype(int)
    return AuditData.from_arrays("sim", rng.normal(size=(n, 3)), S=s, Y_hat=y)


@pytest.fixture(params=["sim", "adult"], scope="module")
def data(request):
    if request.param == "sim":
        return _simulated()
    from conftest import authors_adult_or_skip

    return authors_adult_or_skip()


@pytest.mark.parametrize("fraction", [0.1, 0.2])
def test_level_is_the_exact_size(data, fraction):
    """Honest samples: rejection rate inside the 95 % binomial interval of the exact level."""
    full = data.joint()
    m = sample_size(fraction, data.n)
    rng = np.random.default_rng(11)
    draws = [rng.choice(data.n, m, replace=False) for _ in range(N_HONEST)]
    reports = [optimal_check(full, full[idx], ALPHA) for idx in draws]
    level = reports[0].level
    assert 0.0 < level <= ALPHA
    assert all(r.membership.passed for r in reports)  # membership never fails an honest sample
    rejected = sum(not r.passed for r in reports)
    lo, hi = binom.ppf([0.025, 0.975], N_HONEST, level)
    assert lo <= rejected <= hi, (data.name, m, rejected / N_HONEST, level)
    cap = reports[0].cap.value
    assert all(r.passed == (r.di.statistic <= cap) for r in reports if r.di.defined)


def _attack_rates(data, method, target, m, n_samples=60, seed=5):
    q = run_method(method, data, target=target, random_state=0)
    full, rows = data.joint(), q.joint()
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_samples):
        idx = q.sample_indices(m, random_state=rng)
        out.append((optimal_check(full, rows[idx], ALPHA), idx))
    return q, out


@pytest.mark.parametrize("method", ["Replace", "Matching", "Entropic_b"])
@pytest.mark.parametrize("target", [0.8, 0.5])
def test_power_and_cap_on_real_attacks(data, method, target):
    m = sample_size(0.1, data.n)
    q, out = _attack_rates(data, method, target, m)
    cap = optimal_cap(cell_counts(data.S, data.Y_hat), m, ALPHA)
    reports = [r for r, _ in out]
    rate = float(np.mean([not r.passed for r in reports]))
    rate_di = float(np.mean([r.di.reject for r in reports]))
    print(f"{data.name} {method} t={target} m={m}: optimal rejects {rate:.2f}, DI test alone {rate_di:.2f}, "
          f"membership {np.mean([not r.membership.passed for r in reports]):.2f}")
    assert rate >= rate_di
    for r in reports:  # no passing attack sample exceeds the cap
        assert not r.passed or not r.di.defined or r.di.statistic <= cap
    if method == "Replace":  # features kept, s or ŷ edited: the edited row is no real row here
        edited = np.flatnonzero((q.joint() != data.joint()).any(axis=1))
        for r, idx in out:
            if np.intersect1d(idx, edited).size:
                assert not r.membership.passed
    if method == "Matching":  # a moved row is a copy of its destination
        traj = q.trajectory
        for r, idx in out:
            inside = set(idx.tolist())
            if any(s in inside and d in inside for s, d in zip(traj["source"], traj["dest"], strict=True)):
                assert not r.membership.passed
    if target == 0.8:
        assert rate == 1.0


def _sample_at(C, m, frac: Fraction):
    """Cell counts of size m within C whose DI is exactly ``frac``."""
    for k in range(1, m):
        for a in range(0, min(k, C[1]) + 1):
            num = a * (m - k) * frac.denominator
            den = k * frac.numerator
            if num % den == 0:
                b = num // den
                c = (k - a, a, m - k - b, b)
                if b >= 1 and all(0 <= c[i] <= C[i] for i in range(4)):
                    return c
    raise AssertionError("no count vector attains the cap")


def test_cap_is_attained_by_real_rows(data):
    """An attacker who knows the protocol: real distinct rows, DI exactly the cap, passes."""
    full = data.joint()
    C = cell_counts(data.S, data.Y_hat)
    m = sample_size(0.1, data.n)
    rep = optimal_check(full, full[:m], ALPHA)
    cap = Fraction(rep.cap.numerator, rep.cap.denominator)
    c = _sample_at(tuple(C.tolist()), m, cap)
    cell = 2 * data.S.astype(int) + data.Y_hat.astype(int)
    rng = np.random.default_rng(0)
    idx = np.concatenate([rng.choice(np.flatnonzero(cell == j), c[j], replace=False) for j in range(4)])
    res = optimal_check(full, full[idx], ALPHA)
    assert di_value(cell_counts(data.S[idx], data.Y_hat[idx])) == cap
    assert res.passed and res.di.p_value > ALPHA and res.di.statistic == pytest.approx(float(cap))
    json.dumps(res.to_dict())
    # one more S = 0 positive in place of an S = 0 negative: DI above the cap, rejected
    up = list(c)
    up[0], up[1] = up[0] - 1, up[1] + 1
    idx2 = np.concatenate([np.flatnonzero(cell == j)[: up[j]] for j in range(4)])
    res2 = optimal_check(full, full[idx2], ALPHA)
    assert res2.di.statistic > float(cap) and not res2.passed and res2.membership.passed
    assert math.isfinite(rep.level) and res2.reasons[0].startswith("DI test")


def test_validation():
    with pytest.raises(ValueError, match="sample_rows"):
        optimal_check(np.zeros((5, 3)), np.full((2, 3), 2.0))
