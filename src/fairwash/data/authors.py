"""The paper's own inputs: the authors' published audited sets and models.

The authors of the paper published, in the ``Result/`` folder of their repository
(github.com/ValentinLafargue/Inspection, MIT licence), for each of the data sets
ADULT, ASC_EMP, ASC_INC, ASC_MOB, ASC_PUC, ASC_TRA and BAF:

* ``original.npy`` -- the audited set P_n, an array of shape (n, d + 2): the d
  standardised features, then S (0 = disadvantaged group), then the model's
  decision Ŷ.  There is **no true label Y**.
* ``DI.npy`` -- the model's Disparate Impact on that set (eq. 1, unbounded).
* ``threshold.npy`` -- the decision threshold on the sigmoid output.
* ``X_number_column.npy`` -- d (absent for ADULT, where d = 34).
* ``net_state_dic.pt`` -- the trained MLP as a torch state dict (absent for BAF).

This module downloads each file from its address at a pinned commit, checks its
SHA-256 against the table :data:`AUTHORS_SHA256` kept here (never read from a
checksum file at run time), caches it, and returns the set as an
:class:`~fairwash.data.base.AuditData` (the model, ``net_state_dic.pt``, is read by the
model layer: :func:`fairwash.models.load_authors_model`).  When the cache already holds a verified
file, no network call is made.  A cached file whose checksum differs is refused,
never silently replaced.

The cache directory is, in order: the ``cache_dir`` argument, the environment
variable ``FAIRWASH_AUTHORS_DIR``, ``results/cache/authors``.  Its layout mirrors
the repository: ``<cache_dir>/Result/ADULT/original.npy``, so a plain copy of the
authors' ``Result/`` folder (with its parent) serves as a cache.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairwash.data.base import AuditData, DataError, infer_features
from fairwash.data.download import ChecksumError, fetch, sha256_file
from fairwash.fairness import disparate_impact

__all__ = [
    "AUTHORS_REPO",
    "AUTHORS_COMMIT",
    "AUTHORS_BASE_URL",
    "AUTHORS_SHA256",
    "AUTHORS_DATASETS",
    "AUTHORS_NAMES",
    "ENV_VAR",
    "DEFAULT_CACHE_DIR",
    "AuthorsFileError",
    "AuthorsChecksumError",
    "AuthorsFileMissing",
    "ModelUnavailable",
    "authors_name",
    "short_name",
    "authors_url",
    "resolve_cache_dir",
    "dataset_files",
    "missing_authors_files",
    "authors_file",
    "ensure_authors_files",
    "load_authors",
    "load_authors_threshold",
    "load_authors_highest_di",
    "load_authors_thresholds",
    "load_authors_result_json",
]

log = logging.getLogger(__name__)

#: The authors' public repository and the commit every file is pinned to.
AUTHORS_REPO = "ValentinLafargue/Inspection"
AUTHORS_COMMIT = "3434ffd3c55ab4393446f4e0bd21a04a083ab993"
#: Base address of the ``Result/`` folder at :data:`AUTHORS_COMMIT`; a file's address is
#: ``f"{AUTHORS_BASE_URL}/{path}"`` with ``path`` relative to ``Result/``.
AUTHORS_BASE_URL = f"https://raw.githubusercontent.com/{AUTHORS_REPO}/{AUTHORS_COMMIT}/Result"

#: SHA-256 of every file of ``Result/`` at :data:`AUTHORS_COMMIT` (paths relative to ``Result/``).
AUTHORS_SHA256: dict[str, str] = {
    "ADULT/DI.npy": "7bfa492465e4e4c81c2ea741d4c3d89d65da7e0d719c2e86f4e9c45666961f59",
    "ADULT/net_state_dic.pt": "a8df4bc03a827548f0591e13290b39132e00a66f94180ffe235507d1ec7bdc34",
    "ADULT/original.npy": "b2dd9ae1a2f63fd149116b60e1ebfd15ac07989290eda3f1e6189bd771a89fcf",
    "ADULT/threshold.npy": "4cb44768e9ebdb60f785f16be6e71e14569f3c97e3410f0debb954f40bbf93da",
    "ASC_EMP/DI.npy": "95db99346abe122561287cbec0e718ae4449b502c155e48140f274a1c4c19a23",
    "ASC_EMP/X_number_column.npy": "4d286f7075dba503fffebf189964b77ca492f3d1673caf77bb44566df48dcefd",
    "ASC_EMP/net_state_dic.pt": "390f01ba0ba39a1534c82e74abb9e76c001810309250ef1ef3b37474899a8e71",
    "ASC_EMP/original.npy": "16eb68184cf96f3ea7787d3cb22e9bcabaacfd1752b81b8a1984017382fc5acc",
    "ASC_EMP/threshold.npy": "d27c0fa06ee129a2a958a4aa6e40b6b9c997c57759e00fce9880a02f4b8e980a",
    "ASC_INC/DI.npy": "630c9bedb7c88fcb1af27c57fa412dc5bf1000017da758bb7e987b40e1773059",
    "ASC_INC/X_number_column.npy": "806cc34b3d99b7a23f99c8ad17cd3de32f4a456eadda0209c695749fcbb0d007",
    "ASC_INC/net_state_dic.pt": "d45be16ebae4a276276842c44414a403188d41aee7a391814d328c60381787bb",
    "ASC_INC/original.npy": "433b79d2aff06c27d94c823d0bdb7e99d0ae4d0bd3f4435e7be593bb0c3a2bda",
    "ASC_INC/threshold.npy": "69c9745b78e93575f4e8cf19a5ef41da24bed4c507a4c8320e4777c654c532ca",
    "ASC_MOB/DI.npy": "f954a71e1dc9c7d4005a444f354e70dec912a0d421aa74c187039842d0e54a11",
    "ASC_MOB/X_number_column.npy": "402638cc4f88a7d66121e709ff8da0d4dbaae24914816a476f2ef977ea06a3a7",
    "ASC_MOB/net_state_dic.pt": "de36db3850835138f9d10108e482aa7157c2003d70392f5abf66a474eea2958a",
    "ASC_MOB/original.npy": "1cf029f42f5fa81334335cde0f6ec0c4e7e756bffba2d3390c91d09ddc2eca10",
    "ASC_MOB/threshold.npy": "28044df1046e304abd1d48c63772106a40e8b6cca4ffc3144c729e3653c9a205",
    "ASC_PUC/DI.npy": "1d01bcf6bdcc5381a0fadc2f37b304fb9c84cdbad9989428655db44a4eeee3b4",
    "ASC_PUC/X_number_column.npy": "8b692caf32f3f425a5fc08f210be1687427981644fd22e790dd13be22378cfbe",
    "ASC_PUC/net_state_dic.pt": "8b357acf215b3c63f9aabf864900023c52496f63975c90d39c1e2f24c7508cda",
    "ASC_PUC/original.npy": "a87a4cfd89234b97371eac527fa2013e61e368141f00a0bb0bb41a57cbbc7892",
    "ASC_PUC/threshold.npy": "274f3cc2ae95534ff3cbc0b21f6530e873a9eeb0fa0feb06b836dab46f2e428e",
    "ASC_TRA/DI.npy": "1a2940421488bd812c73439c06e6322ec1ba3235ba24f96347e373684bfb29c0",
    "ASC_TRA/X_number_column.npy": "402638cc4f88a7d66121e709ff8da0d4dbaae24914816a476f2ef977ea06a3a7",
    "ASC_TRA/net_state_dic.pt": "7259c63a5aa68c62b020cd0f7b8ceddd25959c76a940c04b1e6413a736f51373",
    "ASC_TRA/original.npy": "19354317b6834f24c45cfb84f9db7bb823f5d231730edf0adcdba081d58cabc7",
    "ASC_TRA/threshold.npy": "b8a1c263e66e97f7ca48f943f08fa769ce4263c08c80901f20ed2a0edc2b6c6d",
    "BAF/DI.npy": "1afcaff67f7c09bf2cb2e3a61b17ff11697d9aba09b692a291ed1ea550972a3b",
    "BAF/X_number_column.npy": "91028b115e9cabe36affc6db2846497b35645799f60185d079929d94f19d5954",
    "BAF/original.npy": "13e883549a98733b05e60df641194d61c9d7d7b42d5f40df460028c35a2fe9ee",
    "BAF/threshold.npy": "1767a9b92b880ee2b1945441858efcb5cb7e5c67b4e0eeaafb86ad88be4a8d5b",
    "Highest_DI.npy": "eeb2c09eac1b1dbb3119efc5c4f8662c0f85d80bd98806cfbba68be64767d548",
    "dic_test_result.json": "2843d19b8bd3188e1076b3d413d7d779e03d39f0349f2354e9d09428561bdf4e",
    "dic_threshold.json": "49e15704b5fd50bfd3afee8a98dfeada016ce319abb4c15dd88ed0af21fbc53a",
    "dic_unbiasing.json": "2cf53029c647614c9529145966ceba4a3258eab7610a073e56c7fa109ddf595b",
}

#: The authors' data set names, in the paper's order.
AUTHORS_DATASETS = ("ADULT", "ASC_EMP", "ASC_INC", "ASC_MOB", "ASC_PUC", "ASC_TRA", "BAF")

#: fairwash's short names -> the authors' names.  The authors' names (any case) are also accepted.
AUTHORS_NAMES: dict[str, str] = {
    "adult": "ADULT",
    "emp": "ASC_EMP",
    "inc": "ASC_INC",
    "mob": "ASC_MOB",
    "puc": "ASC_PUC",
    "tra": "ASC_TRA",
    "baf": "BAF",
}
_SHORT = {v: k for k, v in AUTHORS_NAMES.items()}

#: Number of features of ADULT, whose folder has no ``X_number_column.npy``.
_ADULT_D = 34

#: Environment variable naming the cache directory.
ENV_VAR = "FAIRWASH_AUTHORS_DIR"
#: Cache directory used when neither an argument nor :data:`ENV_VAR` gives one.
DEFAULT_CACHE_DIR = Path("results/cache/authors")

_DI_TOL = 1e-6
_NO_Y = (
    "the authors publish no true label Y for this set: equality of odds, accuracy and any "
    "other quantity that needs Y cannot be computed on it"
)
_NO_COLUMN_NAMES = (
    "the authors do not publish the feature names: columns f0..f{d-1} are their standardised "
    "feature columns in stored order"
)


# ---------------------------------------------------------------------- errors
class AuthorsFileError(DataError):
    """A file of the authors' ``Result/`` folder cannot be used."""


