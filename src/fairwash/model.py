"""The audited model: the paper's MLP, its schedule-free training and its decision threshold.

The auditee's classifier (paper, Section 6 and Appendix 0.D; the authors' code) is

    BatchNorm1d(d) -> Linear(d, w) -> ReLU
    -> n_blocks x [BatchNorm1d(w) -> Linear(w, w) -> ReLU]
    -> BatchNorm1d(w) -> Linear(w, 1) -> sigmoid

with ``w = 256`` (1 024 for BAF) and ``n_blocks = 2``.  It is trained with the mean squared
error between the sigmoid output and the 0/1 label, by ``schedulefree.AdamWScheduleFree``
(lr 1e-3, batch 2 048).  The decision is ``ŷ = 1{sigmoid(f(z)) > threshold}``, the threshold
being the ``1 - mean(y_train)`` quantile of the predicted training probabilities, so that the
predicted positive rate equals the training positive rate (Appendix 0.D).

Layout: the network is an :class:`torch.nn.Sequential` attribute ``seq`` whose indices are
those of the authors' state dicts (``seq.0`` ... ``seq.10`` for two blocks), so their
published weights load with ``strict=True`` (:func:`mlp_from_state_dict`).

Departures from the authors' code (see ``/work/shared/PROTOCOL.md``):

* every random choice is seeded (split, initialisation, shuffling), with local generators;
* the standardiser is fitted on the training split only (the code fits it before the split);
* after training, the BatchNorm running statistics are recomputed at the schedule-free
  evaluation point ``x`` (schedulefree's README, "Caveats"): during training the forward
  passes run at the interpolated point ``y``, so the running statistics cached there do not
  match the weights used at inference.  ``recompute_bn=False`` keeps the code's behaviour.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from fairwash.data.base import AuditData, DataError
from fairwash.fairness import disparate_impact, positive_rates
from fairwash.io import atomic_path, atomic_write_json
from fairwash.progress import show_progress

__all__ = [
    "MLP",
    "ModelError",
    "mlp_from_state_dict",
    "load_state_dict_file",
    "Standardizer",
    "AuditedModel",
    "train_mlp",
    "FitResult",
    "fit_audited_model",
    "save_model",
    "load_model",
    "MODEL_FORMAT",
]

#: ``format`` field of ``model.json``.
MODEL_FORMAT = "fairwash-mlp"
_FORMAT_VERSION = 1
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
def _as_2d_float(X: Any, what: str) -> np.ndarray:
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
        arr = _as_2d_float(X, "X")
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
        arr = _as_2d_float(X, "X")
        if arr.shape[1] != self.d:
            raise ModelError(f"Standardizer.transform: X has {arr.shape[1]} columns, fitted on {self.d}")
        return (arr - self.mean) / self.scale

    def inverse_transform(self, Z: Any) -> np.ndarray:
        """``Z * scale + mean``: back to the original units."""
        arr = _as_2d_float(Z, "Z")
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
        arr = _as_2d_float(Z, "Z")
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


def _torch_seed(random_state: int | np.random.Generator | None) -> int:
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**63 - 1))
    if random_state is None:
        return int(np.random.default_rng().integers(0, 2**63 - 1))
    if isinstance(random_state, bool) or not isinstance(random_state, int | np.integer):
        raise TypeError(f"random_state must be an int, a numpy Generator or None, not {random_state!r}")
    return int(random_state)


def _batches(n: int, batch_size: int, perm: torch.Tensor | None = None) -> list[torch.Tensor]:
    """Index batches; a trailing batch of one row is merged into the previous one (BatchNorm
    cannot normalise a single row in training mode)."""
    idx = torch.arange(n) if perm is None else perm
    chunks = list(torch.split(idx, batch_size))
    if len(chunks) > 1 and len(chunks[-1]) == 1:
        chunks[-2] = torch.cat(chunks[-2:])
        chunks.pop()
    return chunks


@torch.no_grad()
def _recompute_batchnorm(net: MLP, Z: torch.Tensor, batch_size: int) -> None:
    """Replace every BatchNorm's running mean/var by their cumulative average over ``Z``.

    Forward passes in training mode (batch statistics), with ``momentum=None`` so that the
    running estimates are exact averages over the batches rather than exponential ones.
    """
    bns = [m for m in net.modules() if isinstance(m, nn.BatchNorm1d)]
    momenta = [m.momentum for m in bns]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    net.train()
    try:
        for idx in _batches(Z.shape[0], batch_size):
            net(Z[idx])
    finally:
        for m, mom in zip(bns, momenta, strict=True):
            m.momentum = mom
        net.eval()


def _validate_training_data(Z_train: Any, y_train: Any) -> tuple[np.ndarray, np.ndarray]:
    Z = _as_2d_float(Z_train, "Z_train")
    y = np.asarray(y_train)
    if y.ndim != 1 or y.shape[0] != Z.shape[0]:
        raise ModelError(f"y_train must be 1-D with {Z.shape[0]} values (rows of Z_train), got {y.shape}")
    values = np.unique(y)
    if not np.isin(values, (0, 1)).all():
        raise ModelError(f"y_train must be binary 0/1, found values {values[:5].tolist()}")
    if Z.shape[0] < 2:
        raise ModelError(f"Z_train needs at least 2 rows for BatchNorm, got {Z.shape[0]}")
    return Z, y.astype(np.float32)


def train_mlp(
    Z_train: np.ndarray,
    y_train: np.ndarray,
    *,
    width: int = 256,
    n_blocks: int = 2,
    epochs: int = 3,
    batch_size: int = 2048,
    lr: float = 1e-3,
    random_state: int | np.random.Generator | None = 0,
    progress: bool | None = None,
    recompute_bn: bool = True,
) -> AuditedModel:
    r"""Train the audited MLP and set its threshold (paper, Section 6; Appendix 0.D).

    Minimises the mean squared error :math:`\frac1n\sum_i (\sigma(f(z_i)) - y_i)^2` with
    ``schedulefree.AdamWScheduleFree(lr)`` over shuffled mini-batches, then sets the threshold
    to the :math:`1 - \bar y` quantile of the training probabilities, so that the predicted
    positive rate matches the training positive rate :math:`\bar y`.

    Parameters
    ----------
    Z_train : ndarray, shape (n, d)
        Standardised training features.
    y_train : ndarray of {0, 1}, shape (n,)
        Training labels.
    width, n_blocks : int
        Network size (see :class:`MLP`).
    epochs, batch_size : int
        Passes over the data and mini-batch size.
    lr : float
        Learning rate of the schedule-free AdamW.
    random_state : int, numpy Generator or None
        Seeds initialisation and shuffling (local generators; global torch state is
        restored).  The same int gives bit-identical weights on the same CPU build and
        thread count.
    progress : bool or None
        Show a tqdm bar over batches; ``None``: only when stderr is a terminal and ``CI``
        is unset.
    recompute_bn : bool, default True
        Recompute the BatchNorm statistics at the evaluation weights after training
        (schedulefree's advice); ``False`` keeps those accumulated during training, as the
        authors' code does.

    Returns
    -------
    AuditedModel
        The network in eval mode and its probability threshold.
    """
    Z, y = _validate_training_data(Z_train, y_train)
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ModelError(f"train_mlp: {name} must be a positive integer, got {value!r}")
    if not (isinstance(lr, int | float) and lr > 0):
        raise ModelError(f"train_mlp: lr must be a positive number, got {lr!r}")
    import schedulefree  # local: keeps `import fairwash.model` light for inference-only users

    seed = _torch_seed(random_state)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = MLP(Z.shape[1], width, n_blocks)
    shuffler = torch.Generator().manual_seed(seed + 1 if seed < 2**63 - 2 else 0)
    Zt = torch.from_numpy(Z.astype(np.float32))
    yt = torch.from_numpy(y)
    n = Zt.shape[0]
    optimizer = schedulefree.AdamWScheduleFree(net.parameters(), lr=lr)
    loss_fn = nn.MSELoss()

    bar = None
    if show_progress(progress):
        from tqdm.auto import tqdm

        bar = tqdm(total=int(epochs) * len(_batches(n, int(batch_size))), desc="train MLP", unit="batch")
    net.train()
    optimizer.train()
    try:
        for epoch in range(int(epochs)):
            perm = torch.randperm(n, generator=shuffler)
            for idx in _batches(n, int(batch_size), perm):
                optimizer.zero_grad(set_to_none=True)
                loss = loss_fn(torch.sigmoid(net(Zt[idx])), yt[idx])
                loss.backward()
                optimizer.step()
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(epoch=epoch + 1, loss=f"{loss.item():.4f}")
    finally:
        if bar is not None:
            bar.close()
    optimizer.eval()  # parameters move to the averaged point x used for inference
    if recompute_bn:
        _recompute_batchnorm(net, Zt, int(batch_size))
    net.eval()
    model = AuditedModel(net, 0.5)
    proba = model.predict_proba(Z)
    positive_rate = float(np.mean(y, dtype=np.float64))
    model.threshold = float(np.quantile(proba, 1.0 - positive_rate))
    return model


# ---------------------------------------------------------------------------- end to end
@dataclass
class FitResult:
    """What :func:`fit_audited_model` returns.

    Attributes
    ----------
    model : AuditedModel
    standardizer : Standardizer
        Fitted on the training split; maps raw features to the model's input.
    audited : AuditData
        The audited set: standardised X (original column names), S, Y, Y_hat.
    metrics : dict
        Accuracies, DI of labels and decisions, positive rates, sizes.
    train_index, test_index : ndarray of int64
        Row positions in the input data; the audited set is ``test_index[:n_audit]``.
    """

    model: AuditedModel
    standardizer: Standardizer
    audited: AuditData
    metrics: dict[str, Any] = field(default_factory=dict)
    train_index: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    test_index: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))


def _safe_di(y: np.ndarray, s: np.ndarray) -> float:
    try:
        return disparate_impact(y, s)
    except ValueError:
        return math.nan


def fit_audited_model(
    data: AuditData,
    *,
    n_audit: int,
    test_size: float = 0.2,
    width: int = 256,
    n_blocks: int = 2,
    epochs: int = 3,
    batch_size: int = 2048,
    lr: float = 1e-3,
    random_state: int | np.random.Generator | None = 0,
    progress: bool | None = None,
    recompute_bn: bool = True,
) -> FitResult:
    """Split, standardise, train the audited MLP and build the audited set (Section 6).

    The rows are split by a seeded permutation: the first ``ceil(test_size * n)`` positions
    form the test split, the rest the training split.  The standardiser is fitted on the
    training split only.  The audited set is the first ``n_audit`` rows of the test split,
    with the model's decisions.

    Parameters
    ----------
    data : AuditData
        Raw features, S and the true label Y (required).
    n_audit : int
        Size of the audited set (5 000 for Adult, 20 000 for the others in the paper).
    test_size : float in (0, 1)
        Fraction of rows in the test split.
    width, n_blocks, epochs, batch_size, lr, progress, recompute_bn
        Passed to :func:`train_mlp`.
    random_state : int, numpy Generator or None
        Seeds the split and the training.

    Returns
    -------
    FitResult
    """
    if not isinstance(data, AuditData):
        raise TypeError(f"data must be an AuditData, got {type(data).__name__}")
    y = data.require_y("training the audited model")
    if not (isinstance(test_size, int | float) and 0.0 < test_size < 1.0):
        raise ModelError(f"test_size must lie strictly between 0 and 1, got {test_size!r}")
    if isinstance(n_audit, bool) or not isinstance(n_audit, int | np.integer) or n_audit < 1:
        raise ModelError(f"n_audit must be a positive integer, got {n_audit!r}")
    n = data.n
    n_test = math.ceil(test_size * n)
    if n_test >= n:
        raise DataError(f"{data.name}: test_size={test_size} leaves no training rows (n={n})")
    if n_audit > n_test:
        raise DataError(
            f"{data.name}: n_audit={n_audit} exceeds the test split ({n_test} rows = "
            f"ceil({test_size} x {n})); lower n_audit or raise test_size"
        )
    rng = random_state if isinstance(random_state, np.random.Generator) else np.random.default_rng(
        _torch_seed(random_state))
    perm = rng.permutation(n).astype(np.int64)
    test_index, train_index = perm[:n_test], perm[n_test:]

    X = data.X.to_numpy(np.float64)
    standardizer = Standardizer.fit(X[train_index])
    Z = standardizer.transform(X)
    train_seed = int(rng.integers(0, 2**63 - 1)) if isinstance(random_state, np.random.Generator) else (
        _torch_seed(random_state))
    model = train_mlp(Z[train_index], y[train_index], width=width, n_blocks=n_blocks, epochs=epochs,
                      batch_size=batch_size, lr=lr, random_state=train_seed, progress=progress,
                      recompute_bn=recompute_bn)
    y_hat_train = model.predict(Z[train_index])
    y_hat_test = model.predict(Z[test_index])
    audit_pos = test_index[:n_audit]
    y_hat_audit = y_hat_test[:n_audit]
    y_audit = y[audit_pos]
    s_audit = data.S[audit_pos]

    acc_test = float(np.mean(y_hat_test == y[test_index]))
    acc_audit = float(np.mean(y_hat_audit == y_audit))
    metrics: dict[str, Any] = {
        "n_train": int(train_index.size),
        "n_test": int(test_index.size),
        "n_audit": int(n_audit),
        "threshold": model.threshold,
        "accuracy_train": float(np.mean(y_hat_train == y[train_index])),
        "accuracy_test": acc_test,
        "accuracy_audit": acc_audit,
        "positive_rate_train_labels": float(y[train_index].mean()),
        "positive_rate_train_decisions": float(y_hat_train.mean()),
        "positive_rate_test_labels": float(y[test_index].mean()),
        "positive_rate_test_decisions": float(y_hat_test.mean()),
        "positive_rate_audit_labels": float(y_audit.mean()),
        "positive_rate_audit_decisions": float(y_hat_audit.mean()),
        "di_labels_audit": _safe_di(y_audit, s_audit),
        "di_decisions_audit": _safe_di(y_hat_audit, s_audit),
    }
    for what, values in (("labels", y_audit), ("decisions", y_hat_audit)):
        try:
            p0, p1 = positive_rates(values, s_audit)
        except ValueError:
            p0 = p1 = math.nan
        metrics[f"positive_rate_audit_{what}_s0"] = p0
        metrics[f"positive_rate_audit_{what}_s1"] = p1

    categorical = [f.name for f in data.features if f.kind == "categorical"]
    frame = pd.DataFrame(Z[audit_pos], columns=data.columns)
    meta = dict(data.meta)
    meta["model"] = {
        "threshold": model.threshold,
        "accuracy": acc_audit,
        "accuracy_test": acc_test,
        "standardized": True,
        "n_train": int(train_index.size),
        "width": model.net.width,
        "n_blocks": model.net.n_blocks,
        "epochs": int(epochs),
    }
    audited = AuditData.from_arrays(data.name, frame, s_audit, y_audit, y_hat_audit,
                                    categorical=categorical, meta=meta)
    return FitResult(model, standardizer, audited, metrics, train_index, test_index)


# ---------------------------------------------------------------------------- storage
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
    from safetensors.torch import save as st_save

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


def load_model(directory: str | os.PathLike) -> tuple[AuditedModel, Standardizer | None, dict[str, Any]]:
    """Read what :func:`save_model` wrote (safetensors + JSON; no pickle).

    Returns
    -------
    model : AuditedModel
    standardizer : Standardizer or None
    info : dict
        The content of ``model.json``.
    """
    from safetensors.torch import load as st_load

    directory = Path(directory)
    weights, meta_path = directory / "model.safetensors", directory / "model.json"
    for p in (weights, meta_path):
        if not p.is_file():
            raise ModelError(f"model file not found: {p}")
    try:
        info = json.loads(meta_path.read_text())
    except json.JSONDecodeError as exc:
        raise ModelError(f"{meta_path}: not valid JSON ({exc})") from exc
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
