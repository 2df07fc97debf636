"""Audit samples drawn from a manipulated distribution ``Q``, and their DI.

Every random draw of the protocol has its own stream
``SeedSequence(random_state, spawn_key=key + (j,))`` (:func:`fairwash.seeding.spawn_stream`),
so the samples of one (size, level) do not depend on which other levels were visited.
A sample's DI is ``P(ŷ=1|S=0) / P(ŷ=1|S=1)`` on its rows (eq. 1), ``nan`` when undefined.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from fairwash.detect.cells import di_counts
from fairwash.manipulate import Manipulation
from fairwash.seeding import spawn_stream

__all__ = ["sample_di", "draw_samples", "level_key", "check_m"]


def level_key(level: float) -> int:
    """A DI level as an int (ten-thousandths): its seed-stream key and checkpoint name."""
    return int(round(level * 10_000))


def check_m(m: Any, k: int, what: str) -> int:
    """``m`` as an int in ``[1, k]``, else a ValueError saying ``what`` bounds it."""
    if not isinstance(m, int | np.integer) or isinstance(m, bool) or not 1 <= m <= k:
        raise ValueError(f"m must be an int in [1, {k}] ({what}), got {m!r}")
    return int(m)


def sample_di(S: np.ndarray, Y_hat: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """DI of each sample (rows of ``idx``), ``nan`` where undefined (eq. 1, unbounded).

    Parameters
    ----------
    S, Y_hat : ndarray of 0/1, shape (k,)
        Support points' group and decision.
    idx : ndarray of int, shape (n_samples, m)
        Positions of each sample's rows.

    Returns
    -------
    ndarray, shape (n_samples,)
        ``(a_0 / n_0) / (a_1 / n_1)``; ``nan`` when a group is empty or ``a_1 = 0``
        (DI = ∞ or 0/0: never a compliant sample).
    """
    idx = np.atleast_2d(np.asarray(idx))
    s = np.asarray(S)[idx].astype(bool)
    y = np.asarray(Y_hat)[idx].astype(bool)
    n1 = s.sum(axis=1)
    n0 = idx.shape[1] - n1
    a1 = (s & y).sum(axis=1)
    a0 = (~s & y).sum(axis=1)
    return di_counts(n0, a0, n1, a1)


def draw_samples(
    manipulation: Manipulation,
    m: int,
    n_samples: int,
    random_state: int | np.random.Generator,
    *,
    key: Sequence[int] = (),
) -> np.ndarray:
    """Positions of ``n_samples`` audit samples of size ``m`` drawn from ``Q``.

    Each sample is ``m`` support points drawn without replacement with ``Q``'s
    probabilities (:meth:`Manipulation.sample_indices`). With an int ``random_state``,
    sample ``j`` uses the stream ``SeedSequence(random_state, spawn_key=(*key, j))``.

    Returns
    -------
    ndarray of int64, shape (n_samples, m)
    """
    m = check_m(m, manipulation.k, f"{manipulation.method} has {manipulation.k} support points")
    if not isinstance(n_samples, int | np.integer) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive int, got {n_samples!r}")
    out = np.empty((int(n_samples), m), dtype=np.int64)
    for j in range(int(n_samples)):
        out[j] = manipulation.sample_indices(m, spawn_stream(random_state, (*key, j)))
    return out
