"""Which model belongs to a data set: one resolver for every model source.

A data set of the pipeline is audited with one of two models:

* **trained** (every source but ``"authors"``): the MLP the pipeline trained on it,
  ``results/models/{ds}/model.safetensors`` + ``model.json``
  (:func:`fairwash.model.save_model`), read by :func:`load_trained`, which also gives the
  standardiser and the input column order;
* **authors**: the authors' published model of their data set: their
  ``net_state_dic.pt`` (their GitHub repository, cached in ``authors_dir``,
  :func:`load_authors_model`), else, for BAF, whose model is only on the Hugging Face
  hub, the hub's copy at a pinned revision (:func:`fairwash.hub.load_hub_model`).

:func:`resolve_model` answers for both; the files of a trained model are named by the
results store (``fairwash.store.template("model", ...)``); the twin audit's probe of a trained model is
:func:`fairwash.twins.probe_for`.  No model is ever unpickled: safetensors, and the
authors' state dicts with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any, cast

from fairwash.data.authors import (
    AUTHORS_COMMIT,
    AUTHORS_REPO,
    AUTHORS_SHA256,
    ModelUnavailable,
    authors_file,
    authors_name,
    load_authors_threshold,
    short_name,
)
from fairwash.hub import HUB_REPO_ID, load_hub_model
from fairwash.model import AuditedModel, Standardizer, load_model, load_state_dict_file, mlp_from_state_dict

__all__ = [
    "AUTHORS_SOURCE",
    "ModelUnavailable",
    "TrainedModel",
    "load_trained",
    "load_authors_model",
    "load_paper_model",
    "resolve_model",
]

log = logging.getLogger(__name__)

#: The data-set source whose model is the authors' own (every other source trains one).
AUTHORS_SOURCE = "authors"

@dataclass(frozen=True)
class TrainedModel:
    """A model trained by the pipeline, as saved: the model, its standardiser, its ``model.json``."""

    model: AuditedModel
    standardizer: Standardizer | None
    info: dict[str, Any]

    @property
    def feature_names(self) -> tuple[str, ...] | None:
        """The model's input columns in its order (``None`` if ``model.json`` names none)."""
        names = self.info.get("feature_names")
        return tuple(str(c) for c in names) if names else None


def load_trained(model_dir: str | os.PathLike[str]) -> TrainedModel:
    """The trained model in ``model_dir`` (``model.safetensors`` + ``model.json``, no pickle)."""
    model, standardizer, info = load_model(model_dir)
    return TrainedModel(model, standardizer, info)


def load_authors_model(
    dataset: str,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
    missing_ok: bool = False,
) -> AuditedModel | None:
    """The authors' trained MLP of one data set, in fairwash's :class:`~fairwash.model.MLP`.

    ``net_state_dic.pt`` is read with ``torch.load(weights_only=True)`` (no pickled code
    is executed), its depth and width inferred from the tensors, and paired with
    ``threshold.npy``: the decision is ``sigmoid(net(x)) > threshold``.

    Parameters
    ----------
    dataset, cache_dir, download
        As in :func:`fairwash.data.authors.load_authors`.
    missing_ok : bool, default False
        For a data set whose model is not in the repository (BAF): log a warning and
        return ``None`` instead of raising.

    Raises
    ------
    ModelUnavailable
        BAF's model is not in the authors' repository; it is on the Hugging Face hub
        (see :func:`fairwash.hub.load_hub_model`).
    """
    name = authors_name(dataset)
    key = f"{name}/net_state_dic.pt"
    if key not in AUTHORS_SHA256:
        msg = (
            f"{name}: the authors' repository ({AUTHORS_REPO} at {AUTHORS_COMMIT[:12]}) has no trained "
            f"model for this data set; it is on the Hugging Face hub as "
            f"{HUB_REPO_ID}/{name}_model: use "
            f"fairwash.hub.load_hub_model({short_name(name)!r}, revision=...)"
        )
        if missing_ok:
            log.warning(msg)
            return None
        raise ModelUnavailable(msg)
    path = authors_file(key, cache_dir=cache_dir, download=download)
    net = mlp_from_state_dict(load_state_dict_file(path))  # torch.load(weights_only=True)
    net.eval()
    threshold = load_authors_threshold(name, cache_dir=cache_dir, download=download)
    return AuditedModel(net, threshold)


