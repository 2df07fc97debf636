"""Grad_b / Grad_p and their 1D-transport variants (fairwash.manipulate.gradient)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from torch import nn

from fairwash.data.base import AuditData
from fairwash.fairness import disparate_impact, positive_rates
from fairwash.manipulate.gradient import flips_needed, grad
from fairwash.manipulate.targets import target_rates

torch.set_num_threads(1)


@dataclass
class TinyModel:
    """The protocol grad() needs: a torch module and a probability threshold (no predict)."""

    net: nn.Module
    threshold: float


def _decide(net: nn.Module, threshold: float, X: np.ndarray) -> np.ndarray:
    """Independent decision function: sigmoid(logit) > threshold on float32 inputs."""
    net.eval()
    with torch.no_grad():
        p = torch.sigmoid(net(torch.from_numpy(X.astype(np.float32))).reshape(-1)).double().numpy()
    return (p > threshold).astype(np.int8)


def _toy(n: int = 500, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    S = (rng.random(n) < 0.5).astype(np.int8)
    X = rng.normal(size=(n, 4))
    X[:, 0] += 1.0 * S
    X[:, 1] = rng.integers(0, 5, n)  # discrete
    X[:, 2] = rng.integers(0, 2, n)  # binary
    y = (X[:, 0] + 0.3 * X[:, 1] + 0.5 * rng.normal(size=n) > 1.3).astype(np.float32)
    X = (X - X.mean(0)) / X.std(0)
    return X, S, y


@pytest.fixture(scope="module")
def setup() -> tuple[AuditData, TinyModel]:
    X, S, y = _toy()
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 1), nn.Flatten(0))
    opt = torch.optim.Adam(net.parameters(), lr=0.02)
    Xt, yt = torch.from_numpy(X.astype(np.float32)), torch.from_numpy(y)
    for _ in range(300):
        opt.zero_grad()
        nn.functional.binary_cross_entropy_with_logits(net(Xt), yt).backward()
        opt.step()
    model = TinyModel(net, 0.5)
    yh = _decide(net, 0.5, X)
    data = AuditData.from_arrays("toy", X, S, y.astype(np.int8), yh)
    assert disparate_impact(yh, S) < 0.6  # a biased model to start from
    return data, model


def _needed(yh: np.ndarray, S: np.ndarray, t: float, variant: str) -> tuple[int, int]:
    """Independent count: the target_rates changes per group, rounded up."""
    n0, n1 = int((S == 0).sum()), int((S == 1).sum())
    p0, p1 = positive_rates(yh, S)
    q0, q1 = target_rates(p0, p1, n0, n1, t, variant)
    return math.ceil(round(n0 * (q0 - p0), 9)), math.ceil(round(n1 * (p1 - q1), 9))


@pytest.mark.parametrize("variant", ["balanced", "proportional"])
@pytest.mark.parametrize("snap", [False, True])
def test_grad_reaches_target_with_minimum_changes(setup, variant, snap):
    data, model = setup
    X0 = data.X.to_numpy()
    r = grad(data, model, 0.8, variant, snap=snap, random_state=0)
    assert r.method == "Grad_" + variant[0] + ("_1D" if snap else "")
    # decisions recomputed independently on the returned points
    yh = _decide(model.net, model.threshold, r.X)
    np.testing.assert_array_equal(yh, r.Y_hat)
    assert disparate_impact(yh, r.S) >= 0.8
    # Grad methods change no more individuals than needed
    changed = (r.X != X0).any(axis=1)
    k0, k1 = _needed(data.Y_hat, data.S, 0.8, variant)
    assert changed.sum() == k0 + k1
    assert changed[data.S == 0].sum() == k0 and changed[data.S == 1].sum() == k1
    assert r.info["moved"] == [k0, k1] and r.info["needed"] == [k0, k1]
    # the changed ones are exactly the flipped candidates, in the right direction
    np.testing.assert_array_equal(changed, yh != data.Y_hat)
    assert (data.Y_hat[changed & (data.S == 0)] == 0).all() and (yh[changed & (data.S == 0)] == 1).all()
    assert (data.Y_hat[changed & (data.S == 1)] == 1).all() and (yh[changed & (data.S == 1)] == 0).all()
    # unmoved rows bit-identical, S untouched, uniform weights
    assert r.X[~changed].tobytes() == X0[~changed].tobytes()
    np.testing.assert_array_equal(r.S, data.S)
    np.testing.assert_array_equal(r.origin, np.arange(data.n))
    assert np.allclose(r.weights, 1 / data.n)
    for n_drop, kept_max, drop_min in r.info["surplus"]:  # the least displaced flips are kept
        assert n_drop == 0 or kept_max <= drop_min
    assert r.info["mean_displacement"] == pytest.approx(np.linalg.norm(r.X - X0, axis=1)[changed].mean())
    if snap:  # every coordinate is a value observed in its column
        for j in range(X0.shape[1]):
            assert np.isin(r.X[:, j], X0[:, j]).all()
    else:  # plain variant leaves the data grid on the moved rows
        assert not all(np.isin(r.X[changed, j], X0[:, j]).all() for j in (0, 3))


def test_flips_needed_counts():
    s = np.repeat([0, 1], [100, 200])
    y = np.r_[np.repeat([1, 0], [20, 80]), np.repeat([1, 0], [100, 100])]
    for variant in ("balanced", "proportional"):
        k0, k1 = flips_needed(y, s, 0.8, variant)
        assert ((20 + k0) / 100) / ((100 - k1) / 200) >= 0.8
        assert (k0, k1) == _needed(y, s, 0.8, variant)
    k0, k1 = flips_needed(y, s, 0.8, "balanced")
    assert abs(k0 - k1) <= 1  # balanced: the same (real) number in both groups
    assert flips_needed(y, s, 0.3, "balanced") == (0, 0)


def test_grad_deterministic_and_restores_mode(setup):
    data, model = setup
    model.net.train()
    a = grad(data, model, 0.75, "proportional", random_state=1)
    assert model.net.training
    b = grad(data, model, 0.75, "proportional", random_state=2)
    assert a.X.tobytes() == b.X.tobytes()
    assert a.info == b.info


@pytest.mark.parametrize("variant", ["balanced", "proportional"])
@pytest.mark.parametrize("snap", [False, True])
def test_warm_start_at_a_reached_weight_gives_the_same_manipulation(setup, variant, snap):
    """Every raise of C restarts its group from z_0, so starting at a weight the search from
    C0 passes through (C0 * growth**k, k at most the fewest raises of a group) gives the same
    points, in fewer steps: what config/config.yaml's per-data-set C0 relies on."""
    data, model = setup
    cold = grad(data, model, 0.8, variant, snap=snap, C0=0.01)
    raises = [round(math.log(c / 0.01) / math.log(1.2)) for c in cold.info["C"]]
    assert min(raises) >= 2  # the toy needs raises, or the test would decide nothing
    c0 = 0.01
    for _ in range(min(raises)):
        c0 *= 1.2  # the weights the cold search passed through, float for float
    warm = grad(data, model, 0.8, variant, snap=snap, C0=c0)
    assert warm.X.tobytes() == cold.X.tobytes()
    np.testing.assert_array_equal(warm.Y_hat, cold.Y_hat)
    assert warm.info["C"] == cold.info["C"]
    assert warm.info["steps"] < cold.info["steps"]
    # one raise further (past the weight a group needed): not the same search any more
    over = grad(data, model, 0.8, variant, snap=snap, C0=c0 * 1.2 ** (max(raises) - min(raises) + 1))
    assert over.info["C"] != cold.info["C"]


