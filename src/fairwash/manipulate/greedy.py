r"""Shared machinery of the greedy attacks (Replace, Matching): the loop, trajectories, prefixes.

The greedy attacks of Section 5.2.2 (Alg. 1 / Alg. 2) work on *cells*: every individual
belongs to one cell (for Disparate Impact the four bins ``(s, ŷ)``), and a fairness metric
is a function of the cell counts only.  A *move type* sends one individual from a source
cell to a destination cell.  At each evaluation the loop looks, for every move type, at
its cheapest unused source individual, scores the move by

.. math::
    \frac{\operatorname{sign}\,(M(c + e_{b} - e_{a}) - M(c))}{\mathrm{cost}}

(eq. 11; ``M`` the metric, ``c`` the counts, ``sign = +1`` for a metric to raise such as
DI, ``-1`` for a gap to shrink, eq. 12), applies the best one ``speed`` times, and stops
as soon as the target is met.  Each individual moves at most once ("retire that source").

Because the decisions never depend on the target (only the stopping point does), the
trajectory that reaches ``t`` contains the run for every ``t' <= t`` as a prefix:
:func:`apply_prefix` turns it into the manipulation for ``t'`` with no rerun.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from fairwash.data.base import AuditData
from fairwash.manipulate.base import TRAJECTORY_COLUMNS, Manipulation

__all__ = [
    "MoveType",
    "MoveQueue",
    "GreedyMetric",
    "run_greedy",
    "replay",
    "build_manipulation",
    "apply_prefix",
    "identity_manipulation",
    "di_from_counts",
    "DI_MOVES",
    "TOL",
]

#: Tolerance on the stopping rule (floating-point ratios of integers).
TOL = 1e-12

Direction = Literal["max", "min"]


@dataclass(frozen=True)
class MoveType:
    """One admissible move: an individual leaves cell ``source`` for cell ``dest``.

    ``name`` is written ``"s,ŷ->s',ŷ'"`` (e.g. ``"0,0->0,1"``: an S=0 negative becomes
    positive), as in :data:`fairwash.manipulate.base.TRAJECTORY_COLUMNS`.
    """

    name: str
    source: int
    dest: int


#: The four Disparate-Impact moves of Fig. 2, cells indexed ``2 s + ŷ``.
#: (The paper and the authors' code write bins ``(ŷ, s)``, e.g. ``Y0S0 -> Y1S0``;
#: here they are written ``(s, ŷ)``.)
DI_MOVES: tuple[MoveType, ...] = (
    MoveType("0,0->0,1", 0, 1),  # S=0 negative gets ŷ = 1        (paper: Y0S0 -> Y1S0)
    MoveType("0,0->1,0", 0, 2),  # S=0 negative gets s = 1        (paper: Y0S0 -> Y0S1, dotted arrow)
    MoveType("1,1->0,1", 3, 1),  # S=1 positive gets s = 0        (paper: Y1S1 -> Y1S0)
    MoveType("1,1->1,0", 3, 2),  # S=1 positive gets ŷ = 0        (paper: Y1S1 -> Y0S1, Matching only)
)


@dataclass(frozen=True)
class MoveQueue:
    """Candidate sources of one move type, in the order the loop takes them.

    Parameters
    ----------
    source : ndarray of int64, shape (k,)
        Rows (positions in the audited set) that may make this move, cheapest first.
    dest : ndarray of int64, shape (k,)
        Row each source is moved onto (its nearest neighbour), or -1 when only s / ŷ
        are edited (Replace).
    cost : ndarray of float64, shape (k,)
        Cost of each candidate move, non-decreasing, all > 0.
    """

    source: np.ndarray
    dest: np.ndarray
    cost: np.ndarray


@dataclass(frozen=True)
class GreedyMetric:
    """A fairness metric computed from cell counts.

    Parameters
    ----------
    name : str
        ``"di"``, ``"sp"``, ``"eo"``...
    value : callable
        ``value(counts) -> float``; ``nan`` when undefined (an empty group, no positive in
        S=1 for DI): a move leading there is not admissible.
    direction : {"max", "min"}
        ``"max"``: the target is ``value >= t`` (DI); ``"min"``: ``value <= t`` (a gap).
    """

    name: str
    value: Callable[[np.ndarray], float]
    direction: Direction

    @property
    def sign(self) -> int:
        return 1 if self.direction == "max" else -1

    def meets(self, value: float, target: float) -> bool:
        """Whether ``value`` satisfies the target (with tolerance :data:`TOL`)."""
        return bool(np.isfinite(value) and self.sign * (value - target) >= -TOL)


def di_from_counts(counts: np.ndarray) -> float:
    """Unbounded DI from the four cell counts ``c[2 s + ŷ]``; ``nan`` when undefined."""
    c00, c01, c10, c11 = (float(v) for v in counts[:4])
    n0, n1 = c00 + c01, c10 + c11
    if n0 <= 0 or n1 <= 0 or c11 <= 0:
        return float("nan")
    return (c01 / n0) / (c11 / n1)


def run_greedy(
    cells: np.ndarray,
    n_cells: int,
    moves: Sequence[MoveType],
    queues: Sequence[MoveQueue],
    metric: GreedyMetric,
    target: float,
    *,
    speed: int = 1,
    method: str = "greedy",
) -> pd.DataFrame:
    """The greedy loop of Alg. 1 / Alg. 2 with the score of eq. 11; returns the trajectory.

    Parameters
    ----------
    cells : ndarray of int, shape (n,)
        Cell of each individual.
    n_cells : int
    moves, queues : sequences of equal length
        The admissible move types and, for each, its candidate sources cheapest first.
    metric : GreedyMetric
    target : float
    speed : int, default 1
        Moves applied per evaluation (Alg. 2): the best move type is applied to its next
        ``speed`` cheapest unused sources without re-scoring; the block still stops as
        soon as the target is met, so a run's moves never depend on the target.
    method : str
        Name used in error messages.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TRAJECTORY_COLUMNS`; ``step`` counts moves from 1, ``di`` holds the
        metric value after the move.

    Raises
    ------
    ValueError
        When no admissible move improves the metric before the target is met.

    Notes
    -----
    Each evaluation costs O(number of move types); pointers skip retired sources, so the
    whole run is O(n + moves) after the queues are built.
    """
    if int(speed) != speed or speed < 1:
        raise ValueError(f"{method}: speed must be a positive integer, got {speed!r}")
    if len(moves) != len(queues):
        raise ValueError(f"{method}: {len(moves)} move types but {len(queues)} queues")
    counts = np.bincount(cells, minlength=n_cells).astype(np.int64)
    cur = metric.value(counts)
    if not np.isfinite(cur):
        raise ValueError(f"{method}: the {metric.name} of the audited set is undefined (counts {counts})")
    heads = _Heads(queues, len(cells))
    rows: list[tuple[int, int, int, float, float]] = []  # (source, dest, move index, cost, value)
    while not metric.meets(cur, target):
        best = _best_move(counts, cur, moves, queues, metric, heads)
        if best < 0:
            empty = [mv.name for m, mv in enumerate(moves) if heads.head(m) >= len(queues[m].source)]
            raise ValueError(
                f"{method}: target {metric.name} {target} is unreachable: stuck at {cur:.6g} after "
                f"{len(rows)} moves, no admissible move improves it (move types without a candidate "
                f"source or destination: {empty or 'none'}; cell counts {counts.tolist()})"
            )
        cur = _apply_block(counts, cur, best, moves[best], queues[best], metric, target, int(speed), heads,
                           rows)
    return _trajectory_frame(rows, moves)


class _Heads:
    """Pointers to the cheapest unused candidate of each move type (retired sources skipped)."""

    def __init__(self, queues: Sequence[MoveQueue], n: int) -> None:
        self.queues = queues
        self.used = np.zeros(n, dtype=bool)
        self.ptr = [0] * len(queues)

    def head(self, m: int) -> int:
        """Position of the cheapest unused candidate of move type m (len if none)."""
        src, p = self.queues[m].source, self.ptr[m]
        while p < len(src) and self.used[src[p]]:
            p += 1
        self.ptr[m] = p
        return p


def _best_move(
    counts: np.ndarray,
    cur: float,
    moves: Sequence[MoveType],
    queues: Sequence[MoveQueue],
    metric: GreedyMetric,
    heads: _Heads,
) -> int:
    """Index of the move type with the best positive score (eq. 11) at ``counts``; -1 if none.

    ``counts`` is restored after each trial move.
    """
    sign = metric.sign
    best, best_score = -1, 0.0
    for m, mv in enumerate(moves):
        p = heads.head(m)
        if p >= len(queues[m].source):
            continue
        counts[mv.source] -= 1
        counts[mv.dest] += 1
        v = metric.value(counts)
        counts[mv.source] += 1
        counts[mv.dest] -= 1
        if not np.isfinite(v):
            continue
        score = sign * (v - cur) / queues[m].cost[p]
        if score > best_score:
            best, best_score = m, score
    return best


def _apply_block(
    counts: np.ndarray,
    cur: float,
    best: int,
    mv: MoveType,
    q: MoveQueue,
    metric: GreedyMetric,
    target: float,
    speed: int,
    heads: _Heads,
    rows: list[tuple[int, int, int, float, float]],
) -> float:
    """Apply move type ``best`` to its next ``speed`` unused sources, stopping early when a move
    no longer improves the metric or the target is met; appends to ``rows`` and returns the
    new metric value."""
    sign = metric.sign
    for _ in range(speed):
        p = heads.head(best)
        if p >= len(q.source):
            break
        counts[mv.source] -= 1
        counts[mv.dest] += 1
        v = metric.value(counts)
        if not np.isfinite(v) or sign * (v - cur) <= 0:
            counts[mv.source] += 1
            counts[mv.dest] -= 1
            break
        heads.used[q.source[p]] = True
        cur = v
        rows.append((int(q.source[p]), int(q.dest[p]), best, float(q.cost[p]), float(v)))
        if metric.meets(cur, target):
            break
    return cur


def _trajectory_frame(
    rows: list[tuple[int, int, int, float, float]], moves: Sequence[MoveType]
) -> pd.DataFrame:
    k = len(rows)
    arr = np.array(rows, dtype=np.float64).reshape(k, 5)
    names = np.array([mv.name for mv in moves], dtype=object)
    return pd.DataFrame(
        {
            "step": np.arange(1, k + 1, dtype=np.int64),
            "source": arr[:, 0].astype(np.int64),
            "dest": arr[:, 1].astype(np.int64),
            "move": names[arr[:, 2].astype(np.int64)] if k else np.array([], dtype=object),
            "cost": arr[:, 3],
            "di": arr[:, 4],
        },
        columns=list(TRAJECTORY_COLUMNS),
    )


def _parse_move(name: str) -> tuple[int, int]:
    """Destination ``(s', ŷ')`` of a move named ``"s,ŷ->s',ŷ'"`` (an optional ``"y=..: "`` prefix)."""
    try:
        dest = name.split(":")[-1].split("->")[1]
        s, y = (int(v) for v in dest.split(","))
    except (IndexError, ValueError) as exc:
        raise ValueError(f"trajectory move {name!r} is not of the form 's,ŷ->s',ŷ''") from exc
    if s not in (0, 1) or y not in (0, 1):
        raise ValueError(f"trajectory move {name!r} has a non-binary destination")
    return s, y


def replay(data: AuditData, trajectory: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Apply a trajectory's moves to the original rows of ``data``.

    A move with ``dest >= 0`` makes row ``source`` a copy of the *original* row ``dest``
    (x, s, ŷ); a move with ``dest == -1`` only sets ``(s, ŷ)`` of row ``source`` to the
    destination bin named in ``move``.  Sources are distinct, so the order is irrelevant.

    Returns
    -------
    X : ndarray, shape (n, d)
    S, Y_hat : ndarray of int8, shape (n,)
    """
    X = data.X.to_numpy(dtype=np.float64, copy=True)
    S = data.S.copy()
    Yh = np.asarray(data.Y_hat).copy()
    if len(trajectory) == 0:
        return X, S, Yh
    src = trajectory["source"].to_numpy(dtype=np.int64)
    dst = trajectory["dest"].to_numpy(dtype=np.int64)
    if len(np.unique(src)) != len(src):
        raise ValueError("trajectory moves the same individual twice")
    X0, S0, Y0 = X.copy(), S.copy(), Yh.copy()
    copy = dst >= 0
    X[src[copy]] = X0[dst[copy]]
    S[src[copy]] = S0[dst[copy]]
    Yh[src[copy]] = Y0[dst[copy]]
    if (~copy).any():
        sy = np.array([_parse_move(m) for m in trajectory["move"].to_numpy()[~copy]], dtype=np.int8)
        S[src[~copy]] = sy[:, 0]
        Yh[src[~copy]] = sy[:, 1]
    return X, S, Yh


def identity_manipulation(data: AuditData, method: str, target: float, info: dict[str, Any]) -> Manipulation:
    """``Q = P_n``: the original points with uniform weights (the target is already met)."""
    n = data.n
    return Manipulation(
        method=method,
        target=target,
        X=data.X.to_numpy(dtype=np.float64),
        S=data.S,
        Y_hat=np.asarray(data.Y_hat),
        weights=np.full(n, 1.0 / n),
        origin=np.arange(n),
        trajectory=_trajectory_frame([], ()),
        info={**info, "already_fair": True, "reached": True, "n_moves": 0, "cost": 0.0, "cost_total": 0.0},
    )


def build_manipulation(
    data: AuditData,
    method: str,
    target: float,
    trajectory: pd.DataFrame,
    info: dict[str, Any],
    metric: GreedyMetric,
) -> Manipulation:
    """The moved-points manipulation of a trajectory: uniform weights, ``origin[i] = i``.

    ``info`` gains ``n_moves``, ``cost_total`` (Σ cost), ``cost`` (Σ cost / n, as the
    paper reports it), ``moves_by_type``, ``value`` (final metric) and ``reached``.
    """
    n = data.n
    X, S, Yh = replay(data, trajectory)
    value = float(trajectory["di"].iloc[-1]) if len(trajectory) else float(info.get("value0", np.nan))
    total = float(trajectory["cost"].sum())
    extra = {
        "already_fair": False,
        "n_moves": int(len(trajectory)),
        "cost_total": total,
        "cost": total / n,
        "moves_by_type": {str(k): int(v) for k, v in trajectory["move"].value_counts().sort_index().items()},
        "value": value,
        "reached": metric.meets(value, target),
    }
    return Manipulation(
        method=method,
        target=float(target),
        X=X,
        S=S,
        Y_hat=Yh,
        weights=np.full(n, 1.0 / n),
        origin=np.arange(n),
        trajectory=trajectory.reset_index(drop=True),
        info={**info, **extra},
    )


def apply_prefix(data: AuditData, manipulation: Manipulation, target: float) -> Manipulation:
    """The manipulation for a lower target ``t' <= t``, read off a greedy trajectory.

    The state for ``t'`` is the shortest prefix of ``manipulation.trajectory`` whose metric
    value meets ``t'`` (``>= t'`` for DI, ``<= t'`` for a gap), replayed onto the original
    rows of ``data``.  Since the greedy decisions never depend on the target, this equals
    a fresh run at ``t'`` ("greedy trajectories make every lower target free").

    Parameters
    ----------
    data : AuditData
        The audited set the manipulation was built from.
    manipulation : Manipulation
        A Replace / Matching result (it has a trajectory).
    target : float
        The lower target.

    Returns
    -------
    Manipulation

    Raises
    ------
    ValueError
        If the manipulation has no trajectory, or the trajectory never meets ``target``.
    """
    traj = manipulation.trajectory
    if traj is None:
        raise ValueError(f"{manipulation.method}: no trajectory (not a greedy method)")
    if manipulation.k != data.n:
        raise ValueError(f"{manipulation.method}: built on {manipulation.k} rows, data has {data.n}")
    info = dict(manipulation.info)
    direction = info.get("direction", "max")
    metric = GreedyMetric(str(info.get("metric", "di")), di_from_counts, direction)
    value0 = float(info.get("value0", np.nan))
    base_info = {k: v for k, v in info.items() if k not in ("already_fair", "reached")}
    base_info["prefix_of"] = float(manipulation.target)
    if np.isfinite(value0) and metric.meets(value0, target):
        return identity_manipulation(data, manipulation.method, target, base_info)
    values = traj["di"].to_numpy(dtype=np.float64)
    ok = np.flatnonzero(metric.sign * (values - target) >= -TOL)
    if ok.size == 0:
        raise ValueError(
            f"{manipulation.method}: the trajectory (built for target {manipulation.target}) never "
            f"reaches {metric.name} {target}; its best value is {values.max() if len(values) else value0}"
        )
    prefix = traj.iloc[: ok[0] + 1]
    return build_manipulation(data, manipulation.method, target, prefix, base_info, metric)
