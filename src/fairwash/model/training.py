"""Training the audited MLP: schedule-free AdamW on the MSE, the threshold, the audited set.

The MLP (:mod:`fairwash.model.network`) is trained with the mean squared error between
the sigmoid output and the 0/1 label, by ``schedulefree.AdamWScheduleFree`` (lr 1e-3,
batch 2 048).  The decision threshold is the ``1 - mean(y_train)`` quantile of the
predicted training probabilities, so that the predicted positive rate equals the training
positive rate (Appendix 0.D).

Departures from the authors' code (see ``/work/shared/PROTOCOL.md``):

* every random choice is seeded (split, initialisation, shuffling), with local generators;
* the standardiser is fitted on the training split only (the code fits it before the split);
* after training, the BatchNorm running statistics are recomputed at the schedule-free
  evaluation point ``x`` (schedulefree's README, "Caveats"): during training the forward
  passes run at the interpolated point ``y``, so the running statistics cached there do not
  match the weights used at inference.  ``recompute_bn=False`` keeps the code's behaviour.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from fairwash.data.base import AuditData, DataError
from fairwash.fairness import disparate_impact, positive_rates
from fairwash.model.network import MLP, AuditedModel, ModelError, Standardizer, as_2d_float
from fairwash.progress import show_progress

__all__ = ["train_mlp", "FitResult", "fit_audited_model"]


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
    Z = as_2d_float(Z_train, "Z_train")
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
    epochs: int = 1,
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
        from tqdm.auto import tqdm  # tqdm only when a progress bar is shown: import cost

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
    epochs: int = 1,
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
    y, n_test = _check_fit_args(data, n_audit, test_size)
    rng = random_state if isinstance(random_state, np.random.Generator) else np.random.default_rng(
        _torch_seed(random_state))
    perm = rng.permutation(data.n).astype(np.int64)
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
    metrics = _fit_metrics(model, y, data.S, train_index, test_index, y_hat_train, y_hat_test, int(n_audit))
    audited = _audited_set(data, model, Z, y, audit_pos, y_hat_test[:n_audit], metrics, int(epochs))
    return FitResult(model, standardizer, audited, metrics, train_index, test_index)


def _check_fit_args(data: AuditData, n_audit: int, test_size: float) -> tuple[np.ndarray, int]:
    """Validate :func:`fit_audited_model`'s inputs; returns the labels Y and the test split size."""
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
    return y, n_test


def _fit_metrics(
    model: AuditedModel,
    y: np.ndarray,
    s: np.ndarray,
    train_index: np.ndarray,
    test_index: np.ndarray,
    y_hat_train: np.ndarray,
    y_hat_test: np.ndarray,
    n_audit: int,
) -> dict[str, Any]:
    """Accuracies, positive rates and DI on the splits and the audited set (the first
    ``n_audit`` test rows)."""
    audit_pos = test_index[:n_audit]
    y_hat_audit = y_hat_test[:n_audit]
    y_audit = y[audit_pos]
    s_audit = s[audit_pos]
    metrics: dict[str, Any] = {
        "n_train": int(train_index.size),
        "n_test": int(test_index.size),
        "n_audit": int(n_audit),
        "threshold": model.threshold,
        "accuracy_train": float(np.mean(y_hat_train == y[train_index])),
        "accuracy_test": float(np.mean(y_hat_test == y[test_index])),
        "accuracy_audit": float(np.mean(y_hat_audit == y_audit)),
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
    return metrics


def _audited_set(
    data: AuditData,
    model: AuditedModel,
    Z: np.ndarray,
    y: np.ndarray,
    audit_pos: np.ndarray,
    y_hat_audit: np.ndarray,
    metrics: dict[str, Any],
    epochs: int,
) -> AuditData:
    """The audited set: standardised rows ``audit_pos`` of ``Z``, their S, Y and decisions,
    and the model's description in ``meta["model"]``."""
    categorical = [f.name for f in data.features if f.kind == "categorical"]
    frame = pd.DataFrame(Z[audit_pos], columns=data.columns)
    meta = dict(data.meta)
    meta["model"] = {
        "threshold": model.threshold,
        "accuracy": metrics["accuracy_audit"],
        "accuracy_test": metrics["accuracy_test"],
        "standardized": True,
        "n_train": metrics["n_train"],
        "width": model.net.width,
        "n_blocks": model.net.n_blocks,
        "epochs": int(epochs),
    }
    return AuditData.from_arrays(data.name, frame, data.S[audit_pos], y[audit_pos], y_hat_audit,
                                 categorical=categorical, meta=meta)