class AuthorsChecksumError(AuthorsFileError, ChecksumError):
    """A cached file's SHA-256 differs from the pinned one; the message names both."""

    def __init__(self, path: Path, expected: str, actual: str) -> None:
        self.path, self.expected, self.actual = Path(path), expected, actual
        super().__init__(
            f"refusing {path}: its SHA-256 is {actual} but the pinned checksum "
            f"(commit {AUTHORS_COMMIT}) is {expected}; the file is corrupt or not the authors' "
            "version. Delete it to download it again."
        )


class AuthorsFileMissing(AuthorsFileError):
    """A file is neither in the cache nor downloadable; the message gives its public address."""

    def __init__(self, path: Path, url: str, reason: str) -> None:
        self.path, self.url = Path(path), url
        super().__init__(
            f"{reason}: {path} is missing. Fetch it from {url} and put it at {path} "
            f"(or set {ENV_VAR} to a directory holding Result/...)."
        )


class ModelUnavailable(LookupError):
    """No trained model is available for this data set from the requested source."""


# ---------------------------------------------------------------------- names and paths
def authors_name(dataset: str) -> str:
    """The authors' name of a data set (``"inc"`` or ``"asc_inc"`` -> ``"ASC_INC"``).

    Raises
    ------
    DataError
        If ``dataset`` names none of :data:`AUTHORS_DATASETS`.
    """
    if not isinstance(dataset, str):
        raise DataError(f"dataset must be a string, got {type(dataset).__name__}")
    key = dataset.strip()
    if key.lower() in AUTHORS_NAMES:
        return AUTHORS_NAMES[key.lower()]
    if key.upper() in AUTHORS_DATASETS:
        return key.upper()
    raise DataError(
        f"unknown authors' data set {dataset!r}; expected one of {list(AUTHORS_DATASETS)} "
        f"or {list(AUTHORS_NAMES)}"
    )


