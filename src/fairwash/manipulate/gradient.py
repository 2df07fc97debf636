"""Wasserstein-gradient fairwashing: Grad_b, Grad_p and their 1D-transport variants.

Theorem 5.2 characterises the Wasserstein-closest distribution meeting a DI constraint
as a push-forward of ``P_n`` by ``z -> argmin_y ||z - y||^2 - λ f(y)`` (eq. 9-10).  As the
paper (Appendix 0.K.3, Alg. 3) and the authors' code do, the minimisation is carried out
by gradient descent through the audited network, with the Lagrange weight ``C`` raised
progressively until enough decisions flip:

.. math::

    z \\leftarrow z - \\mathrm{lr}\\,\\big(2 (z - z_0) + C\\, \\nabla_z(-\\mathrm{dir}\\cdot f(z))\\big)

with ``f(z) = logit(z) - logit(threshold)`` the margin to the decision boundary and
``dir = +1`` for the (S=0, ŷ=0) individuals pushed to ŷ=1, ``dir = -1`` for the
(S=1, ŷ=1) individuals pushed to ŷ=0.  How many of each must flip comes from
:func:`fairwash.manipulate.targets.target_rates` (balanced or proportional split).

The model is anything with a torch module ``net`` mapping float32 ``(n, d)`` to logits
``(n,)`` and a probability ``threshold`` (decision ``sigmoid(logit) > threshold``), e.g.
:class:`fairwash.model.AuditedModel`.  Decisions of the returned points are recomputed
by the model (its ``predict`` when it has one).  See ``docs/methods_grad_sbs.md``.
"""

from __future__ import annotations

import math
from typing import Any, Literal, Protocol

import numpy as np
import torch

from fairwash.catalogue import COMPLIANCE_THRESHOLD
from fairwash.data.base import AuditData
from fairwash.fairness import disparate_impact, positive_rates
from fairwash.manipulate.base import Manipulation
from fairwash.manipulate.targets import target_rates
from fairwash.progress import show_progress

__all__ = ["grad", "flips_needed", "GradModel"]

#: A point counts as flipped only once it is this far (in logit units) past the decision
#: boundary, so that float32 noise between batch shapes cannot undo the flip when the
#: decision is recomputed on the whole returned data set.
FLIP_MARGIN = 1e-4
_BATCH = 65_536


class GradModel(Protocol):
    """What :func:`grad` needs from the audited model."""

    net: torch.nn.Module
    threshold: float


def flips_needed(y_hat: np.ndarray, s: np.ndarray, target: float, variant: str) -> tuple[int, int]:
    """Decisions to flip in each group to reach DI >= ``target`` (PROTOCOL, "The attacks").

    Parameters
    ----------
    y_hat, s : ndarray of {0, 1}, shape (n,)
    target : float
    variant : {"balanced", "proportional"}

    Returns
    -------
    (k0, k1) : tuple of int
        ``k0`` (S=0, ŷ=0) individuals to raise to ŷ=1 and ``k1`` (S=1, ŷ=1) to lower to
        ŷ=0: the real counts ``n_s |p_s' - p_s|`` of :func:`target_rates`, rounded up
        (both roundings only raise the DI, so the target is met).  ``(0, 0)`` when the DI
        already meets the target.

    Examples
    --------
    >>> import numpy as np
    >>> s = np.repeat([0, 1], 100); y = np.r_[np.repeat([1, 0], [20, 80]), np.repeat([1, 0], [50, 50])]
    >>> flips_needed(y, s, 0.8, "balanced")
    (12, 12)
    """
    s = np.asarray(s)
    y_hat = np.asarray(y_hat)
    n0, n1 = int((s == 0).sum()), int((s == 1).sum())
    p0, p1 = positive_rates(y_hat, s)
    if p1 > 0 and p0 / p1 >= target:
        return 0, 0
    q0, q1 = target_rates(p0, p1, n0, n1, target, variant)  # type: ignore[arg-type]
    k0 = max(0, math.ceil(n0 * (q0 - p0) - 1e-9))
    k1 = max(0, math.ceil(n1 * (p1 - q1) - 1e-9))
    return k0, k1


# ---------------------------------------------------------------------------- model helpers
def _net_dtype(net: torch.nn.Module) -> torch.dtype:
    for p in net.parameters():
        return p.dtype
    return torch.float32


