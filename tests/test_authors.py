"""The `authors` data source: pinned files, checksums, cache, audited sets and models.

Tests marked ``authors`` need the authors' published ``Result/`` folder (the fixture
``authors_dir`` of conftest.py: ``$FAIRWASH_AUTHORS_DIR`` or ``../shared/authors``);
without it they are reported as skipped, by name.
"""

from __future__ import annotations

import logging
import shutil
import socket
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch

from fairwash import models
from fairwash.data import authors as A
from fairwash.data.base import DataError
from fairwash.data.download import ChecksumError

# The README of the authors' copy: n, d, P(S=1), DI (independent of this code).
README_TABLE = {
    "ADULT": (5000, 34, 0.672, 0.2999),
    "ASC_EMP": (20000, 15, 0.823, 0.3034),
    "ASC_INC": (20000, 8, 0.520, 0.6733),
    "ASC_MOB": (20000, 19, 0.900, 0.4470),
    "ASC_PUC": (20000, 18, 0.178, 0.3162),
    "ASC_TRA": (20000, 19, 0.514, 0.6926),
    "BAF": (20000, 42, 0.183, 0.3467),
}
WITH_MODEL = [ds for ds in A.AUTHORS_DATASETS if ds != "BAF"]


@pytest.fixture(scope="module")
def full_dir(authors_dir: Path) -> Path:
    """The authors' folder, skipping (naming what is missing) unless every pinned file is there."""
    missing = A.missing_authors_files(authors_dir)
    if missing:
        pytest.skip(f"authors' files incomplete in {authors_dir}: missing {missing[:3]} ...")
    return authors_dir


