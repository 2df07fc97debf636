"""Loading the authors' classifiers through huggingface_hub, offline.

Each test builds, in ``tmp_path``, a folder laid out like the hub repository
``ValentinLAFARGUE/EIF-biased-classifier`` (``ADULT_model/config.json`` and
``ADULT_model/model.safetensors``, written from the authors' ``.pt`` state dict),
either as a Hugging Face cache (``models--.../snapshots/<commit>/`` with
``refs/main``) or as a ``local_dir``, and reads it with ``local_files_only=True``:
the files go through :func:`huggingface_hub.hf_hub_download`, never the network.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import huggingface_hub
import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from fairwash import hub, models
from fairwash.data import authors as A
from fairwash.model import MLP

COMMIT = "0123456789abcdef0123456789abcdef01234567"  # a made-up hub commit


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any network connection fails the test."""
    torch.set_num_threads(1)

    def refuse(*args, **kwargs):
        raise AssertionError(f"network call attempted: {args[:2]!r}")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


def _write_sub(root: Path, sub: str, state: dict, config: dict) -> None:
    folder = root / sub
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config))
    save_file({k: v.contiguous() for k, v in state.items()}, str(folder / "model.safetensors"))


def _hf_cache(tmp_path: Path, subs: dict[str, tuple[dict, dict]]) -> Path:
    """A Hugging Face cache holding ``subs`` at COMMIT, with ``refs/main`` pointing to it."""
    cache = tmp_path / "hf-cache"
    repo = cache / "models--ValentinLAFARGUE--EIF-biased-classifier"
    for sub, (state, config) in subs.items():
        _write_sub(repo / "snapshots" / COMMIT, sub, state, config)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(COMMIT)
    return cache


@pytest.fixture(scope="module")
def adult(authors_dir: Path):
    if A.missing_authors_files(authors_dir, ["adult"]):
        pytest.skip(f"ADULT files incomplete in {authors_dir}")
    data = A.load_authors("adult", cache_dir=authors_dir, download=False)
    model = models.load_authors_model("adult", cache_dir=authors_dir, download=False)
    state = torch.load(authors_dir / "Result" / "ADULT" / "net_state_dic.pt", weights_only=True)
    return data, model, state


def test_subfolder_names() -> None:
    assert hub.hub_subfolder("adult") == "ADULT_model"
    assert hub.hub_subfolder("ASC_inc") == "ASC_INC_model"
    assert hub.hub_subfolder("baf") == "BAF_model"


@pytest.mark.authors
@pytest.mark.parametrize("revision", ["main", COMMIT])
def test_hub_cache_layout_gives_the_same_model(
    adult, authors_dir: Path, tmp_path: Path, revision, monkeypatch
) -> None:
    data, pt_model, state = adult
    cache = _hf_cache(tmp_path, {"ADULT_model": (state, {"input_dim": 34})})
    served: list[str] = []
    real = huggingface_hub.hf_hub_download

    def spy(*args, **kwargs):
        served.append(real(*args, **kwargs))
        return served[-1]

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", spy)
    model = hub.load_hub_model(
        "adult", revision=revision, cache_dir=cache, local_files_only=True, authors_dir=authors_dir
    )
    snapshot = cache / "models--ValentinLAFARGUE--EIF-biased-classifier" / "snapshots" / COMMIT
    assert [Path(p) for p in served] == [snapshot / "ADULT_model" / f for f in hub.HUB_FILES]
    assert model.threshold == pt_model.threshold  # no threshold in config: the authors' threshold.npy
    Z = data.X.to_numpy()
    np.testing.assert_array_equal(model.predict_proba(Z), pt_model.predict_proba(Z))
    np.testing.assert_array_equal(model.predict(Z), data.Y_hat)