def _logits(net: torch.nn.Module, z: torch.Tensor) -> torch.Tensor:
    out = net(z)
    if out.ndim == 2 and out.shape[1] == 1:
        out = out[:, 0]
    if out.shape != (z.shape[0],):
        raise ValueError(f"model.net must map (n, d) to logits (n,); got output shape {tuple(out.shape)}")
    return out


def _decide(model: Any, X: np.ndarray, dtype: torch.dtype) -> np.ndarray:
    """The model's decisions on ``X``: its ``predict`` if it has one, else sigmoid > threshold
    (the sigmoid taken in the network's dtype, compared in float64, as AuditedModel does)."""
    if callable(getattr(model, "predict", None)):
        return np.asarray(model.predict(X)).astype(np.int8)
    out = np.empty(X.shape[0], dtype=np.float64)
    with torch.no_grad():
        for a in range(0, X.shape[0], _BATCH):
            z = torch.from_numpy(np.ascontiguousarray(X[a:a + _BATCH])).to(dtype)
            out[a:a + _BATCH] = torch.sigmoid(_logits(model.net, z)).double().numpy()
    return (out > float(model.threshold)).astype(np.int8)


def _logit_threshold(t: float) -> float:
    if not 0.0 < t < 1.0:
        raise ValueError(f"model.threshold must lie strictly in (0, 1) for a gradient attack, got {t}")
    return math.log(t) - math.log1p(-t)


# ---------------------------------------------------------------------------- 1D transport
class _Grid:
    """Sorted unique values of each column, for the 1D-transport snap.

    ``values32`` is (d, L) padded with +inf (so torch.searchsorted works row-wise);
    ``values64`` holds the exact float64 values for the output.
    """

    def __init__(self, X: np.ndarray, dtype: torch.dtype) -> None:
        cols = [np.unique(X[:, j]) for j in range(X.shape[1])]
        L = max(len(c) for c in cols)
        v64 = np.full((X.shape[1], L), np.inf)
        for j, c in enumerate(cols):  # loop over features, not individuals
            v64[j, : len(c)] = c
        self.values64 = v64
        self.values = torch.from_numpy(v64).to(dtype).contiguous()
        self.lengths = torch.tensor([len(c) for c in cols], dtype=torch.int64)

    def snap(self, z: torch.Tensor) -> torch.Tensor:
        """Index (k, d) of the nearest observed value of each coordinate (ties to the lower)."""
        zt = z.detach().T.contiguous()
        right = torch.searchsorted(self.values, zt)
        last = (self.lengths - 1)[:, None]
        right = torch.minimum(right, last)
        left = torch.clamp(right - 1, min=0)
        vl = torch.gather(self.values, 1, left)
        vr = torch.gather(self.values, 1, right)
        idx = torch.where((zt - vl).abs() <= (vr - zt).abs(), left, right)
        return idx.T

    def values_at(self, idx: torch.Tensor) -> torch.Tensor:
        return torch.gather(self.values, 1, idx.T.contiguous()).T

    def values64_at(self, idx: np.ndarray) -> np.ndarray:
        return np.take_along_axis(self.values64, idx.T, axis=1).T