def _copy(src_root: Path, dst_root: Path, paths: list[str]) -> None:
    for p in paths:
        dst = dst_root / "Result" / p
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src_root / "Result" / p, dst)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Any attempt at a connection or download is recorded and fails."""
    calls: list[str] = []

    def refuse(*args, **kwargs):
        calls.append(repr(args[:2]))
        raise OSError("network disabled in this test")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    return calls


# ---------------------------------------------------------------------- names, paths (no files needed)
def test_names_short_and_authors() -> None:
    for short, name in A.AUTHORS_NAMES.items():
        assert A.authors_name(short) == name
        assert A.authors_name(name) == name
        assert A.authors_name(name.lower()) == name
        assert A.short_name(name) == short
    assert set(A.AUTHORS_NAMES.values()) == set(A.AUTHORS_DATASETS)
    with pytest.raises(DataError, match="'census'"):
        A.authors_name("census")


def test_pinned_table_shape() -> None:
    assert len(A.AUTHORS_COMMIT) == 40
    assert all(len(h) == 64 and int(h, 16) >= 0 for h in A.AUTHORS_SHA256.values())
    for ds in A.AUTHORS_DATASETS:
        files = {p.split("/")[1] for p in A.dataset_files(ds)}
        assert {"original.npy", "DI.npy", "threshold.npy"} <= files
        assert ("net_state_dic.pt" in files) == (ds != "BAF")
        assert ("X_number_column.npy" in files) == (ds != "ADULT")
    assert A.authors_url("ADULT/DI.npy") == (
        "https://raw.githubusercontent.com/ValentinLafargue/Inspection/"
        "3434ffd3c55ab4393446f4e0bd21a04a083ab993/Result/ADULT/DI.npy"
    )


def test_cache_dir_resolution(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(A.ENV_VAR, raising=False)
    assert A.resolve_cache_dir() == Path("results/cache/authors")
    monkeypatch.setenv(A.ENV_VAR, str(tmp_path / "env"))
    assert A.resolve_cache_dir() == tmp_path / "env"
    assert A.resolve_cache_dir(tmp_path / "arg") == tmp_path / "arg"


def test_missing_file_names_its_address(tmp_path: Path) -> None:
    with pytest.raises(A.AuthorsFileMissing) as info:
        A.load_authors("inc", cache_dir=tmp_path, download=False)
    msg = str(info.value)
    assert A.authors_url("ASC_INC/original.npy") in msg
    assert str(tmp_path / "Result" / "ASC_INC" / "original.npy") in msg


def test_missing_file_without_network(tmp_path: Path, no_network: list[str]) -> None:
    with pytest.raises(A.AuthorsFileMissing) as info:
        A.load_authors("adult", cache_dir=tmp_path, download=True)
    assert A.authors_url("ADULT/original.npy") in str(info.value)
    assert "download failed" in str(info.value)
    assert no_network, "a download should have been attempted"
    assert not (tmp_path / "Result" / "ADULT" / "original.npy").exists()


def test_unknown_file_refused(tmp_path: Path) -> None:
    with pytest.raises(A.AuthorsFileError, match="not a file"):
        A.authors_file("ADULT/secret.pt", cache_dir=tmp_path)


# ---------------------------------------------------------------------- the pinned table vs the copy
@pytest.mark.authors
def test_pinned_checksums_equal_the_published_list(authors_dir: Path) -> None:
    sums = authors_dir / "SHA256SUMS"
    if not sums.is_file():
        pytest.skip(f"no SHA256SUMS in {authors_dir}")
    listed = {}
    for line in sums.read_text().splitlines():
        digest, path = line.split()
        listed[path.removeprefix("Result/")] = digest
    assert listed == A.AUTHORS_SHA256


# ---------------------------------------------------------------------- cache behaviour
@pytest.mark.authors
def test_no_network_when_cache_complete(full_dir: Path, no_network: list[str], monkeypatch) -> None:
    monkeypatch.setattr(A, "fetch", lambda *a, **k: pytest.fail("fetch called with a complete cache"))
    monkeypatch.setenv(A.ENV_VAR, str(full_dir))
    for ds in A.AUTHORS_DATASETS:
        assert A.load_authors(ds, download=True).meta["source"] == "authors"
    assert models.load_authors_model("inc", download=True) is not None
    A.load_authors_thresholds(download=True)
    assert len(A.ensure_authors_files(download=True)) == len(A.AUTHORS_SHA256)
    assert no_network == []


@pytest.mark.authors
def test_one_changed_byte_is_refused(full_dir: Path, tmp_path: Path) -> None:
    _copy(full_dir, tmp_path, A.dataset_files("inc"))
    target = tmp_path / "Result" / "ASC_INC" / "original.npy"
    raw = bytearray(target.read_bytes())
    raw[-3] ^= 0x01
    target.write_bytes(bytes(raw))
    import hashlib

    actual = hashlib.sha256(bytes(raw)).hexdigest()
    expected = A.AUTHORS_SHA256["ASC_INC/original.npy"]
    with pytest.raises(A.AuthorsChecksumError) as info:
        A.load_authors("inc", cache_dir=tmp_path, download=True)
    msg = str(info.value)
    assert str(target) in msg and expected in msg and actual in msg
    assert isinstance(info.value, ChecksumError)
    assert target.read_bytes() == bytes(raw), "a refused file must not be replaced"


@pytest.mark.authors
def test_download_from_pinned_address_fills_the_cache(full_dir: Path, tmp_path: Path) -> None:
    # a file:// base stands for the network: the same fetch, checksum and atomic move
    base = (full_dir / "Result").resolve().as_uri()
    got = A.ensure_authors_files(["inc"], cache_dir=tmp_path, base_url=base)
    assert [p.relative_to(tmp_path / "Result").as_posix() for p in got] == A.dataset_files("inc")
    data = A.load_authors("inc", cache_dir=tmp_path, download=False)
    assert data.n == 20000


@pytest.mark.authors
def test_published_di_is_checked(full_dir: Path, tmp_path: Path, monkeypatch) -> None:
    _copy(full_dir, tmp_path, A.dataset_files("inc"))
    di_path = tmp_path / "Result" / "ASC_INC" / "DI.npy"
    np.save(di_path, np.array(0.5))
    import hashlib

    table = dict(A.AUTHORS_SHA256)
    table["ASC_INC/DI.npy"] = hashlib.sha256(di_path.read_bytes()).hexdigest()
    monkeypatch.setattr(A, "AUTHORS_SHA256", table)
    with pytest.raises(DataError, match="DI recomputed"):
        A.load_authors("inc", cache_dir=tmp_path, download=False)


# ---------------------------------------------------------------------- audited sets
@pytest.mark.authors
@pytest.mark.parametrize("ds", A.AUTHORS_DATASETS)
def test_audited_set(full_dir: Path, ds: str) -> None:
    data = A.load_authors(A.short_name(ds), cache_dir=full_dir, download=False)
    n, d, p_s1, di = README_TABLE[ds]
    assert (data.n, data.d) == (n, d)
    assert data.name == A.short_name(ds)
    assert data.columns == [f"f{j}" for j in range(d)]
    assert data.Y is None and data.Y_hat is not None
    assert abs(data.S.mean() - p_s1) < 1e-3
    # independent DI: plain group means of the raw array's last two columns
    raw = np.load(full_dir / "Result" / ds / "original.npy")
    s, yh = raw[:, -2], raw[:, -1]
    di_raw = yh[s == 0].mean() / yh[s == 1].mean()
    assert abs(di_raw - data.meta["di"]) < 1e-6 and abs(di_raw - di) < 5e-5
    np.testing.assert_array_equal(data.joint(), raw.astype(np.float64))
    assert data.meta["commit"] == A.AUTHORS_COMMIT and data.meta["d"] == d
    with pytest.raises(DataError, match="equality of odds needs the true label Y"):
        data.require_y("equality of odds")


# ---------------------------------------------------------------------- models
def _numpy_forward(state: dict, Z: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """The authors' network by hand in float64: BatchNorm (eval) -> Linear -> ReLU ..."""
    h = Z.astype(np.float64)
    idx = sorted({int(k.split(".")[1]) for k in state})
    for i in idx:
        w = state[f"seq.{i}.weight"].double().numpy()
        b = state[f"seq.{i}.bias"].double().numpy()
        if w.ndim == 1:  # BatchNorm1d
            mu = state[f"seq.{i}.running_mean"].double().numpy()
            var = state[f"seq.{i}.running_var"].double().numpy()
            h = (h - mu) / np.sqrt(var + eps) * w + b
        else:
            h = h @ w.T + b
            if i != idx[-1]:
                h = np.maximum(h, 0.0)
    return 1.0 / (1.0 + np.exp(-h[:, 0]))


