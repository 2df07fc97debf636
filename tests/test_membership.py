"""Membership and multiplicity: exact against a naive multiset check, on honest and real attack samples."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from fairwash.data.base import AuditData
from fairwash.detect.membership import ABSENT, EXCESS, MembershipIndex, membership_check
from fairwash.manipulate import run_method


def _naive(full, sample):
    """Positions whose occurrence number exceeds the row's count in the full data."""
    have = Counter(map(tuple, np.asarray(full, float).tolist()))
    seen: Counter = Counter()
    out = []
    for i, row in enumerate(map(tuple, np.asarray(sample, float).tolist())):
        seen[row] += 1
        if seen[row] > have[row]:
            out.append((i, ABSENT if have[row] == 0 else EXCESS))
    return out


def _simulated(n=3000, seed=0) -> AuditData:
    """Integer features on a small grid: many exact duplicate rows, as in real tabular data."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 5, (n, 3)).astype(float)
    s = (rng.random(n) < 0.6).astype(int)
    y = (rng.random(n) < np.where(s == 1, 0.55, 0.25)).astype(int)
    return AuditData.from_arrays("sim", x, S=s, Y_hat=y)


@pytest.fixture(params=["sim", "adult"], scope="module")
def data(request):
    if request.param == "sim":
        return _simulated()
    from conftest import authors_adult_or_skip

    return authors_adult_or_skip()


def _check(full, sample):
    res = membership_check(full, sample)
    assert list(zip(res.positions.tolist(), res.reasons, strict=True)) == _naive(full, sample)
    indexed = MembershipIndex.build(full).check(sample)  # the full data sorted once: the same answer
    assert indexed.to_dict() == res.to_dict() and indexed.positions.tolist() == res.positions.tolist()
    return res


def test_honest_samples_never_fail(data):
    full = data.joint()
    rng = np.random.default_rng(1)
    for m in (10, 500, data.n):
        for _ in range(20):
            idx = rng.choice(data.n, m, replace=False)
            assert _check(full, full[idx]).passed


def test_replace_edited_rows_are_named(data):
    q = run_method("Replace", data, target=0.8, random_state=0)
    full, rows = data.joint(), q.joint()
    edited = np.flatnonzero((rows != full).any(axis=1))
    assert edited.size == len(q.trajectory) > 0
    real = set(map(tuple, full.tolist()))
    fake = np.array([i for i in edited if tuple(rows[i].tolist()) not in real])
    rng = np.random.default_rng(2)
    for _ in range(20):
        idx = np.sort(q.sample_indices(500, random_state=rng))
        res = _check(full, rows[idx])
        flagged = set(idx[res.positions].tolist())
        assert set(np.intersect1d(idx, fake).tolist()) <= flagged  # every edit to a non-row is named
        edited_in = [i for i in idx if i in set(edited.tolist())]
        twins = {tuple(rows[i].tolist()) for i in edited_in}  # an edit may land on a real row
        assert all(i in edited_in or tuple(rows[i].tolist()) in twins for i in flagged)
        if np.intersect1d(idx, fake).size:
            assert not res.passed


def test_matching_copy_beside_its_original_fails(data):
    q = run_method("Matching", data, target=0.8, random_state=0)
    full, rows = data.joint(), q.joint()
    traj = q.trajectory
    src, dst = traj["source"].to_numpy(), traj["dest"].to_numpy()
    rng = np.random.default_rng(3)
    n_pairs = 0
    for _ in range(30):
        idx = np.sort(q.sample_indices(1000, random_state=rng))
        res = _check(full, rows[idx])
        inside = set(idx.tolist())
        pairs = [(s, d) for s, d in zip(src, dst, strict=True) if s in inside and d in inside]
        n_pairs += len(pairs)
        if pairs:
            assert not res.passed and res.n_excess >= 1
    assert n_pairs > 0


def test_one_index_many_samples_against_naive():
    """One index, many samples mixing real rows, excess copies and repeated absent rows."""
    rng = np.random.default_rng(7)
    full = rng.integers(0, 3, (400, 3)).astype(float)  # 27 distinct rows, most repeated
    index = MembershipIndex.build(full)
    for _ in range(50):
        real = full[rng.integers(0, len(full), rng.integers(1, 60))]
        absent = rng.integers(3, 5, (rng.integers(0, 6), 3)).astype(float)  # values no full row has
        sample = np.vstack([real, absent, absent[: rng.integers(0, len(absent) + 1)]])
        sample = sample[rng.permutation(len(sample))]
        res = index.check(sample)
        assert list(zip(res.positions.tolist(), res.reasons, strict=True)) == _naive(full, sample)
        expect = membership_check(full, sample).to_dict()
        assert res.to_dict() == expect
    with pytest.raises(ValueError, match="columns"):
        index.check(np.zeros((1, 4)))


def test_details_and_conventions():
    full = np.array([[0.0, 1.0], [0.5, 0.0], [0.5, 0.0]])
    res = membership_check(full, [[0.5, 0.0], [-0.0, 1.0], [0.5, 0.0], [0.5, 0.0], [2.0, 2.0]])
    assert res.positions.tolist() == [3, 4]  # -0.0 equals 0.0; the first two copies are allowed
    assert res.reasons == (EXCESS, ABSENT)
    assert res.details[0] == {"occurrence": 3, "full_count": 2}
    d = res.to_dict()
    assert d["passed"] is False and d["n_excess"] == 1 and d["offending"][1]["reason"] == ABSENT


def test_validation():
    with pytest.raises(ValueError, match="sample_rows has 3 columns"):
        membership_check(np.zeros((3, 2)), np.zeros((1, 3)))
    with pytest.raises(ValueError, match="full_rows has a missing"):
        membership_check([[np.nan, 1.0]], [[1.0, 1.0]])
    with pytest.raises(ValueError, match="2-D"):
        membership_check(np.zeros(3), np.zeros((1, 3)))