def short_name(dataset: str) -> str:
    """fairwash's short name of a data set (``"ASC_INC"`` -> ``"inc"``)."""
    return _SHORT[authors_name(dataset)]


def authors_url(path: str, base_url: str = AUTHORS_BASE_URL) -> str:
    """Public address of ``Result/<path>`` at the pinned commit."""
    return f"{base_url.rstrip('/')}/{path}"


def resolve_cache_dir(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The cache directory: ``cache_dir``, else ``$FAIRWASH_AUTHORS_DIR``, else ``results/cache/authors``."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    return DEFAULT_CACHE_DIR


def dataset_files(dataset: str) -> list[str]:
    """Paths (relative to ``Result/``) of every published file of one data set."""
    name = authors_name(dataset)
    return sorted(p for p in AUTHORS_SHA256 if p.startswith(f"{name}/"))


def _all_paths(datasets: Iterable[str] | None) -> list[str]:
    if datasets is None:
        return sorted(AUTHORS_SHA256)
    paths: list[str] = []
    for ds in datasets:
        paths.extend(dataset_files(ds))
    return paths


def missing_authors_files(
    cache_dir: str | os.PathLike[str] | None = None, datasets: Iterable[str] | None = None
) -> list[str]:
    """Paths (relative to ``Result/``) absent from the cache; existence only, no checksum."""
    root = resolve_cache_dir(cache_dir) / "Result"
    return [p for p in _all_paths(datasets) if not (root / p).is_file()]


def authors_file(
    path: str,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
    base_url: str = AUTHORS_BASE_URL,
) -> Path:
    """The verified local copy of ``Result/<path>``, downloading it if needed and allowed.

    Parameters
    ----------
    path : str
        A key of :data:`AUTHORS_SHA256`, e.g. ``"ADULT/original.npy"``.
    cache_dir : path, optional
        See :func:`resolve_cache_dir`.
    download : bool, default True
        Fetch a missing file from its public address.  Never used when the file is cached.
    base_url : str
        Address of the ``Result/`` folder (default: the pinned commit on GitHub).

    Raises
    ------
    AuthorsChecksumError
        The cached (or downloaded) file's SHA-256 differs from the pinned one.
    AuthorsFileMissing
        The file is absent and ``download`` is False or the download failed.
    """
    if path not in AUTHORS_SHA256:
        raise AuthorsFileError(f"{path!r} is not a file of the authors' Result/ folder")
    expected = AUTHORS_SHA256[path]
    local = resolve_cache_dir(cache_dir) / "Result" / path
    url = authors_url(path, base_url)
    if local.is_file():
        actual = sha256_file(local)
        if actual != expected:
            raise AuthorsChecksumError(local, expected, actual)
        return local
    if not download:
        raise AuthorsFileMissing(local, url, "not in the cache and download=False")
    log.info("downloading %s -> %s", url, local)
    try:
        got = Path(fetch(url, expected, local))
    except ChecksumError:  # the downloaded bytes are not the pinned ones: nothing was saved
        raise
    except (DataError, OSError) as err:  # network down, host unreachable
        raise AuthorsFileMissing(local, url, f"download failed ({err})") from err
    return got


def ensure_authors_files(
    datasets: Iterable[str] | None = None,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
    base_url: str = AUTHORS_BASE_URL,
) -> list[Path]:
    """Verify (and fetch what is missing of) every file of ``datasets`` (default: all files)."""
    return [
        authors_file(p, cache_dir=cache_dir, download=download, base_url=base_url)
        for p in _all_paths(datasets)
    ]


# ---------------------------------------------------------------------- audited sets
def _scalar(path: Path, what: str) -> float:
    arr = np.load(path, allow_pickle=False)
    if arr.size != 1:
        raise AuthorsFileError(f"{path}: {what} should hold one number, got shape {arr.shape}")
    return float(arr.reshape(()))


def _n_features(name: str, cache_dir: Any, download: bool) -> int:
    key = f"{name}/X_number_column.npy"
    if key not in AUTHORS_SHA256:
        return _ADULT_D
    return int(_scalar(authors_file(key, cache_dir=cache_dir, download=download), "X_number_column"))


def load_authors_threshold(
    dataset: str, *, cache_dir: str | os.PathLike[str] | None = None, download: bool = True
) -> float:
    """The decision threshold on the model's sigmoid output (``threshold.npy``, a float32)."""
    name = authors_name(dataset)
    return _scalar(
        authors_file(f"{name}/threshold.npy", cache_dir=cache_dir, download=download), "threshold"
    )


#: How S is coded in each set (PROTOCOL.md, Table 1): S = 0 is the disadvantaged group.
AUTHORS_S_RULES: dict[str, str] = {
    "ADULT": "sex: S = 0 female",
    "ASC_INC": "sex: S = 0 female",
    "ASC_TRA": "sex: S = 0 female",
    "ASC_MOB": "age: S = 0 age <= 25",
    "ASC_EMP": "disability: S = 0 disabled",
    "ASC_PUC": "disability: S = 0 disabled",
    "BAF": "customer_age: S = 0 age <= 40",
}


def load_authors(
    dataset: str, *, cache_dir: str | os.PathLike[str] | None = None, download: bool = True
) -> AuditData:
    """The authors' audited set P_n of one data set, as :class:`AuditData`.

    ``original.npy`` is read as ``(features, S, Ŷ)``; ``Y`` is ``None`` (the authors
    publish no true label: anything that needs it, such as equality of odds or
    accuracy, raises through :meth:`AuditData.require_y`).  The Disparate Impact
    (eq. 1) recomputed from S and Ŷ must equal ``DI.npy`` to 1e-6.

    Parameters
    ----------
    dataset : str
        ``"ADULT"``, ``"ASC_EMP"``, ... or fairwash's short name (``"adult"``, ``"emp"``, ...).
    cache_dir : path, optional
        See :func:`resolve_cache_dir`.
    download : bool, default True
        Fetch missing files from their pinned public addresses.

    Returns
    -------
    AuditData
        Named by the short name (``"adult"``, ``"inc"``...); features ``f0..f{d-1}``
        (already standardised by the authors); ``meta`` holds ``source="authors"``,
        the repository and commit, ``di`` and ``threshold`` as published, ``n``, ``d``,
        and notes on the missing Y and column names.

    Raises
    ------
    AuthorsChecksumError, AuthorsFileMissing
        See :func:`authors_file`.
    DataError
        If the array's shape, the S / Ŷ columns or the published DI disagree.
    """
    name = authors_name(dataset)
    short = _SHORT[name]
    path = authors_file(f"{name}/original.npy", cache_dir=cache_dir, download=download)
    arr = np.load(path, allow_pickle=False)
    d = _n_features(name, cache_dir, download)
    if arr.ndim != 2 or arr.shape[1] != d + 2:
        raise AuthorsFileError(f"{path}: expected shape (n, {d + 2}) = (n, d + 2), got {arr.shape}")
    arr = arr.astype(np.float64, copy=False)
    columns = [f"f{j}" for j in range(d)]
    X = pd.DataFrame(arr[:, :d], columns=columns)
    S, Y_hat = arr[:, d], arr[:, d + 1]
    di_path = authors_file(f"{name}/DI.npy", cache_dir=cache_dir, download=download)
    di_published = _scalar(di_path, "DI")
    threshold = load_authors_threshold(name, cache_dir=cache_dir, download=download)
    meta = {
        "source": "authors",
        "s_rule": AUTHORS_S_RULES[name],
        "authors_name": name,
        "repository": f"https://github.com/{AUTHORS_REPO}",
        "commit": AUTHORS_COMMIT,
        "url": authors_url(f"{name}/original.npy"),
        "sha256": {p: AUTHORS_SHA256[p] for p in dataset_files(name)},
        "di": di_published,
        "threshold": threshold,
        "n": int(arr.shape[0]),
        "d": d,
        "has_model": f"{name}/net_state_dic.pt" in AUTHORS_SHA256,
        "standardised": True,
        "columns": _NO_COLUMN_NAMES,
        "Y": _NO_Y,
    }
    data = AuditData(short, X, S, None, Y_hat, infer_features(X), meta)
    di = disparate_impact(data.Y_hat, data.S)
    if not abs(di - di_published) <= _DI_TOL:
        raise AuthorsFileError(
            f"{short}: the DI recomputed from the S and Y_hat columns of {path} is {di!r}, "
            f"but {di_path} says {di_published!r} (tolerance {_DI_TOL})"
        )
    return data


# ---------------------------------------------------------------------- the authors' own results
def load_authors_result_json(
    filename: str, *, cache_dir: str | os.PathLike[str] | None = None, download: bool = True
) -> dict[str, Any]:
    """One of the JSON files of ``Result/`` (``Highest_DI.npy`` included: it is JSON text)."""
    path = authors_file(filename, cache_dir=cache_dir, download=download)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise AuthorsFileError(f"{path}: not valid JSON ({err})") from err


def load_authors_highest_di(
    cache_dir: str | os.PathLike[str] | None = None, *, download: bool = True
) -> dict[str, dict[int, float | None]]:
    """The fairest undetected DI the authors found with Matching M_W (``Highest_DI.npy``).

    Despite its extension the file is JSON text.  It comes from an earlier run than the
    paper's Table 3 (five tests, no MMD): expect agreement in pattern, not digits.

    Returns
    -------
    dict
        ``{authors' data set name: {sample size m: DI or None}}`` with ``None`` where no
        undetected manipulation was found, e.g. ``out["ADULT"][500] == 0.524...``.
    """
    raw = load_authors_result_json("Highest_DI.npy", cache_dir=cache_dir, download=download)
    return {
        ds: {int(m): (None if v is None else float(v)) for m, v in by_m.items()} for ds, by_m in raw.items()
    }


def load_authors_thresholds(
    cache_dir: str | os.PathLike[str] | None = None, *, download: bool = True
) -> dict[str, dict[int, dict[str, float]]]:
    """The authors' reference thresholds of the distance tests (``dic_threshold.json``).

    Each is mean + 1.96 std of the statistic over 30 honest samples (the code's rule).

    Returns
    -------
    dict
        ``{authors' data set name: {sample size m: {"KL_A", "KL_P", "W_A", "W_P": threshold}}}``,
        e.g. ``out["ASC_INC"][2000]["W_A"] == 0.824...``.
    """
    raw = load_authors_result_json("dic_threshold.json", cache_dir=cache_dir, download=download)
    return {
        ds: {int(m): {t: float(v) for t, v in tests.items()} for m, tests in by_m.items()}
        for ds, by_m in raw.items()
    }