def load_paper_model(
    dataset: str,
    *,
    authors_dir: str | os.PathLike[str] | None = None,
    download: bool = True,
    hub_revision: str | None = None,
    hub_cache_dir: str | os.PathLike[str] | None = None,
    hub_local_dir: str | os.PathLike[str] | None = None,
) -> AuditedModel:
    """The paper's own classifier: the authors' ``net_state_dic.pt``, else the hub's model.

    The hub is tried only for a data set without a model in the authors' repository
    (BAF) and only when ``hub_revision`` is given.

    Raises
    ------
    ModelUnavailable
        No model from either source; the message says which sources were tried.
    """
    name = authors_name(dataset)
    try:
        model = load_authors_model(name, cache_dir=authors_dir, download=download)
    except ModelUnavailable as err:
        if hub_revision is None:
            raise ModelUnavailable(
                f"{err}. No hub revision was given (config key for the hub revision), so no model "
                f"is available for {short_name(name)!r}: the Grad attacks cannot run on it."
            ) from err
        return load_hub_model(
            name, revision=hub_revision, cache_dir=hub_cache_dir, local_dir=hub_local_dir,
            local_files_only=not download, authors_dir=authors_dir,
        )
    return cast(AuditedModel, model)  # missing_ok=False: raises instead of returning None


def resolve_model(
    source: str,
    *,
    model_dir: str | os.PathLike[str] | None = None,
    dataset: str | None = None,
    authors_dir: str | os.PathLike[str] | None = None,
    hub_revision: str | None = None,
    download: bool = True,
    hub_cache_dir: str | os.PathLike[str] | None = None,
    hub_local_dir: str | os.PathLike[str] | None = None,
    missing_ok: bool = False,
) -> AuditedModel | None:
    """The audited model of a data set, whatever its source.

    Parameters
    ----------
    source : str
        The data set's ``source`` in the config: ``"authors"`` gives the paper's model
        (:func:`load_paper_model`), any other the pipeline's trained model in ``model_dir``.
    model_dir : path, optional
        Folder of ``model.safetensors`` + ``model.json`` (required unless ``source`` is
        ``"authors"``), e.g. ``results/models/{ds}``.
    dataset : str, optional
        The authors' name of the data set (required for ``"authors"``), e.g. ``"ADULT"``.
    authors_dir, hub_revision, download, hub_cache_dir, hub_local_dir
        Passed to :func:`load_paper_model`.
    missing_ok : bool, default False
        When the authors' model exists in neither source (BAF without a hub revision):
        log the reason as a warning and return ``None`` instead of raising.

    Returns
    -------
    AuditedModel or None
        Its decisions are ``predict(Z)`` on the model's own (standardised) features.

    Raises
    ------
    ModelUnavailable
        The authors' model of ``dataset`` exists in neither source (unless ``missing_ok``).
    ValueError
        A required argument is missing.
    """
    if source == AUTHORS_SOURCE:
        if not dataset:
            raise ValueError("resolve_model: the authors' model needs dataset= (e.g. 'ADULT')")
        try:
            return load_paper_model(dataset, authors_dir=authors_dir, download=download,
                                    hub_revision=hub_revision, hub_cache_dir=hub_cache_dir,
                                    hub_local_dir=hub_local_dir)
        except ModelUnavailable as exc:
            if not missing_ok:
                raise
            log.warning("no model: %s", exc)
            return None
    if model_dir is None:
        raise ValueError(f"resolve_model: a model of source {source!r} is trained by the pipeline; "
                         "give model_dir= (results/models/{ds})")
    return load_trained(model_dir).model
