"""Tests of the audited model: layout, state-dict loading, training, threshold, seeding, storage."""

from __future__ import annotations

import io
import os
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.preprocessing import StandardScaler

from fairwash.data.base import AuditData, DataError
from fairwash.model import (
    MLP,
    AuditedModel,
    ModelError,
    Standardizer,
    fit_audited_model,
    load_model,
    load_state_dict_file,
    mlp_from_state_dict,
    save_model,
    train_mlp,
)

torch.set_num_threads(1)

AUTHORS = Path(os.environ.get("FAIRWASH_AUTHORS_DIR", "/work/shared/authors")) / "Result"
SMALL = {"width": 32, "batch_size": 256}


def _separable(n: int = 3000, d: int = 5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0.3).astype(np.int8)
    return X, y


@pytest.fixture(scope="module")
def trained() -> tuple[AuditedModel, np.ndarray, np.ndarray]:
    X, y = _separable()
    return train_mlp(X[:2400], y[:2400], epochs=10, lr=3e-3, random_state=0, progress=False, **SMALL), X, y


# ------------------------------------------------------------------ layout and state dicts
def _expected_layout(d: int, w: int, n_blocks: int) -> dict[str, tuple[int, ...]]:
    """The authors' key layout, written out independently of MLP."""
    out: dict[str, tuple[int, ...]] = {}
    dims = [d] + [w] * (n_blocks + 1)
    outs = [w] * (n_blocks + 1) + [1]
    for k, (i, o) in enumerate(zip(dims, outs, strict=True)):
        bn, lin = 3 * k, 3 * k + 1
        for p in ("weight", "bias", "running_mean", "running_var"):
            out[f"seq.{bn}.{p}"] = (i,)
        out[f"seq.{bn}.num_batches_tracked"] = ()
        out[f"seq.{lin}.weight"] = (o, i)
        out[f"seq.{lin}.bias"] = (o,)
    return out


def test_layout_matches_authors_keys():
    sd = MLP(34).state_dict()
    assert {k: tuple(v.shape) for k, v in sd.items()} == _expected_layout(34, 256, 2)
    assert max(int(k.split(".")[1]) for k in sd) == 10


@pytest.mark.parametrize("n_blocks", [0, 1, 2, 3])
def test_architecture_inferred_from_tensors(n_blocks):
    torch.manual_seed(1)
    src = MLP(7, width=12, n_blocks=n_blocks)
    with torch.no_grad():  # non-trivial running statistics
        for m in src.modules():
            if isinstance(m, torch.nn.BatchNorm1d):
                m.running_mean.uniform_(-1, 1)
                m.running_var.uniform_(0.5, 2)
    src.eval()
    sd = src.state_dict()
    assert {k: tuple(v.shape) for k, v in sd.items()} == _expected_layout(7, 12, n_blocks)
    net = mlp_from_state_dict(sd)
    assert (net.d, net.width, net.n_blocks) == (7, 12, n_blocks)
    assert not net.training
    z = torch.randn(50, 7)
    with torch.no_grad():
        assert torch.equal(net(z), src(z))
        assert net(z).shape == (50,)


def test_malformed_state_dicts_give_clear_errors():
    sd = MLP(4, width=8).state_dict()
    missing = {k: v for k, v in sd.items() if k != "seq.9.running_var"}
    with pytest.raises(ModelError, match=r"missing keys \['seq.9.running_var'\]"):
        mlp_from_state_dict(missing)
    extra = dict(sd, **{"seq.3.extra": torch.zeros(8)})
    with pytest.raises(ModelError, match=r"unexpected keys \['seq.3.extra'\]"):
        mlp_from_state_dict(extra)
    wrong = dict(sd, **{"seq.6.running_mean": torch.zeros(9)})
    with pytest.raises(ModelError, match=r"seq.6.running_mean: \(9,\) != \(8,\)"):
        mlp_from_state_dict(wrong)
    with pytest.raises(ModelError, match="seq.1.weight"):
        mlp_from_state_dict({"module." + k: v for k, v in sd.items()})
    gap = {k: v for k, v in sd.items() if not k.startswith("seq.4.")}
    with pytest.raises(ModelError, match=r"Linear weights at seq indices \[1, 7, 10\]"):
        mlp_from_state_dict(gap)
    with pytest.raises(ModelError, match="not tensors"):
        mlp_from_state_dict(dict(sd, **{"seq.0.weight": [1.0] * 4}))


