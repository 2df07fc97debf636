"""The authors' trained classifiers from the Hugging Face hub.

The authors also published their models on the hub, in the model repository
``ValentinLAFARGUE/EIF-biased-classifier``: one subfolder per data set
(``ADULT_model``, ``ASC_EMP_model``, ..., ``BAF_model``), each holding a
``config.json`` and a ``model.safetensors``.  BAF's model is only there (the
authors' GitHub ``Result/`` folder has none), so the Grad attacks on BAF need it.

Files are fetched with :func:`huggingface_hub.hf_hub_download` at an explicit
``revision`` (from the config; a 40-hex commit hash pins the bytes, a branch name
does not).  ``local_files_only=True`` reads the Hugging Face cache (or a
``local_dir`` laid out like the repository) without any network call.

Threshold
---------
The content of the hub's ``config.json`` could not be inspected from this
project's build machines.  The decision threshold is taken, in order, from the
``threshold`` argument, from the first of :data:`THRESHOLD_KEYS` found in
``config.json`` (top level, or one level down), else from the authors'
``threshold.npy`` of the same data set (:func:`fairwash.data.authors.load_authors_threshold`).
The tensors' names are normalised to the ``seq.<i>.<param>`` layout of
:class:`fairwash.model.MLP` (a bare ``<i>.<param>`` or a prefix before ``seq.`` is
accepted); depth and width are inferred from the tensors.
"""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from typing import Any

import torch

from fairwash.data.authors import ModelUnavailable, authors_name, load_authors_threshold
from fairwash.data.base import DataError
from fairwash.model import AuditedModel, mlp_from_state_dict

__all__ = [
    "HUB_REPO_ID",
    "HUB_FILES",
    "THRESHOLD_KEYS",
    "HubError",
    "hub_subfolder",
    "download_hub_model",
    "read_hub_config",
    "read_hub_state_dict",
    "load_hub_model",
]

log = logging.getLogger(__name__)

#: The authors' model repository on the Hugging Face hub.
HUB_REPO_ID = "ValentinLAFARGUE/EIF-biased-classifier"
#: The files of each data set's subfolder.
HUB_FILES = ("config.json", "model.safetensors")
#: Keys of ``config.json`` read as the decision threshold, first found wins.
THRESHOLD_KEYS = ("threshold", "decision_threshold", "classification_threshold", "thresh")

_KEY = re.compile(r"^(?:.*\.)?(?:seq\.)?(\d+)\.(weight|bias|running_mean|running_var|num_batches_tracked)$")


class HubError(DataError):
    """A hub model's files cannot be read as the paper's MLP."""


def hub_subfolder(dataset: str) -> str:
    """The hub subfolder of a data set (``"adult"`` -> ``"ADULT_model"``)."""
    return f"{authors_name(dataset)}_model"


def download_hub_model(
    dataset: str,
    *,
    revision: str,
    repo_id: str = HUB_REPO_ID,
    local_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    local_files_only: bool = False,
) -> tuple[Path, Path]:
    """Local paths of ``<sub>/config.json`` and ``<sub>/model.safetensors``, via ``hf_hub_download``.

    Parameters
    ----------
    dataset : str
        Authors' or short name (``"ADULT"``, ``"baf"``...).
    revision : str
        Branch, tag or commit hash of the hub repository (required: give a commit to pin).
    repo_id : str
        The model repository.
    local_dir, cache_dir : path, optional
        Passed to :func:`huggingface_hub.hf_hub_download`: a folder laid out like the
        repository, or a Hugging Face cache (default ``$HF_HUB_CACHE``).
    local_files_only : bool, default False
        Never touch the network.

    Raises
    ------
    ModelUnavailable
        A file is neither cached nor downloadable; the message names the repository,
        the file and the revision.
    """
    # huggingface_hub only when the hub is asked for a model: import cost (it loads requests, tqdm)
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError, LocalEntryNotFoundError

    if not isinstance(revision, str) or not revision.strip():
        raise HubError(f"revision must be a non-empty string (a commit hash pins it), got {revision!r}")
    if not re.fullmatch(r"[0-9a-f]{40}", revision):
        log.info("hub revision %r is not a commit hash: the files it names may change", revision)
    sub = hub_subfolder(dataset)
    out = []
    for name in HUB_FILES:
        filename = f"{sub}/{name}"
        try:
            got = hf_hub_download(
                repo_id,
                filename,
                revision=revision,
                local_dir=None if local_dir is None else str(local_dir),
                cache_dir=None if cache_dir is None else str(cache_dir),
                local_files_only=local_files_only,
            )
        except (LocalEntryNotFoundError, EntryNotFoundError, OSError) as err:
            where = local_dir if local_dir is not None else (cache_dir or "the Hugging Face cache")
            raise ModelUnavailable(
                f"hub model file {filename} of {repo_id} at revision {revision!r} is not available "
                f"({'downloads disabled, ' if local_files_only else ''}looked in {where}): "
                f"{type(err).__name__}: {err}"
            ) from err
        out.append(Path(got))
    return out[0], out[1]


