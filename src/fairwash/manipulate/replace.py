"""Replace: fake Disparate Impact by editing s or ŷ only (Section 5.2.2, Alg. 1 / Alg. 2).

Each individual lives in one of the four bins ``(s, ŷ)``; the attack edits the sensitive
attribute or the decision of some individuals, never their features.  With the cost
measured on ``(x, s, ŷ)`` every edit moves a point by exactly 1 (one binary coordinate
changes), so the score of eq. 11 reduces to "apply the move giving the largest DI".
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fairwash.catalogue import COMPLIANCE_THRESHOLD
from fairwash.data.base import AuditData
from fairwash.manipulate.base import Manipulation, check_random_state
from fairwash.manipulate.greedy import (
    DI_MOVES,
    GreedyMetric,
    MoveQueue,
    build_manipulation,
    di_from_counts,
    identity_manipulation,
    run_greedy,
)

__all__ = ["replace", "REPLACE_MOVES"]

#: Replace's admissible moves, bins written ``(s, ŷ)`` (the authors' code: Y0S0 -> Y1S0,
#: Y0S0 -> Y0S1, Y1S1 -> Y1S0).  Flipping ŷ of an S=1 positive is not among them.
REPLACE_MOVES = DI_MOVES[:3]


def _check_target(target: float, method: str) -> float:
    t = float(target)
    if not np.isfinite(t) or t <= 0:
        raise ValueError(f"{method}: target must be a positive finite DI, got {target!r}")
    return t


def replace(
    data: AuditData, target: float = COMPLIANCE_THRESHOLD, speed: int = 1, random_state: Any = 0
) -> Manipulation:
    r"""Replace(s, ŷ): greedy edits of s or ŷ until DI ≥ ``target`` (Section 5.2.2, Alg. 2).

    While :math:`DI < t`, the three admissible moves (bins written ``(s, ŷ)``)

    * ``0,0->0,1``: an S=0 negative gets ŷ = 1,
    * ``0,0->1,0``: an S=0 negative gets s = 1,
    * ``1,1->0,1``: an S=1 positive gets s = 0,

    are evaluated on the bin counts (O(1) each) and the one giving the largest DI is
    applied ``speed`` times; the run stops at the first move reaching the target.
    Features are untouched; each move costs 1 (the Euclidean distance it moves the
    point ``(x, s, ŷ)``).

    Parameters
    ----------
    data : AuditData
        The audited set; ``Y_hat`` is required.
    target : float, default 0.8
        Target unbounded DI ``t``.
    speed : int, default 1
        Moves applied per evaluation (Alg. 2's speed/precision trade-off).
    random_state : int, Generator or None, default 0
        Which individual of a bin is edited: a uniformly random order of each source bin,
        drawn once (all candidates have the same cost).

    Returns
    -------
    Manipulation
        Method ``"Replace"``: the edited points with uniform weights, ``origin[i] = i``,
        and the trajectory (``dest = -1``).  ``info``: ``cost`` (Σ cost / n), ``n_moves``,
        ``moves_by_type``, ``di0``, ``reached``, ``already_fair``.

    Raises
    ------
    ValueError
        If ``Y_hat`` is missing, the original DI is undefined, or the target cannot be
        reached (no admissible move raises DI any more, e.g. an empty bin).

    Examples
    --------
    >>> from fairwash.data.base import AuditData
    >>> d = AuditData.from_arrays("toy", [[0.0]] * 8, S=[0, 0, 0, 0, 1, 1, 1, 1],
    ...                           Y_hat=[1, 0, 0, 0, 1, 1, 1, 0])
    >>> q = replace(d, 0.8)
    >>> bool(q.di >= 0.8), q.X.tolist() == d.X.to_numpy().tolist()
    (True, True)
    """
    method = "Replace"
    t = _check_target(target, method)
    yh = np.asarray(data.require_y_hat(), dtype=np.int64)
    s = data.S.astype(np.int64)
    cells = 2 * s + yh
    counts = np.bincount(cells, minlength=4)
    di0 = di_from_counts(counts)
    if not np.isfinite(di0):
        raise ValueError(f"{method}: DI of {data.name!r} is undefined (bin counts (s,ŷ) {counts.tolist()})")
    info: dict[str, Any] = {
        "metric": "di",
        "direction": "max",
        "value0": di0,
        "di0": di0,
        "speed": int(speed),
    }
    metric = GreedyMetric("di", di_from_counts, "max")
    if metric.meets(di0, t):
        return identity_manipulation(data, method, t, info)
    rng = check_random_state(random_state)
    order = {c: rng.permutation(np.flatnonzero(cells == c)) for c in (0, 3)}
    queues = [
        MoveQueue(order[mv.source], np.full(len(order[mv.source]), -1), np.ones(len(order[mv.source])))
        for mv in REPLACE_MOVES
    ]
    traj = run_greedy(cells, 4, REPLACE_MOVES, queues, metric, t, speed=speed, method=method)
    return build_manipulation(data, method, t, traj, info, metric)