def test_smallest_displacement_kept(setup):
    """The kept points are the least displaced flips: a lower target keeps fewer points."""
    data, model = setup
    lo = grad(data, model, 0.7, "balanced")
    hi = grad(data, model, 0.8, "balanced")
    assert sum(lo.info["moved"]) < sum(hi.info["moved"])
    assert lo.reached and hi.reached


def test_already_fair_is_identity(setup):
    data, model = setup
    r = grad(data, model, 0.1, "balanced")
    assert r.X.tobytes() == data.X.to_numpy().tobytes()
    assert r.info["moved"] == [0, 0] and r.info["steps"] == 0


def test_strict_failure_and_partial(setup):
    data, model = setup
    with pytest.raises(RuntimeError, match="Grad_b"):
        grad(data, model, 0.8, C0=1e-6, max_outer=2, inner_steps=2)
    r = grad(data, model, 0.8, C0=1e-6, max_outer=2, inner_steps=2, strict=False)
    assert not r.info["reached"] and not r.reached


def test_validation(setup):
    data, model = setup
    with pytest.raises(ValueError, match="variant"):
        grad(data, model, 0.8, "other")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="net"):
        grad(data, object(), 0.8)
    with pytest.raises(ValueError, match="growth"):
        grad(data, model, 0.8, growth=1.0)
    with pytest.raises(ValueError, match="Y_hat"):
        grad(AuditData.from_arrays("toy", data.X, data.S), model, 0.8)


def test_with_audited_model_predict():
    """The project's AuditedModel (BatchNorm MLP, predict path) works through the same protocol."""
    fm = pytest.importorskip("fairwash.model")
    X, S, y = _toy(400, seed=3)
    model = fm.train_mlp(X, y.astype(np.int8), width=16, epochs=10, batch_size=128,
                         random_state=0, progress=False)
    yh = model.predict(X)
    data = AuditData.from_arrays("toy", X, S, None, yh)
    if disparate_impact(yh, S) >= 0.8:
        pytest.skip("model already fair on this draw")
    r = grad(data, model, 0.8, "balanced", snap=True, C0=0.1)
    np.testing.assert_array_equal(model.predict(r.X), r.Y_hat)
    assert r.di >= 0.8
    assert sum(r.info["moved"]) == sum(_needed(yh, S, 0.8, "balanced"))
