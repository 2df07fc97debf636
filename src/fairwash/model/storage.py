"""Storage of a trained model: ``model.safetensors`` and ``model.json``, never a pickle."""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from fairwash.io import atomic_path, atomic_write_json
from fairwash.model.network import AuditedModel, ModelError, Standardizer, mlp_from_state_dict

__all__ = ["MODEL_FORMAT", "save_model", "load_model"]

#: ``format`` field of ``model.json``.
MODEL_FORMAT = "fairwash-mlp"
_FORMAT_VERSION = 1


def save_model(
    model: AuditedModel,
    directory: str | os.PathLike,
    *,
    standardizer: Standardizer | None = None,
    feature_names: Iterable[str] | None = None,
) -> None:
    """Write ``model.safetensors`` (the state dict, authors' key layout) and ``model.json``.

    ``model.json`` holds the architecture, the threshold, the optional standardiser
    (float64 values, exact in JSON), feature names and the SHA-256 of the weights file.
    Both files are written atomically; no pickle is involved.
    """
    directory = Path(directory)
    names = None if feature_names is None else [str(c) for c in feature_names]
    if names is not None and len(names) != model.net.d:
        raise ModelError(f"save_model: {len(names)} feature names for a model with d={model.net.d}")
    if standardizer is not None and standardizer.d != model.net.d:
        raise ModelError(f"save_model: standardizer has {standardizer.d} columns, model d={model.net.d}")
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.net.state_dict().items()}
    blob = st_save(tensors, metadata={"format": MODEL_FORMAT})
    with atomic_path(directory / "model.safetensors") as tmp:
        tmp.write_bytes(blob)
    info = {
        "format": MODEL_FORMAT,
        "version": _FORMAT_VERSION,
        "d": model.net.d,
        "width": model.net.width,
        "n_blocks": model.net.n_blocks,
        "threshold": model.threshold,
        "weights_sha256": hashlib.sha256(blob).hexdigest(),
        "feature_names": names,
        "standardizer": None if standardizer is None else {
            "mean": standardizer.mean.tolist(), "scale": standardizer.scale.tolist()},
        "torch_version": torch.__version__,
    }
    atomic_write_json(info, directory / "model.json")


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_info(info: Any, meta_path: Path) -> None:
    """Refuse a ``model.json`` of the wrong shape (it may come from an auditee), naming the field."""
    if not isinstance(info, dict):
        raise ModelError(f"{meta_path}: expected a JSON object with the model's fields, got a "
                         f"{type(info).__name__}")
    if not isinstance(info.get("format"), str):
        raise ModelError(f"{meta_path}: 'format' must be the string {MODEL_FORMAT!r}")
    for key in ("d", "width", "n_blocks"):
        if key in info and not (isinstance(info[key], int) and not isinstance(info[key], bool)):
            raise ModelError(f"{meta_path}: {key!r} must be an integer")
    if "threshold" in info and info["threshold"] is not None and not _number(info["threshold"]):
        kind = type(info["threshold"]).__name__
        raise ModelError(f"{meta_path}: 'threshold' must be a number, got a {kind}")
    std = info.get("standardizer")
    if std is not None:
        ok = isinstance(std, dict) and all(
            isinstance(std.get(k), list) and all(_number(v) for v in std[k]) for k in ("mean", "scale"))
        if not ok:
            raise ModelError(f"{meta_path}: 'standardizer' must hold 'mean' and 'scale' as lists of numbers")


def load_model(directory: str | os.PathLike) -> tuple[AuditedModel, Standardizer | None, dict[str, Any]]:
    """Read what :func:`save_model` wrote (safetensors + JSON; no pickle).

    Returns
    -------
    model : AuditedModel
    standardizer : Standardizer or None
    info : dict
        The content of ``model.json``.
    """
    directory = Path(directory)
    weights, meta_path = directory / "model.safetensors", directory / "model.json"
    for p in (weights, meta_path):
        if not p.is_file():
            raise ModelError(f"model file not found: {p}")
    try:
        info = json.loads(meta_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(f"{meta_path}: not valid JSON ({exc})") from exc
    _check_info(info, meta_path)
    if info.get("format") != MODEL_FORMAT:
        raise ModelError(f"{meta_path}: format {info.get('format')!r}, expected {MODEL_FORMAT!r}")
    blob = weights.read_bytes()
    digest = hashlib.sha256(blob).hexdigest()
    if info.get("weights_sha256") not in (None, digest):
        raise ModelError(f"{weights}: SHA-256 {digest} does not match {info['weights_sha256']} "
                         f"recorded in {meta_path}")
    try:
        state = st_load(blob)
    except Exception as exc:  # safetensors raises its own SafetensorError
        raise ModelError(f"cannot read {weights}: {exc}") from exc
    try:
        net = mlp_from_state_dict(state)
    except ModelError as exc:
        raise ModelError(f"{weights}: {exc}") from exc
    for key in ("d", "width", "n_blocks"):
        if key in info and info[key] != getattr(net, key):
            raise ModelError(f"{meta_path}: {key}={info[key]} but the weights have {getattr(net, key)}")
    if "threshold" not in info or info["threshold"] is None:
        raise ModelError(f"{meta_path}: no threshold")
    std = info.get("standardizer")
    standardizer = None if std is None else Standardizer(np.asarray(std["mean"]), np.asarray(std["scale"]))
    return AuditedModel(net, float(info["threshold"])), standardizer, info
