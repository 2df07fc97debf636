r"""The optimal verification protocol's statistical core: membership, then the exact DI test.

A submitted sample is **rejected** when

1. some row is absent from the full data or occurs more often than there
   (:func:`fairwash.detect.membership.membership_check`; never fails an honest sample), or
2. the exact one-sided DI test rejects: ``P_honest(DI ≥ DI_obs) <= α``
   (:func:`fairwash.detect.dilaw.di_test`).

Since step 1 never rejects an honest sample, the protocol's level is the DI test's exact
size ``P_honest(DI > q) <= α`` (:attr:`OptimalReport.level`), and the highest DI a passing
sample can show is the DI test's cap ``q`` (:func:`optimal_cap`): among cell-count tests of
level ``α`` none has a lower cap (``docs/protocol.md``, "Beyond the paper").

Rows are ``(x_1, ..., x_d, s, ŷ)`` as in :mod:`fairwash.detect.distances`: the sensitive
attribute in column ``-2``, the decision in column ``-1``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from fairwash.detect.dilaw import (
    DIInterval,
    DIQuantile,
    DITest,
    cell_counts,
    check_cells,
    di_interval,
    di_quantile,
    di_test,
)
from fairwash.detect.membership import MembershipIndex, MembershipResult, membership_check

__all__ = ["OptimalReport", "optimal_check", "optimal_cap"]


@dataclass(frozen=True)
class OptimalReport:
    """The optimal protocol's verdict on one sample, with every piece of evidence."""

    alpha: float
    membership: MembershipResult
    di: DITest
    cap: DIQuantile
    interval: DIInterval

    @property
    def passed(self) -> bool:
        return self.membership.passed and not self.di.reject

    @property
    def level(self) -> float:
        """The protocol's exact level at this ``m``: ``P_honest(DI > cap) <= alpha``."""
        return self.cap.size

    @property
    def reasons(self) -> tuple[str, ...]:
        out = []
        if not self.membership.passed:
            out.append(f"membership: {self.membership.n_absent} row(s) absent from the full data, "
                       f"{self.membership.n_excess} excess copy(ies)")
        if self.di.reject:
            out.append(f"DI test: DI = {self.di.statistic:.4g} > cap {self.cap.value:.4g} "
                       f"(p = {self.di.p_value:.3g} <= {self.alpha})")
        if not self.di.defined:
            out.append("DI undefined (a group is absent or has no positive in either group): "
                       "the sample shows no DI")
        return tuple(out)

    def to_dict(self) -> dict[str, Any]:
        return {"protocol": "optimal", "passed": self.passed, "alpha": self.alpha,
                "level": self.level, "reasons": list(self.reasons),
                "membership": self.membership.to_dict(), "di_test": self.di.to_dict(),
                "cap": self.cap.to_dict(), "interval": self.interval.to_dict()}


def _cells_of(rows: np.ndarray, name: str) -> np.ndarray:
    if rows.ndim != 2 or rows.shape[1] < 2:
        raise ValueError(f"{name} must be rows (x..., s, y_hat) of at least 2 columns, got {rows.shape}")
    try:
        return cell_counts(rows[:, -2], rows[:, -1])
    except ValueError as err:
        raise ValueError(f"{name}: columns -2 (s) and -1 (y_hat) must be 0/1 ({err})") from None


def optimal_check(full_rows: Any, sample_rows: Any, alpha: float = 0.05, *,
                  index: MembershipIndex | None = None) -> OptimalReport:
    r"""Membership and multiplicity, then the exact one-sided DI test, at level ``alpha``.

    .. math::
        \text{reject} \iff \exists r: M(r) > N(r) \ \text{ or } \
        P_{honest}(DI \ge DI_{obs}) \le \alpha.

    Parameters
    ----------
    full_rows : array-like of float, shape (n, d + 2)
        The full data, ``s`` in column ``-2`` and ``ŷ`` in column ``-1``.
    sample_rows : array-like of float, shape (m, d + 2)
        The submitted sample, same columns.
    alpha : float, default 0.05
    index : MembershipIndex, optional
        ``full_rows`` indexed once (:meth:`MembershipIndex.build`), for many samples of one
        full data; the same result as without it.

    Returns
    -------
    OptimalReport
        ``passed``, ``reasons``, the exact ``level`` at this ``m``, the membership result,
        the DI test, the cap and the DI's confidence interval (with the finite-population
        correction).
    """
    full = np.asarray(full_rows, dtype=np.float64)
    sample = np.asarray(sample_rows, dtype=np.float64)
    C, c = _cells_of(full, "full_rows"), _cells_of(sample, "sample_rows")
    if index is not None and index.n != len(full):
        raise ValueError(f"index has {index.n} rows, full_rows has {len(full)}: not the same full data")
    member = index.check(sample) if index is not None else membership_check(full, sample)
    test = di_test(c, C, alpha)
    cap = _cap(tuple(C.tolist()), int(c.sum()), test.alpha)
    return OptimalReport(test.alpha, member, test, cap, di_interval(c, n=int(C.sum())))


@lru_cache(maxsize=256)
def _cap(cells: tuple[int, ...], m: int, alpha: float) -> DIQuantile:
    """The cap of one (full data, m, alpha): computed once per audit, not once per sample."""
    return di_quantile(np.array(cells), m, alpha)


def optimal_cap(cells: Any, m: int, alpha: float = 0.05) -> float:
    """The highest DI a size-``m`` sample passing the optimal protocol can show: the DI test's cap.

    Membership restricts *which* rows are shown, not their cell counts (any count vector
    ``c <= C`` is made of real rows), so the cap is :func:`fairwash.detect.dilaw.di_quantile`.
    """
    return di_quantile(check_cells(cells), m, alpha).value