def test_load_state_dict_file_errors_name_the_file(tmp_path):
    with pytest.raises(ModelError, match="nothing.pt"):
        load_state_dict_file(tmp_path / "nothing.pt")
    bad = tmp_path / "garbage.pt"
    bad.write_bytes(b"not a torch file")
    with pytest.raises(ModelError, match="garbage.pt"):
        load_state_dict_file(bad)
    good = tmp_path / "ok.pt"
    sd = MLP(3, width=4).state_dict()
    torch.save(sd, good)
    back = load_state_dict_file(good)
    assert back.keys() == sd.keys() and all(torch.equal(back[k], sd[k]) for k in sd)


def test_forward_rejects_wrong_shape():
    with pytest.raises(ModelError, match=r"\(n, 3\)"):
        MLP(3, width=4)(torch.zeros(2, 4))
    with pytest.raises(ModelError, match="n_blocks"):
        MLP(3, n_blocks=-1)


def test_authors_state_dict_loads_strictly():
    path = AUTHORS / "ASC_INC" / "net_state_dic.pt"
    if not path.exists():
        pytest.skip(f"authors' files not available ({path})")
    state = load_state_dict_file(path)
    assert {k: tuple(v.shape) for k, v in state.items()} == _expected_layout(8, 256, 2)
    MLP(8).load_state_dict(state, strict=True)
    net = mlp_from_state_dict(state)
    assert (net.d, net.width, net.n_blocks) == (8, 256, 2)


@pytest.mark.authors
@pytest.mark.parametrize("name", ["ADULT", "ASC_EMP", "ASC_INC", "ASC_MOB", "ASC_PUC", "ASC_TRA"])
def test_authors_models_reproduce_their_decisions(name):
    """The authors' model + threshold applied to their audited features gives their Ŷ column."""
    folder = AUTHORS / name
    if not (folder / "net_state_dic.pt").exists():
        pytest.skip(f"authors' files not available ({folder})")
    net = mlp_from_state_dict(load_state_dict_file(folder / "net_state_dic.pt"))
    original = np.load(folder / "original.npy")
    model = AuditedModel(net, float(np.load(folder / "threshold.npy")))
    np.testing.assert_array_equal(model.predict(original[:, :-2]), original[:, -1].astype(np.int8))


# ------------------------------------------------------------------ standardizer
def test_standardizer_matches_sklearn_and_handles_constant_columns():
    rng = np.random.default_rng(3)
    X = np.column_stack([rng.normal(5, 3, 200), np.full(200, 2.0), rng.integers(0, 2, 200)])
    st = Standardizer.fit(X)
    np.testing.assert_allclose(st.transform(X), StandardScaler().fit_transform(X), atol=1e-12)
    assert st.scale[1] == 1.0
    np.testing.assert_allclose(st.inverse_transform(st.transform(X)), X, atol=1e-12)
    with pytest.raises(ModelError, match="fitted on 3"):
        st.transform(X[:, :2])
    with pytest.raises(ModelError, match="non-finite"):
        Standardizer.fit(np.array([[1.0], [np.nan]]))


# ------------------------------------------------------------------ training
def test_training_reaches_high_accuracy(trained):
    model, X, y = trained
    acc = float(np.mean(model.predict(X[2400:]) == y[2400:]))
    assert acc > 0.95, acc


def test_threshold_rule_matches_label_rate(trained):
    model, X, y = trained
    proba = model.predict_proba(X[:2400])
    rate = y[:2400].mean()
    assert model.threshold == pytest.approx(np.quantile(proba, 1 - rate), abs=0)
    assert abs(model.predict(X[:2400]).mean() - rate) <= 2 / 2400
    assert abs(model.predict(X[2400:]).mean() - y[2400:].mean()) < 0.05


def test_logit_threshold_equivalent_and_batched_prediction(trained):
    model, X, _ = trained
    with torch.no_grad():
        logits = model.net(torch.from_numpy(X.astype(np.float32))).double().numpy()
    agree = np.mean((logits > model.logit_threshold) == model.predict(X).astype(bool))
    assert agree >= 0.999
    # float32 matmul rounding depends on the batch shape: equal up to float32 precision
    np.testing.assert_allclose(model.predict_proba(X, batch_size=7), model.predict_proba(X), atol=1e-6)
    assert model.predict_proba(X).dtype == np.float64 and model.predict(X).dtype == np.int8
    assert AuditedModel(model.net, 0.5).logit_threshold == 0.0
    assert AuditedModel(model.net, 1.0).logit_threshold == np.inf