def read_hub_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The JSON object of a hub ``config.json``."""
    path = Path(path)
    try:
        cfg = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise HubError(f"{path}: cannot read as JSON ({err})") from err
    if not isinstance(cfg, dict):
        raise HubError(f"{path}: expected a JSON object, got {type(cfg).__name__}")
    return cfg


def _config_threshold(cfg: dict[str, Any], path: Path) -> float | None:
    scopes = [cfg] + [v for v in cfg.values() if isinstance(v, dict)]
    for scope in scopes:
        for key in THRESHOLD_KEYS:
            if key in scope:
                value = scope[key]
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise HubError(f"{path}: {key!r} should be a number, got {value!r}")
                return float(value)
    return None


def read_hub_state_dict(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Tensors of a ``model.safetensors``, renamed to the ``seq.<i>.<param>`` layout.

    Accepts ``seq.0.weight`` as is, ``0.weight`` (a saved ``nn.Sequential``) and any
    prefix before ``seq.`` (``model.seq.0.weight``).  Missing ``num_batches_tracked``
    buffers (unused in eval mode) are filled with 0.
    """
    from safetensors.torch import load_file  # safetensors only when a hub file is read: import cost

    path = Path(path)
    try:
        raw = load_file(str(path), device="cpu")
    except Exception as err:  # safetensors raises its own SafetensorError and OSError
        raise HubError(f"{path}: cannot read as safetensors ({type(err).__name__}: {err})") from err
    state: dict[str, Any] = {}
    for key, tensor in raw.items():
        m = _KEY.match(key)
        if m is None:
            raise HubError(f"{path}: tensor {key!r} does not fit the MLP layout seq.<i>.<param>")
        new = f"seq.{m.group(1)}.{m.group(2)}"
        if new in state:
            raise HubError(f"{path}: two tensors map to {new!r}")
        state[new] = tensor
    for key in [k for k in state if k.endswith(".running_mean")]:
        state.setdefault(key.replace(".running_mean", ".num_batches_tracked"), torch.tensor(0))
    return state


def load_hub_model(
    dataset: str,
    *,
    revision: str,
    repo_id: str = HUB_REPO_ID,
    local_dir: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    local_files_only: bool = False,
    threshold: float | None = None,
    authors_dir: str | os.PathLike[str] | None = None,
) -> AuditedModel:
    """The authors' classifier of ``dataset`` from the hub, as an :class:`~fairwash.model.AuditedModel`.

    Parameters
    ----------
    dataset, revision, repo_id, local_dir, cache_dir, local_files_only
        See :func:`download_hub_model`.
    threshold : float, optional
        Decision threshold; default: from ``config.json``, else the authors' ``threshold.npy``.
    authors_dir : path, optional
        Cache directory of the authors' ``Result/`` files, for the fallback threshold
        (see :func:`fairwash.data.authors.resolve_cache_dir`).

    Returns
    -------
    AuditedModel
        Decision ``sigmoid(net(x)) > threshold`` on the authors' standardised features.
    """
    cfg_path, weights_path = download_hub_model(
        dataset, revision=revision, repo_id=repo_id, local_dir=local_dir, cache_dir=cache_dir,
        local_files_only=local_files_only,
    )
    net = mlp_from_state_dict(read_hub_state_dict(weights_path))
    net.eval()
    origin = "argument"
    if threshold is None:
        threshold = _config_threshold(read_hub_config(cfg_path), cfg_path)
        origin = f"{cfg_path}"
    if threshold is None:
        threshold = load_authors_threshold(dataset, cache_dir=authors_dir, download=not local_files_only)
        origin = f"the authors' {authors_name(dataset)}/threshold.npy"
    log.info("hub model %s: threshold %.9g from %s", hub_subfolder(dataset), threshold, origin)
    return AuditedModel(net, threshold)
