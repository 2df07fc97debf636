"""The common result of every fairwashing method: a :class:`Manipulation`.

A manipulation is the distribution ``Q`` an auditee draws its audit sample from
(paper, eq. 2): weighted support points ``(x, s, ŷ)``, each tied to the original
individual it came from.  Reweighting methods (Entropic, SBS) keep the original
points and change the weights; moving methods (Grad, Replace, Matching) keep
uniform weights and change the points.  Greedy methods also return their
trajectory, so every lower target is a prefix (no rerun needed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from fairwash.fairness import disparate_impact
from fairwash.seeding import check_random_state  # re-exported: the attacks' historical import path

__all__ = ["Manipulation", "check_random_state", "TRAJECTORY_COLUMNS"]

#: Columns of a greedy trajectory, one row per applied move.
#: ``source``: position of the original individual changed; ``dest``: position of
#: the individual it was moved onto (-1 when only s / ŷ were edited, as in Replace);
#: ``move``: the bin change "s,ŷ->s',ŷ'" e.g. "0,0->0,1"; ``cost``: transport cost of
#: the move; ``di``: the DI after the move.
TRAJECTORY_COLUMNS = ("step", "source", "dest", "move", "cost", "di")


@dataclass(frozen=True)
class Manipulation:
    """A manipulated distribution ``Q`` over support points ``(x, s, ŷ)``.

    Parameters
    ----------
    method : str
        Method name as in the paper's tables, e.g. ``"Entropic_b"``, ``"Matching"``.
    target : float
        Target DI ``t`` the method aimed at.
    X : ndarray, shape (k, d)
        Features of the support points (same scale as the audited set).
    S, Y_hat : ndarray of int8, shape (k,)
        Sensitive attribute and decision of each support point.
    weights : ndarray, shape (k,)
        Probability of each support point; sums to 1.
    origin : ndarray of int64, shape (k,)
        Position, in the original audited set, of the individual each point came from.
    trajectory : pandas.DataFrame or None
        Greedy methods: the ordered moves (:data:`TRAJECTORY_COLUMNS`).
    info : dict
        Solver diagnostics (iterations, dual variables, reached flag, timing...).
    """

    method: str
    target: float
    X: np.ndarray
    S: np.ndarray
    Y_hat: np.ndarray
    weights: np.ndarray
    origin: np.ndarray
    trajectory: pd.DataFrame | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        k = len(self.weights)
        X = np.asarray(self.X, dtype=np.float64)
        if X.ndim != 2 or X.shape[0] != k:
            raise ValueError(f"{self.method}: X has shape {X.shape}, expected ({k}, d)")
        for name in ("S", "Y_hat", "origin"):
            if len(getattr(self, name)) != k:
                raise ValueError(f"{self.method}: {name} has length {len(getattr(self, name))} != {k}")
        w = np.asarray(self.weights, dtype=np.float64)
        if (w < -1e-15).any() or not np.isclose(w.sum(), 1.0, atol=1e-8):
            raise ValueError(f"{self.method}: weights must be non-negative and sum to 1 (sum={w.sum()})")
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "S", np.asarray(self.S, dtype=np.int8))
        object.__setattr__(self, "Y_hat", np.asarray(self.Y_hat, dtype=np.int8))
        object.__setattr__(self, "weights", np.clip(w, 0.0, None) / np.clip(w, 0.0, None).sum())
        object.__setattr__(self, "origin", np.asarray(self.origin, dtype=np.int64))

    @property
    def k(self) -> int:
        """Number of support points."""
        return len(self.weights)

    @property
    def di(self) -> float:
        """DI of ``Q`` itself (weighted), eq. 1."""
        return disparate_impact(self.Y_hat, self.S, self.weights)

    @property
    def reached(self) -> bool:
        """Whether ``Q`` meets the target (with a 1e-9 tolerance)."""
        return bool(self.di >= self.target - 1e-9)

    def joint(self) -> np.ndarray:
        """Support points as rows ``(x, s, ŷ)``, shape (k, d + 2)."""
        return np.column_stack([self.X, self.S, self.Y_hat]).astype(np.float64)

    def sample_indices(self, m: int, random_state: Any = None) -> np.ndarray:
        """Positions of ``m`` support points drawn from ``Q`` without replacement.

        With uniform weights this is a simple random subsample; with weights λ it
        is successive sampling proportional to λ (numpy's weighted ``choice``),
        as the authors draw Entropic samples.
        """
        rng = check_random_state(random_state)
        positive = int((self.weights > 0).sum())
        if not 0 < m <= positive:
            raise ValueError(f"{self.method}: cannot draw {m} points from {positive} with weight > 0")
        if np.allclose(self.weights, 1.0 / self.k):
            return np.sort(rng.choice(self.k, size=m, replace=False))
        return np.sort(rng.choice(self.k, size=m, replace=False, p=self.weights))

    def to_frame(self, columns: list[str] | None = None) -> pd.DataFrame:
        """Support points, weights and origin as one frame (for parquet)."""
        cols = columns or [f"x{j}" for j in range(self.X.shape[1])]
        out = pd.DataFrame(self.X, columns=cols)
        out["S"] = self.S
        out["Y_hat"] = self.Y_hat
        out["weight"] = self.weights
        out["origin"] = self.origin
        return out