def test_same_seed_identical_different_seed_differs():
    X, y = _separable(800, seed=1)
    state_before = torch.get_rng_state()
    a = train_mlp(X, y, epochs=2, random_state=7, progress=False, **SMALL)
    assert torch.equal(torch.get_rng_state(), state_before), "global torch RNG state changed"
    torch.manual_seed(12345)  # global state must not matter
    b = train_mlp(X, y, epochs=2, random_state=7, progress=False, **SMALL)
    c = train_mlp(X, y, epochs=2, random_state=8, progress=False, **SMALL)
    sa, sb, sc = (m.net.state_dict() for m in (a, b, c))
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert a.threshold == b.threshold
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert not torch.equal(sa["seq.1.weight"], sc["seq.1.weight"])
    assert not np.array_equal(a.predict_proba(X), c.predict_proba(X))


def test_batchnorm_statistics_recomputed_at_eval_point():
    """With recompute_bn, the first BatchNorm's running mean is the mean of the training
    inputs (equal batches: mean of batch means = overall mean) and its running variance
    the mean of the unbiased batch variances."""
    X, y = _separable(1024, seed=2)
    X = X * 2 + 1
    model = train_mlp(X, y, epochs=1, width=16, batch_size=256, random_state=0, progress=False)
    bn = model.net.seq[0]
    np.testing.assert_allclose(bn.running_mean.numpy(), X.mean(0), atol=1e-5)
    # batch order of the recomputation is the row order
    var = np.mean([X[i:i + 256].var(0, ddof=1) for i in range(0, 1024, 256)], axis=0)
    np.testing.assert_allclose(bn.running_var.numpy(), var, rtol=1e-5)
    legacy = train_mlp(X, y, epochs=1, width=16, batch_size=256, random_state=0, progress=False,
                       recompute_bn=False)
    # exponential average with momentum 0.1 over 4 batches: far from the data mean
    assert not np.allclose(legacy.net.seq[0].running_mean.numpy(), X.mean(0), atol=1e-2)


def test_training_input_validation():
    X, y = _separable(50)
    with pytest.raises(ModelError, match="binary"):
        train_mlp(X, y + 1, progress=False)
    with pytest.raises(ModelError, match="y_train"):
        train_mlp(X, y[:-1], progress=False)
    with pytest.raises(ModelError, match="epochs"):
        train_mlp(X, y, epochs=0, progress=False)


def test_single_row_last_batch_is_merged():
    X, y = _separable(257)
    model = train_mlp(X, y, epochs=1, width=8, batch_size=128, progress=False)
    assert model.predict(X).shape == (257,)


