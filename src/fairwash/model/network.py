"""The audited model's network, decision threshold and standardiser (the paper's MLP).

The auditee's classifier (paper, Section 6 and Appendix 0.D; the authors' code) is

    BatchNorm1d(d) -> Linear(d, w) -> ReLU
    -> n_blocks x [BatchNorm1d(w) -> Linear(w, w) -> ReLU]
    -> BatchNorm1d(w) -> Linear(w, 1) -> sigmoid

with ``w = 256`` (1 024 for BAF) and ``n_blocks = 2``; its decision is
``ŷ = 1{sigmoid(f(z)) > threshold}`` (:class:`AuditedModel`).

Layout: the network is an :class:`torch.nn.Sequential` attribute ``seq`` whose indices are
those of the authors' state dicts (``seq.0`` ... ``seq.10`` for two blocks), so their
published weights load with ``strict=True`` (:func:`mlp_from_state_dict`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

__all__ = ["MLP", "ModelError", "mlp_from_state_dict", "load_state_dict_file", "Standardizer", "AuditedModel"]

_PREDICT_BATCH = 65_536


class ModelError(ValueError):
    """Raised for a state dict, model file or input that the audited model cannot use."""


# ---------------------------------------------------------------------------- network
class MLP(nn.Module):
    """The audited network: logits of the paper's BatchNorm MLP.

    Parameters
    ----------
    d : int
        Number of input features.
    width : int, default 256
        Hidden width ``w``.
    n_blocks : int, default 2
        Number of hidden ``BatchNorm -> Linear(w, w) -> ReLU`` blocks.

    Notes
    -----
    ``seq`` holds ``3 * (n_blocks + 1) + 2`` modules; Linear layers sit at indices
    ``1, 4, ..., 3 * (n_blocks + 1) + 1`` and BatchNorm layers just before each of them.
    :meth:`forward` returns the logit ``f(z)``; the probability is ``sigmoid(f(z))``.

    Examples
    --------
    >>> net = MLP(8)
    >>> sorted({k.split(".")[1] for k in net.state_dict()}, key=int)
    ['0', '1', '3', '4', '6', '7', '9', '10']
    """

    def __init__(self, d: int, width: int = 256, n_blocks: int = 2) -> None:
        super().__init__()
        for name, value, low in (("d", d, 1), ("width", width, 1), ("n_blocks", n_blocks, 0)):
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
                raise ModelError(f"MLP: {name} must be an integer >= {low}, got {value!r}")
        d, width, n_blocks = int(d), int(width), int(n_blocks)
        layers: list[nn.Module] = [nn.BatchNorm1d(d), nn.Linear(d, width), nn.ReLU()]
        for _ in range(n_blocks):
            layers += [nn.BatchNorm1d(width), nn.Linear(width, width), nn.ReLU()]
        layers += [nn.BatchNorm1d(width), nn.Linear(width, 1)]
        self.seq = nn.Sequential(*layers)
        self.d = d
        self.width = width
        self.n_blocks = n_blocks

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Logits, shape (n,), of features ``z`` of shape (n, d)."""
        if z.ndim != 2 or z.shape[1] != self.d:
            raise ModelError(f"MLP: input must have shape (n, {self.d}), got {tuple(z.shape)}")
        return self.seq(z).squeeze(-1)

    def extra_repr(self) -> str:
        return f"d={self.d}, width={self.width}, n_blocks={self.n_blocks}"


def _linear_indices(state: Mapping[str, Any]) -> list[int]:
    out = []
    for key, value in state.items():
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "seq" and parts[2] == "weight" and parts[1].isdigit():
            if getattr(value, "ndim", None) == 2:
                out.append(int(parts[1]))
    return sorted(out)