# ---------------------------------------------------------------------------- the attack
def grad(
    data: AuditData,
    model: Any,
    target: float = COMPLIANCE_THRESHOLD,
    variant: Literal["balanced", "proportional"] = "balanced",
    *,
    snap: bool = False,
    lr: float = 0.1,
    C0: float = 0.01,
    growth: float = 1.2,
    min_progress: float = 0.005,
    max_outer: int = 300,
    inner_steps: int = 20,
    strict: bool = True,
    random_state: Any = None,
    progress: bool | None = None,
) -> Manipulation:
    r"""Grad_b / Grad_p (and ``_1D``): move the fewest individuals across the boundary (eq. 10).

    .. math::

        z \leftarrow z - \mathrm{lr}\,\big(2 (z - z_0) + C\,\nabla_z(-\mathrm{dir}\cdot f(z))\big),
        \qquad f(z) = \mathrm{logit}(z) - \mathrm{logit}(\text{threshold})

    Candidates are the (S=0, ŷ=0) individuals (``dir = +1``) and the (S=1, ŷ=1)
    individuals (``dir = -1``); all of them move at once, one batched forward/backward
    per step.  A candidate stops as soon as it has flipped.  Every ``inner_steps`` steps
    (one *outer iteration*) each unfinished group checks its progress, the number of new
    flips divided by the number it needs; below ``min_progress``, its ``C`` is multiplied
    by ``growth`` and all its candidates restart from ``z_0`` (so one ``C`` per group, the
    Lagrange multiplier of Theorem 5.2).  A group stops the step its flip count reaches
    its need; of the points flipped then, the ones with the smallest displacement
    ``||z - z_0||`` are kept (exactly the need), all others go back to ``z_0``
    bit-identical.  S is unchanged; ŷ of every returned row is recomputed by the model.

    Parameters
    ----------
    data : AuditData
        Audited set, with decisions ``Y_hat`` and features as the model sees them
        (standardised).
    model : object with ``net`` (torch module, (n, d) -> logits (n,)) and ``threshold``
        E.g. :class:`fairwash.model.AuditedModel`.  Its ``predict``, if any, gives the
        returned decisions.  ``net`` is put in eval mode during the call and restored.
    target : float, default 0.8
        Target DI ``t``.
    variant : {"balanced", "proportional"}
        Split of the DI change between the groups (:func:`target_rates`); the name is
        ``"Grad_b"`` / ``"Grad_p"``.
    snap : bool, default False
        1D transport: after each step, every coordinate snaps to the nearest value
        observed in its column of ``data.X`` (names ``"Grad_b_1D"`` / ``"Grad_p_1D"``).
    lr, C0, growth, min_progress : float
        Step size, initial constraint weight (code: 0.01 Adult, 0.3 ACS, 4 BAF), its
        growth factor and the progress threshold per outer iteration.
    max_outer, inner_steps : int
        Number of outer iterations allowed and gradient steps per outer iteration.
    strict : bool, default True
        Raise :class:`RuntimeError` when ``max_outer`` is exhausted before both groups
        have their flips; with False, return what was reached (``info["reached"]``).
    random_state : int, Generator or None
        Accepted for a uniform signature; the method is deterministic.
    progress : bool or None
        Show a tqdm bar over outer iterations (default: when stderr is a terminal).

    Returns
    -------
    Manipulation
        ``n`` rows, uniform weights, ``origin = arange(n)``; moved rows replaced.
        ``info``: ``needed`` and ``moved`` per group, ``C`` per group, ``outer_iterations``,
        ``steps``, ``mean_displacement`` (Euclidean, over moved rows), ``surplus`` (per group:
        flips discarded at the last step, largest kept and smallest discarded displacement,
        measured in the network's dtype), ``di_before``,
        ``di_after``, ``reached``, ``yhat_mismatch`` (rows where ``data.Y_hat`` differs from
        the model's own decision; the model's are used).
    """
    y_data = data.require_y_hat()
    net = _check_grad_args(model, variant, lr=lr, C0=C0, growth=growth, min_progress=min_progress,
                           max_outer=max_outer, inner_steps=inner_steps)
    method = "Grad_" + variant[0] + ("_1D" if snap else "")

    X = data.X.to_numpy(np.float64)
    S = np.asarray(data.S, dtype=np.int8)
    n = X.shape[0]
    was_training = net.training
    net.eval()
    try:
        dtype = _net_dtype(net)
        y0 = _decide(model, X, dtype)
        di_before = disparate_impact(y0, S)
        need = flips_needed(y0, S, target, variant)
        lt = _logit_threshold(float(model.threshold))
        moved_rows, z_rows, state = _descend(
            net, X, S, y0, need, lt, dtype, snap=snap, lr=lr, C0=C0, growth=growth,
            min_progress=min_progress, max_outer=int(max_outer), inner_steps=int(inner_steps),
            progress=show_progress(progress), method=method,
        )
        X_new = X.copy()
        X_new[moved_rows] = z_rows
        y_new = _decide(model, X_new, dtype)
    finally:
        net.train(was_training)

    di_after = disparate_impact(y_new, S)
    reached = _check_outcome(method, target, strict, moved_rows, y0, y_new, di_after, need, state)
    disp = np.linalg.norm(X_new[moved_rows] - X[moved_rows], axis=1)
    info = {
        "variant": variant,
        "snap": bool(snap),
        "needed": [int(need[0]), int(need[1])],
        "moved": state["moved"],
        "surplus": state["surplus"],
        "C": state["C"],
        "outer_iterations": state["outer_iterations"],
        "steps": state["steps"],
        "mean_displacement": float(disp.mean()) if disp.size else 0.0,
        "di_before": float(di_before),
        "di_after": float(di_after),
        "reached": reached,
        "yhat_mismatch": int((y0 != np.asarray(y_data)).sum()),
    }
    return Manipulation(
        method=method, target=float(target), X=X_new, S=S, Y_hat=y_new,
        weights=np.full(n, 1.0 / n), origin=np.arange(n, dtype=np.int64), trajectory=None, info=info,
    )