# ------------------------------------------------------------------ storage
def test_save_load_round_trip_without_pickle(trained, tmp_path, monkeypatch):
    model, X, _ = trained
    st = Standardizer.fit(X)
    names = [f"f{j}" for j in range(X.shape[1])]
    save_model(model, tmp_path / "m", standardizer=st, feature_names=names)
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["model.json", "model.safetensors"]

    def forbidden(*args, **kwargs):
        raise AssertionError("pickle used while loading a model")

    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(pickle, "Unpickler", forbidden)
    monkeypatch.setattr(torch, "load", forbidden)
    back, st2, info = load_model(tmp_path / "m")
    monkeypatch.undo()

    assert back.threshold == model.threshold
    np.testing.assert_array_equal(back.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(st2.mean, st.mean)
    np.testing.assert_array_equal(st2.scale, st.scale)
    assert info["feature_names"] == names
    from safetensors import safe_open

    with safe_open(str(tmp_path / "m" / "model.safetensors"), framework="pt") as f:
        assert set(f.keys()) == set(_expected_layout(5, 32, 2))


def test_load_model_detects_tampering(trained, tmp_path):
    model, _, _ = trained
    save_model(model, tmp_path)
    path = tmp_path / "model.safetensors"
    blob = bytearray(path.read_bytes())
    blob[-1] ^= 0xFF
    path.write_bytes(bytes(blob))
    with pytest.raises(ModelError, match="SHA-256"):
        load_model(tmp_path)
    with pytest.raises(ModelError, match="model file not found"):
        load_model(tmp_path / "elsewhere")


# ------------------------------------------------------------------ end to end
def _toy_data(n: int = 1500, seed: int = 4) -> AuditData:
    rng = np.random.default_rng(seed)
    s = rng.integers(0, 2, n)
    x0 = rng.normal(size=n) + 0.8 * s + 10.0
    x1 = rng.normal(size=n) * 5
    cat = rng.integers(0, 2, n).astype(float)
    y = (x0 - 10 + 0.1 * x1 + 0.3 * cat > 0.5).astype(int)
    X = pd.DataFrame({"x0": x0, "x1": x1, "cat": cat})
    return AuditData.from_arrays("toy", X, S=s, Y=y, meta={"source": "synthetic"})


def test_fit_audited_model_end_to_end():
    data = _toy_data()
    res = fit_audited_model(data, n_audit=200, epochs=4, random_state=3, progress=False, **SMALL)
    tr, te = res.train_index, res.test_index
    assert len(te) == 300 and len(tr) == 1200
    np.testing.assert_array_equal(np.sort(np.concatenate([tr, te])), np.arange(1500))
    X = data.X.to_numpy()
    # scaler fitted on the training split only, not on all rows
    np.testing.assert_allclose(res.standardizer.mean, X[tr].mean(0), rtol=1e-12)
    assert not np.allclose(res.standardizer.mean, X.mean(0), rtol=1e-12, atol=0)
    np.testing.assert_allclose(res.standardizer.scale, X[tr].std(0), rtol=1e-12)
    # audited set = first n_audit rows of the test split, standardised, with the decisions
    aud = res.audited
    assert aud.n == 200 and aud.columns == ["x0", "x1", "cat"]
    np.testing.assert_allclose(aud.X.to_numpy(), (X[te[:200]] - X[tr].mean(0)) / X[tr].std(0))
    np.testing.assert_array_equal(aud.S, data.S[te[:200]])
    np.testing.assert_array_equal(aud.Y, data.Y[te[:200]])
    np.testing.assert_array_equal(aud.Y_hat, res.model.predict(aud.X.to_numpy()))
    assert [f.kind for f in aud.features] == ["numeric", "numeric", "categorical"]
    assert aud.meta["source"] == "synthetic" and aud.meta["model"]["threshold"] == res.model.threshold
    # metrics against a direct computation
    m = res.metrics
    yh, s, yy = aud.Y_hat, aud.S, aud.Y
    assert m["di_decisions_audit"] == pytest.approx(yh[s == 0].mean() / yh[s == 1].mean())
    assert m["di_labels_audit"] == pytest.approx(yy[s == 0].mean() / yy[s == 1].mean())
    assert m["accuracy_audit"] == pytest.approx(np.mean(yh == yy))
    test_pred = res.model.predict(res.standardizer.transform(X[te]))
    assert m["accuracy_test"] == pytest.approx(np.mean(test_pred == data.Y[te]))
    assert m["accuracy_test"] > 0.9
    assert (m["n_train"], m["n_test"], m["n_audit"]) == (1200, 300, 200)
    # same seed, same everything
    again = fit_audited_model(data, n_audit=200, epochs=4, random_state=3, progress=False, **SMALL)
    np.testing.assert_array_equal(again.test_index, te)
    np.testing.assert_array_equal(again.audited.Y_hat, aud.Y_hat)


def test_fit_audited_model_n_audit_too_large():
    data = _toy_data(100)
    with pytest.raises(DataError, match=r"n_audit=21 exceeds the test split \(20 rows"):
        fit_audited_model(data, n_audit=21, progress=False)
    no_y = AuditData.from_arrays("noy", np.zeros((4, 1)), S=[0, 1, 0, 1])
    with pytest.raises(DataError, match="true label"):
        fit_audited_model(no_y, n_audit=1)


def test_progress_bar_only_in_a_terminal(monkeypatch):
    """A bar in a terminal; none in a log, on CI, or when switched off (fairwash.progress)."""
    import io

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    X, y = _separable(300)
    monkeypatch.delenv("CI", raising=False)
    for stream, progress, shown in ((Terminal(), True, True), (Terminal(), None, True),
                                    (Terminal(), False, False), (io.StringIO(), True, False)):
        monkeypatch.setattr("sys.stderr", stream)
        train_mlp(X, y, epochs=1, width=8, batch_size=100, progress=progress)
        assert ("train MLP" in stream.getvalue()) is shown, (type(stream).__name__, progress)
    monkeypatch.setenv("CI", "1")
    term = Terminal()
    monkeypatch.setattr("sys.stderr", term)
    train_mlp(X, y, epochs=1, width=8, batch_size=100, progress=True)
    assert term.getvalue() == ""


def test_state_dict_bytes_load_via_buffer():
    """A state dict serialised by torch loads safely through load_state_dict_file's rules."""
    buf = io.BytesIO()
    torch.save(MLP(2, width=4, n_blocks=1).state_dict(), buf)
    buf.seek(0)
    sd = torch.load(buf, weights_only=True)
    assert mlp_from_state_dict(sd).n_blocks == 1