@pytest.mark.authors
def test_local_dir_layout_and_config_threshold(adult, tmp_path: Path) -> None:
    data, pt_model, state = adult
    local = tmp_path / "EIF-biased-classifier"
    _write_sub(local, "ADULT_model", state, {"threshold": pt_model.threshold})
    model = hub.load_hub_model("ADULT", revision=COMMIT, local_dir=local, local_files_only=True,
                               authors_dir=tmp_path / "nothing-here")  # the threshold must come from config
    assert model.threshold == pt_model.threshold
    np.testing.assert_array_equal(model.predict(data.X.to_numpy()), data.Y_hat)
    other = hub.load_hub_model("adult", revision=COMMIT, local_dir=local, local_files_only=True,
                               threshold=0.9)
    assert other.threshold == 0.9
    assert other.predict(data.X.to_numpy()).sum() < data.Y_hat.sum()


@pytest.mark.authors
def test_other_tensor_names_are_normalised(adult, tmp_path: Path) -> None:
    data, pt_model, state = adult
    bare = {k.removeprefix("seq."): v for k, v in state.items() if not k.endswith("num_batches_tracked")}
    cache = _hf_cache(tmp_path, {"ADULT_model": (bare, {"threshold": pt_model.threshold})})
    model = hub.load_hub_model("adult", revision="main", cache_dir=cache, local_files_only=True)
    Z = data.X.to_numpy()[:500]
    np.testing.assert_array_equal(model.predict_proba(Z), pt_model.predict_proba(Z))


def test_foreign_tensor_refused(tmp_path: Path) -> None:
    state = {"encoder.attention.weight": torch.zeros(3, 3)}
    cache = _hf_cache(tmp_path, {"ADULT_model": (state, {"threshold": 0.5})})
    with pytest.raises(hub.HubError, match="encoder.attention.weight"):
        hub.load_hub_model("adult", revision="main", cache_dir=cache, local_files_only=True)


def test_absent_model_is_reported(tmp_path: Path) -> None:
    net = MLP(3, width=4, n_blocks=0)
    cache = _hf_cache(tmp_path, {"ADULT_model": (net.state_dict(), {"threshold": 0.5})})
    with pytest.raises(A.ModelUnavailable, match=r"BAF_model/config\.json .*revision 'main'"):
        hub.load_hub_model("baf", revision="main", cache_dir=cache, local_files_only=True)
    with pytest.raises(hub.HubError, match="revision"):
        hub.load_hub_model("adult", revision="", cache_dir=cache, local_files_only=True)


@pytest.mark.authors
def test_baf_falls_back_to_the_hub(authors_dir: Path, tmp_path: Path) -> None:
    if A.missing_authors_files(authors_dir, ["baf"]):
        pytest.skip(f"BAF files incomplete in {authors_dir}")
    torch.manual_seed(0)
    net = MLP(42, width=32, n_blocks=2)
    with torch.no_grad():  # non-trivial BatchNorm statistics
        for module in net.seq:
            if isinstance(module, torch.nn.BatchNorm1d):
                module.running_mean.normal_()
                module.running_var.uniform_(0.5, 2.0)
    net.eval()
    cache = _hf_cache(tmp_path, {"BAF_model": (net.state_dict(), {})})
    with pytest.raises(A.ModelUnavailable, match="no model is available for 'baf'"):
        models.load_paper_model("baf", authors_dir=authors_dir, download=False)
    model = models.load_paper_model("baf", authors_dir=authors_dir, download=False,
                                 hub_revision="main", hub_cache_dir=cache)
    assert (model.net.d, model.net.width) == (42, 32)
    assert model.threshold == A.load_authors_threshold("baf", cache_dir=authors_dir, download=False)
    Z = np.random.default_rng(0).normal(size=(200, 42))
    with torch.no_grad():
        expected = torch.sigmoid(net(torch.from_numpy(Z.astype(np.float32)))).numpy()
    np.testing.assert_allclose(model.predict_proba(Z), expected, rtol=0, atol=0)