@pytest.mark.authors
@pytest.mark.parametrize("ds", WITH_MODEL)
def test_model_reproduces_decisions_and_di(full_dir: Path, ds: str) -> None:
    torch.set_num_threads(1)
    data = A.load_authors(ds, cache_dir=full_dir, download=False)
    model = models.load_authors_model(ds, cache_dir=full_dir, download=False)
    assert model.net.d == data.d and model.net.width == 256 and model.net.n_blocks == 2
    assert model.threshold == pytest.approx(data.meta["threshold"], abs=0)
    y_hat = model.predict(data.X.to_numpy())
    np.testing.assert_array_equal(y_hat, data.Y_hat)  # every row
    from fairwash.fairness import disparate_impact

    assert abs(disparate_impact(y_hat, data.S) - data.meta["di"]) < 1e-6


@pytest.mark.authors
@pytest.mark.parametrize("ds", ["ADULT", "ASC_INC"])
def test_model_matches_an_independent_forward_pass(full_dir: Path, ds: str) -> None:
    torch.set_num_threads(1)
    data = A.load_authors(ds, cache_dir=full_dir, download=False)
    model = models.load_authors_model(ds, cache_dir=full_dir, download=False)
    state = torch.load(full_dir / "Result" / ds / "net_state_dic.pt", weights_only=True)
    Z = data.X.to_numpy()[:3000]
    np.testing.assert_allclose(model.predict_proba(Z), _numpy_forward(state, Z), atol=2e-5)


@pytest.mark.authors
def test_baf_has_no_model_in_the_repository(full_dir: Path, caplog) -> None:
    with pytest.raises(A.ModelUnavailable, match="EIF-biased-classifier/BAF_model"):
        models.load_authors_model("baf", cache_dir=full_dir)
    with caplog.at_level(logging.WARNING, logger=models.__name__):
        assert models.load_authors_model("BAF", cache_dir=full_dir, missing_ok=True) is None
    assert "no trained model" in caplog.text


# ---------------------------------------------------------------------- the authors' own results
@pytest.mark.authors
def test_reference_results(full_dir: Path) -> None:
    hi = A.load_authors_highest_di(full_dir, download=False)
    th = A.load_authors_thresholds(full_dir, download=False)
    assert set(hi) == set(th) == set(A.AUTHORS_DATASETS)
    for ds in A.AUTHORS_DATASETS:
        sizes = {500, 1000} if ds == "ADULT" else {2000, 4000}
        assert set(hi[ds]) == set(th[ds]) == sizes
        for m in sizes:
            assert set(th[ds][m]) == {"KL_A", "KL_P", "W_A", "W_P"}
        # a larger sample gives a smaller threshold for every test
        small, large = sorted(sizes)
        assert all(th[ds][large][t] < th[ds][small][t] for t in th[ds][small])
    assert hi["ASC_PUC"][4000] is None
    assert hi["ADULT"][500] == pytest.approx(0.524008470211183)
    # the README's check: W_A at 10 % of ASC_INC is 0.824
    assert th["ASC_INC"][2000]["W_A"] == pytest.approx(0.8244517973476334)
    tests = A.load_authors_result_json("dic_test_result.json", cache_dir=full_dir, download=False)
    assert set(tests) == set(A.AUTHORS_DATASETS)