def _check_grad_args(
    model: Any,
    variant: str,
    *,
    lr: float,
    C0: float,
    growth: float,
    min_progress: float,
    max_outer: int,
    inner_steps: int,
) -> torch.nn.Module:
    """Validate :func:`grad`'s settings and model; returns ``model.net``."""
    for name, value in (("lr", lr), ("C0", C0), ("growth", growth)):
        if not (isinstance(value, int | float) and value > 0 and math.isfinite(value)):
            raise ValueError(f"grad: {name} must be a positive finite number, got {value!r}")
    if growth <= 1:
        raise ValueError(f"grad: growth must exceed 1, got {growth}")
    if min_progress < 0:
        raise ValueError(f"grad: min_progress must be >= 0, got {min_progress}")
    if int(max_outer) < 1 or int(inner_steps) < 1:
        raise ValueError(f"grad: max_outer and inner_steps must be >= 1, got {max_outer}, {inner_steps}")
    if variant not in ("balanced", "proportional"):
        raise ValueError(f"grad: variant must be 'balanced' or 'proportional', got {variant!r}")
    net = getattr(model, "net", None)
    if not isinstance(net, torch.nn.Module) or not hasattr(model, "threshold"):
        raise TypeError("grad: model must have a torch module `net` and a probability `threshold`")
    return net


def _check_outcome(
    method: str,
    target: float,
    strict: bool,
    moved_rows: np.ndarray,
    y0: np.ndarray,
    y_new: np.ndarray,
    di_after: float,
    need: tuple[int, int],
    state: dict[str, Any],
) -> bool:
    """Whether the target is reached; raises if a moved row did not flip, or (``strict``)
    if the target is missed."""
    bad = moved_rows[y_new[moved_rows] == y0[moved_rows]]
    if bad.size:
        raise RuntimeError(f"{method}: {bad.size} moved rows (e.g. {bad[:5].tolist()}) did not flip "
                           "when recomputed by the model")
    reached = bool(di_after >= target - 1e-12)
    if strict and not reached:
        raise RuntimeError(
            f"{method}: DI {di_after:.4f} < target {target} after {state['outer_iterations']} outer "
            f"iterations (C = {state['C']}); flipped {state['moved']} of {list(need)} needed. "
            "Raise max_outer or C0, or pass strict=False."
        )
    return reached


