r"""Sequential Monte-Carlo p-values for one sample (Besag & Clifford, 1991) under eq. 3's rule.

With ``N`` honest draws and the quantile rule, the threshold of a test is the ``k``-th
smallest draw, ``k = ⌈level (N + 1)⌉`` (:func:`fairwash.detect.thresholds.quantile_rank`),
and a statistic ``t`` rejects when it exceeds it beyond rounding
(:func:`fairwash.detect.thresholds.exceeds`). Call a draw ``d`` *at least* ``t`` when
``t`` does not exceed it, and let ``h`` be the number of such draws. Because "``t``
exceeds ``d``" is monotone in ``d`` (the set of draws ``t`` exceeds is the ``j`` smallest
for some ``j``),

.. math::

    t \text{ exceeds } d_{(k)} \iff \#\{d : t \text{ exceeds } d\} \ge k
    \iff h \le N - k \iff h < r, \qquad r = N - k + 1 .

So the full-``N`` verdict is *accept* as soon as ``r`` draws at least ``t`` have been seen,
whatever the other draws are: evaluating the indexed draws ``0, 1, …`` in order and
stopping at the ``r``-th such draw gives the verdict of all ``N`` draws, identically. At
``N = 100``, level 0.95: ``k = 96``, ``r = 5``. The ``mean_std`` rule (mean + z·std) depends
on every draw; it has no such stopping point and is not offered here.

When the walk stops after ``L < N`` draws, the reported p-value is Besag and Clifford's
``h / L`` with ``h = r`` (the full-``N`` Monte-Carlo p-value ``(1 + h_N) / (N + 1)`` is then
known only to be at least ``(1 + r) / (N + 1)``); when it does not stop, the ``N`` draws are
all computed and the p-value is the full one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from fairwash.detect.thresholds import exceeds, quantile_rank

__all__ = ["stop_count", "SequentialResult", "sequential_test"]


def stop_count(n_draws: int, level: float) -> int:
    """``r = N - ⌈level (N + 1)⌉ + 1``: the draws at least the statistic that decide *accept*.

    Raises
    ------
    ValueError
        If ``n_draws`` is too small for ``level`` (the quantile rule has no threshold).
    """
    n = int(n_draws)
    k = quantile_rank(n, level)
    if not 1 <= k <= n:
        raise ValueError(f"n_draws={n} is too small for level={level}: the quantile rule needs k = {k} <= N")
    return n - k + 1


@dataclass(frozen=True)
class SequentialResult:
    """One statistic's sequential test against the indexed honest draws.

    Attributes
    ----------
    rejected : bool
        The verdict, equal to the full-``N`` quantile rule's on the same draws.
    stopped : bool
        ``True``: stopped after ``evaluated < n_draws`` draws (the verdict is *accept*).
    evaluated : int
        ``L``, the draws computed (the first ``L`` of the ``N``).
    at_least : int
        ``h``, the draws among them that the statistic does not exceed.
    n_draws, stop_at : int
        ``N`` and ``r``.
    draws : ndarray, shape (evaluated,)
        The draws computed, in index order.
    """

    rejected: bool
    stopped: bool
    evaluated: int
    at_least: int
    n_draws: int
    stop_at: int
    draws: np.ndarray

    @property
    def p_value(self) -> float:
        """Besag–Clifford ``h / L`` when stopped, else ``(1 + h) / (N + 1)`` over all ``N`` draws."""
        if self.stopped:
            return self.at_least / self.evaluated
        return (1 + self.at_least) / (self.n_draws + 1)

    @property
    def p_bound(self) -> float:
        """A lower bound of the full-``N`` p-value: ``(1 + h) / (N + 1)`` (exact when not stopped)."""
        return (1 + self.at_least) / (self.n_draws + 1)


def sequential_test(statistic: float, draw: Callable[[int], float] | Iterable[float], *, n_draws: int,
                    level: float = 0.95) -> SequentialResult:
    """Evaluate honest draws ``0, 1, …`` in order until the quantile rule's verdict is known.

    Parameters
    ----------
    statistic : float
        The submitted sample's statistic.
    draw : callable or iterable
        ``draw(i)`` gives honest draw ``i``'s statistic (its own seed stream), or an
        iterable yielding draws ``0, 1, …`` (at least ``n_draws`` of them); no draw past
        the stopping point is requested.
    n_draws : int
        ``N``, the configured number of draws.
    level : float
        The quantile rule's level (0.95).

    Returns
    -------
    SequentialResult
        ``rejected`` equals ``ReferenceThresholds.rejects`` on the full ``N`` draws.
    """
    r = stop_count(n_draws, level)
    source = (draw(i) for i in range(n_draws)) if callable(draw) else iter(draw)
    seen: list[float] = []
    h = 0
    for _ in range(n_draws):
        d = float(next(source))
        seen.append(d)
        h += int(not exceeds(float(statistic), d))
        if h >= r:
            break
    stopped = h >= r and len(seen) < n_draws
    return SequentialResult(rejected=h < r, stopped=stopped, evaluated=len(seen), at_least=h,
                            n_draws=int(n_draws), stop_at=r, draws=np.asarray(seen, dtype=np.float64))
