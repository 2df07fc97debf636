"""The one model resolver (fairwash.models): trained, authors' and hub models, and import directions."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from fairwash import models, store
from fairwash.data import authors as A
from fairwash.data.base import AuditData
from fairwash.data.synthetic import loan_applicants
from fairwash.model import AuditedModel, load_model, load_state_dict_file, mlp_from_state_dict
from fairwash.pipeline.manipulate import load_audit_model
from fairwash.pipeline.train import train_stage
from fairwash.twins import probe_for

TINY_MLP = {"width": 16, "n_blocks": 1, "epochs": 3, "batch_size": 64, "lr": 1e-3, "test_size": 0.2}


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict[str, Path]:
    """A tiny MLP trained by the pipeline's own stage, with the files the rules read."""
    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("trained")
    data = loan_applicants(800, random_state=0)
    data.save(folder / "data.parquet", folder / "data.json")
    out = {
        "weights": folder / "model" / "model.safetensors",
        "config": folder / "model" / "model.json",
        "metrics": folder / "model" / "metrics.json",
        "predictions": folder / "model" / "predictions.parquet",
        "audited": folder / "audited.parquet",
        "audited_meta": folder / "audited.json",
    }
    train_stage(data_parquet=folder / "data.parquet", model_params=TINY_MLP, n_audit=150, random_state=0,
                progress=False, out=out)
    return {"model": folder / "model", "audited": folder / "audited.parquet", "data": folder / "data.parquet"}


def test_trained_model_is_the_saved_model_with_the_same_decisions(trained):
    audited = AuditData.load(trained["audited"])
    before, std, info = load_model(trained["model"])  # what load_audit_model read before the resolver
    after = models.resolve_model("synthetic", model_dir=trained["model"])
    assert isinstance(after, AuditedModel) and after.threshold == before.threshold
    for key, value in before.net.state_dict().items():
        assert torch.equal(after.net.state_dict()[key], value), key
    Z = audited.X.to_numpy()
    np.testing.assert_array_equal(after.predict(Z), audited.Y_hat)  # every audited row, as trained
    np.testing.assert_array_equal(after.predict(Z), before.predict(Z))
    # the Grad methods' loader and the twin audit's probe go through the same resolver
    via_stage = load_audit_model(source="synthetic", model_dir=trained["model"])
    np.testing.assert_array_equal(via_stage.predict(Z), audited.Y_hat)
    trained_model = models.load_trained(trained["model"])
    assert trained_model.feature_names == tuple(info["feature_names"])
    raw = AuditData.load(trained["data"]).X
    probe = probe_for(trained["model"])
    by_hand = before.predict(std.transform(raw[info["feature_names"]].to_numpy()))
    np.testing.assert_array_equal(probe.decide(raw), by_hand)


def test_resolver_names_what_is_missing(trained):
    with pytest.raises(ValueError, match="model_dir"):
        models.resolve_model("synthetic")
    with pytest.raises(ValueError, match="dataset"):
        models.resolve_model("authors")
    assert str(store.path("model", "weights", ds="loan")) == "results/models/loan/model.safetensors"


@pytest.mark.authors
@pytest.mark.parametrize("ds", ["ADULT", "ASC_INC"])
def test_authors_model_is_their_state_dict_with_their_decisions(authors_dir: Path, ds: str):
    if A.missing_authors_files(authors_dir, [ds]):
        pytest.skip(f"{ds} files incomplete in {authors_dir}")
    torch.set_num_threads(1)
    data = A.load_authors(ds, cache_dir=authors_dir, download=False)
    model = models.resolve_model("authors", dataset=ds, authors_dir=authors_dir, download=False)
    # independently: their state dict (weights_only) and their threshold, as data/authors did before
    net = mlp_from_state_dict(load_state_dict_file(authors_dir / "Result" / ds / "net_state_dic.pt"))
    net.eval()
    before = AuditedModel(net, A.load_authors_threshold(ds, cache_dir=authors_dir, download=False))
    Z = data.X.to_numpy()
    np.testing.assert_array_equal(model.predict(Z), data.Y_hat)  # the published decisions, every row
    np.testing.assert_array_equal(model.predict_proba(Z), before.predict_proba(Z))
    via_stage = load_audit_model(source="authors", model_dir=None, dataset=ds, authors_dir=str(authors_dir))
    np.testing.assert_array_equal(via_stage.predict(Z), data.Y_hat)


@pytest.mark.authors
def test_baf_without_hub_revision_has_no_model(authors_dir: Path, capsys):
    with pytest.raises(A.ModelUnavailable, match="no model is available for 'baf'"):
        models.resolve_model("authors", dataset="BAF", authors_dir=authors_dir, download=False)
    kw = {"source": "authors", "model_dir": None, "authors_dir": str(authors_dir)}
    assert load_audit_model(dataset="BAF", **kw) is None
    assert "no model:" in capsys.readouterr().err


def _imported_after(module: str) -> set[str]:
    code = f"import sys, {module}; print(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_imports_go_downward():
    """The data layer never loads the model layer; the twin audit never loads the paper's figures."""
    data = _imported_after("fairwash.data.authors")
    assert not {"fairwash.model", "fairwash.models", "fairwash.hub", "torch"} & data
    twins = _imported_after("fairwash.twins")
    assert not {"fairwash.figures", "fairwash.pipeline", "fairwash.cli", "torch", "matplotlib"} & twins


@pytest.mark.authors
def test_missing_ok_returns_none_and_logs_why(authors_dir: Path, caplog):
    with caplog.at_level("WARNING", logger=models.__name__):
        got = models.resolve_model("authors", dataset="BAF", authors_dir=authors_dir, download=False,
                                   missing_ok=True)
    assert got is None and "no model is available for 'baf'" in caplog.text