class _Descent:
    """The state of the vectorised descent: candidates, their groups, positions and flips.

    ``z`` / ``zi`` (snapped indices) / ``flipped`` / ``C`` are modified in place.
    """

    def __init__(self, X: np.ndarray, S: np.ndarray, y0: np.ndarray, need: tuple[int, int],
                 dtype: torch.dtype, C0: float, snap: bool) -> None:
        groups = [np.flatnonzero((S == 0) & (y0 == 0)), np.flatnonzero((S == 1) & (y0 == 1))]
        self.rows = np.concatenate(groups)
        self.grp = torch.from_numpy(np.repeat([0, 1], [len(g) for g in groups]))
        self.dtype = dtype
        self.dirs = torch.where(self.grp == 0, 1.0, -1.0).to(dtype)
        self.need_t = torch.tensor(need, dtype=torch.int64)
        self.done = self.need_t == 0
        self.C = torch.full((2,), float(C0), dtype=torch.float64)

        self.z0 = torch.from_numpy(X[self.rows]).to(dtype)
        self.z = self.z0.clone()
        self.grid = _Grid(X, dtype) if snap else None
        self.zi = self.grid.snap(self.z0) if self.grid is not None else None  # indices of the snapped values
        self.flipped = torch.zeros(len(self.rows), dtype=torch.bool)
        self.steps = 0
        self.outer = 0

    def counts(self) -> torch.Tensor:
        """Flipped candidates per group."""
        return torch.bincount(self.grp[self.flipped], minlength=2)

    def inner_iteration(self, net: torch.nn.Module, lt: float, lr: float, inner_steps: int) -> None:
        """Up to ``inner_steps`` batched gradient steps of the unflipped candidates."""
        grp, z0, grid = self.grp, self.z0, self.grid
        for _ in range(inner_steps):
            active = torch.nonzero(~self.flipped & ~self.done[grp]).squeeze(1)
            if active.numel() == 0:
                break
            za = self.z[active].requires_grad_(True)
            margin = self.dirs[active] * (_logits(net, za) - lt)
            (g,) = torch.autograd.grad(margin.sum(), za)
            new = margin.detach() > FLIP_MARGIN
            self.flipped[active[new]] = True
            self.steps += 1
            c = self.counts()
            self.done = self.done | (c >= self.need_t)
            if bool(self.done.all()):
                break
            keep = ~new & ~self.done[grp[active]]
            act, za, g = active[keep], za.detach()[keep], g[keep]
            step = za - lr * (2.0 * (za - z0[act]) - self.C[grp[act]].to(self.dtype)[:, None] * g)
            if grid is not None:
                idx = grid.snap(step)
                self.zi[act] = idx
                step = grid.values_at(idx)
            self.z[act] = step

    def raise_stalled(self, start: torch.Tensor, c: torch.Tensor, growth: float, min_progress: float) -> None:
        """Each unfinished group whose progress since ``start`` is below ``min_progress``:
        multiply its ``C`` by ``growth`` and restart its candidates from ``z0``."""
        grp, z0 = self.grp, self.z0
        for s_ in (0, 1):
            if bool(self.done[s_]):
                continue
            gain = float(c[s_] - start[s_]) / float(self.need_t[s_])
            if gain < min_progress:
                self.C[s_] *= growth
                members = grp == s_
                self.z[members] = z0[members]
                if self.zi is not None:
                    self.zi[members] = self.grid.snap(z0[members])
                self.flipped[members] = False

    def result(self, X: np.ndarray, need: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
        """Keep, per group, the needed number of flipped points with the smallest displacement;
        returns (rows moved, their new features (float64), diagnostics)."""
        z, z0, grid = self.z, self.z0, self.grid
        disp = torch.linalg.vector_norm((z - z0).double(), dim=1)
        keep_pos = []
        moved = []
        surplus = []  # per group: (flips discarded, largest kept displacement, smallest discarded one)
        for s_ in (0, 1):
            pos = torch.nonzero(self.flipped & (self.grp == s_)).squeeze(1).numpy()
            d_pos = disp[pos].numpy()
            order = np.argsort(d_pos, kind="stable")
            chosen = pos[order[: need[s_]]]
            keep_pos.append(chosen)
            moved.append(int(len(chosen)))
            kept_d, drop_d = d_pos[order[: need[s_]]], d_pos[order[need[s_]:]]
            surplus.append([int(drop_d.size), float(kept_d.max()) if kept_d.size else 0.0,
                            float(drop_d.min()) if drop_d.size else None])
        kp = np.sort(np.concatenate(keep_pos)).astype(np.int64)
        out_rows = self.rows[kp]
        Z = grid.values64_at(self.zi[kp].numpy()) if grid is not None else z[kp].double().numpy()
        # coordinates left on their own value keep their exact original float64
        Z = np.where(z[kp].numpy() == z0[kp].numpy(), X[out_rows], Z)
        C = self.C
        state = {"moved": moved, "surplus": surplus, "C": [float(C[0]), float(C[1])],
                 "outer_iterations": self.outer, "steps": self.steps}
        return out_rows, Z, state


def _descend(
    net: torch.nn.Module,
    X: np.ndarray,
    S: np.ndarray,
    y0: np.ndarray,
    need: tuple[int, int],
    lt: float,
    dtype: torch.dtype,
    *,
    snap: bool,
    lr: float,
    C0: float,
    growth: float,
    min_progress: float,
    max_outer: int,
    inner_steps: int,
    progress: bool,
    method: str,
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """The vectorised descent; returns (rows moved, their new features (float64), diagnostics)."""
    state = _Descent(X, S, y0, need, dtype, C0, snap)
    bar = None
    if progress:
        from tqdm.auto import tqdm  # only when a bar is shown

        bar = tqdm(total=max_outer, desc=method, leave=False)
    try:
        while not bool(state.done.all()) and state.outer < max_outer:
            start = state.counts()
            state.inner_iteration(net, lt, lr, inner_steps)
            state.outer += 1
            c = state.counts()
            state.raise_stalled(start, c, growth, min_progress)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(C0=f"{float(state.C[0]):.3g}", C1=f"{float(state.C[1]):.3g}",
                                flips=f"{c.tolist()}/{list(need)}")
    finally:
        if bar is not None:
            bar.close()
    return state.result(X, need)