def mlp_from_state_dict(state: Mapping[str, torch.Tensor]) -> MLP:
    """Build an :class:`MLP` from a state dict, inferring ``d``, ``width`` and ``n_blocks``.

    Parameters
    ----------
    state : mapping of str to torch.Tensor
        Keys ``seq.<i>.<name>`` as written by :meth:`MLP.state_dict` (and by the authors).

    Returns
    -------
    MLP
        Loaded with ``strict=True``, in eval mode.

    Raises
    ------
    ModelError
        If the keys or shapes do not form the layout; the message names the missing,
        unexpected or mis-shaped keys.
    """
    if not isinstance(state, Mapping):
        raise ModelError(f"state dict must be a mapping of str to tensors, got {type(state).__name__}")
    bad = [k for k, v in state.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise ModelError(f"state dict: value(s) of key(s) {bad[:5]} are not tensors")
    first = state.get("seq.1.weight")
    if first is None or first.ndim != 2:
        keys = sorted(state)[:8]
        raise ModelError(
            "state dict: no 2-D 'seq.1.weight' (the first Linear layer), so the input dimension "
            f"and width cannot be inferred; keys found: {keys}{' ...' if len(state) > 8 else ''}"
        )
    width, d = (int(s) for s in first.shape)
    linears = _linear_indices(state)
    n_blocks = len(linears) - 2
    expected_linears = [1 + 3 * k for k in range(n_blocks + 2)]
    if n_blocks < 0 or linears != expected_linears:
        raise ModelError(
            f"state dict: Linear weights at seq indices {linears}, expected 1, 4, 7, ... "
            "(BatchNorm -> Linear -> ReLU blocks ending with a BatchNorm -> Linear(w, 1) head)"
        )
    net = MLP(d, width, n_blocks)
    reference = net.state_dict()
    missing = sorted(set(reference) - set(state))
    unexpected = sorted(set(state) - set(reference))
    if missing or unexpected:
        raise ModelError(
            f"state dict does not match MLP(d={d}, width={width}, n_blocks={n_blocks}): "
            f"missing keys {missing}, unexpected keys {unexpected}"
        )
    shapes = [
        f"{k}: {tuple(state[k].shape)} != {tuple(v.shape)}"
        for k, v in reference.items()
        if tuple(state[k].shape) != tuple(v.shape)
    ]
    if shapes:
        raise ModelError(
            f"state dict does not match MLP(d={d}, width={width}, n_blocks={n_blocks}): "
            f"wrong shapes {shapes[:5]}"
        )
    net.load_state_dict(dict(state), strict=True)
    net.eval()
    return net


def load_state_dict_file(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Read a torch state dict safely (``weights_only=True``) onto the CPU.

    Raises
    ------
    ModelError
        If the file is missing or is not a plain dict of tensors; the message names the file.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"state dict file not found: {path}")
    try:
        state = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as exc:  # torch raises several types (UnpicklingError, RuntimeError, ...)
        raise ModelError(f"cannot read state dict file {path}: {type(exc).__name__}: {exc}") from exc
    if not isinstance(state, Mapping) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ModelError(f"{path}: not a state dict (a mapping of names to tensors)")
    return dict(state)


# ---------------------------------------------------------------------------- scaling
def as_2d_float(X: Any, what: str) -> np.ndarray:
    """``X`` (array or frame) as a float64 array of shape (n, d); the message names ``what``."""
    arr = X.to_numpy(dtype=np.float64) if isinstance(X, pd.DataFrame) else np.asarray(X, dtype=np.float64)
    if arr.ndim != 2:
        raise ModelError(f"{what} must be two-dimensional (n, d), got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ModelError(f"{what} contains {int((~np.isfinite(arr)).sum())} non-finite values")
    return arr


@dataclass(frozen=True)
class Standardizer:
    """Per-column standardisation ``(x - mean) / scale``.

    ``scale`` is the population standard deviation (``ddof = 0``, as scikit-learn's
    ``StandardScaler``), with constant columns given scale 1.
    """

    mean: np.ndarray
    scale: np.ndarray

    def __post_init__(self) -> None:
        mean = np.asarray(self.mean, dtype=np.float64)
        scale = np.asarray(self.scale, dtype=np.float64)
        if mean.ndim != 1 or mean.shape != scale.shape:
            raise ModelError(f"Standardizer: mean and scale must be 1-D of equal length, "
                             f"got {mean.shape} and {scale.shape}")
        if not (np.isfinite(mean).all() and np.isfinite(scale).all() and (scale > 0).all()):
            raise ModelError("Standardizer: mean must be finite and scale finite and positive")
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "scale", scale)

    @classmethod
    def fit(cls, X: Any) -> Standardizer:
        """Column means and standard deviations of ``X`` (array or DataFrame, shape (n, d))."""
        arr = as_2d_float(X, "X")
        if arr.shape[0] == 0:
            raise ModelError("Standardizer.fit: X has no rows")
        scale = arr.std(axis=0)
        scale[scale == 0] = 1.0
        return cls(arr.mean(axis=0), scale)

    @property
    def d(self) -> int:
        return int(self.mean.shape[0])

    def transform(self, X: Any) -> np.ndarray:
        """``(X - mean) / scale`` as float64, shape (n, d)."""
        arr = as_2d_float(X, "X")
        if arr.shape[1] != self.d:
            raise ModelError(f"Standardizer.transform: X has {arr.shape[1]} columns, fitted on {self.d}")
        return (arr - self.mean) / self.scale

    def inverse_transform(self, Z: Any) -> np.ndarray:
        """``Z * scale + mean``: back to the original units."""
        arr = as_2d_float(Z, "Z")
        if arr.shape[1] != self.d:
            raise ModelError(f"Standardizer.inverse_transform: Z has {arr.shape[1]} columns, "
                             f"fitted on {self.d}")
        return arr * self.scale + self.mean


# ---------------------------------------------------------------------------- the model
@dataclass
class AuditedModel:
    """A trained :class:`MLP` and its decision threshold on the sigmoid probability.

    The decision is ``ŷ = 1{sigmoid(f(z)) > threshold}``, equivalently
    ``f(z) > logit_threshold``.
    """

    net: MLP
    threshold: float

    def __post_init__(self) -> None:
        t = float(self.threshold)
        if not 0.0 <= t <= 1.0:
            raise ModelError(f"AuditedModel: threshold must lie in [0, 1], got {self.threshold!r}")
        self.threshold = t

    @property
    def d(self) -> int:
        return self.net.d

    @property
    def logit_threshold(self) -> float:
        """``log(t / (1 - t))`` (``±inf`` at ``t`` = 1 or 0)."""
        t = self.threshold
        if t <= 0.0:
            return -math.inf
        if t >= 1.0:
            return math.inf
        return math.log(t) - math.log1p(-t)

    def predict_proba(self, Z: Any, *, batch_size: int = _PREDICT_BATCH) -> np.ndarray:
        """Probabilities ``sigmoid(f(z))``, float64 of shape (n,), of standardised features ``Z``.

        The sigmoid is taken in float32, as the authors' code does, so that comparing with
        their float32 threshold reproduces their decisions exactly.
        """
        arr = as_2d_float(Z, "Z")
        if arr.shape[1] != self.net.d:
            raise ModelError(f"Z has {arr.shape[1]} columns, the model expects {self.net.d}")
        was_training = self.net.training
        self.net.eval()
        out = np.empty(arr.shape[0], dtype=np.float64)
        try:
            with torch.no_grad():
                for start in range(0, arr.shape[0], batch_size):
                    chunk = torch.from_numpy(arr[start:start + batch_size].astype(np.float32))
                    out[start:start + batch_size] = torch.sigmoid(self.net(chunk)).numpy()
        finally:
            self.net.train(was_training)
        return out

    def predict(self, Z: Any) -> np.ndarray:
        """Decisions ``1{proba > threshold}`` as int8 of shape (n,)."""
        return (self.predict_proba(Z) > self.threshold).astype(np.int8)

