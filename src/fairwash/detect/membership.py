r"""Membership and multiplicity: is every submitted row a real row, at most as often as there?

An honest auditee submits ``m`` distinct individuals of its data: as a multiset the sample is
contained in the full data. With ``N(r)`` the number of times row ``r`` occurs in the full
data and ``M(r)`` in the sample, the check is

.. math::
    M(r) \le N(r) \quad \text{for every row } r,

decided by exact equality of the rows' bytes (float64, ``-0.0`` read as ``0.0``). It is
deterministic: an honest sample never fails it, so it costs no level. It fails a sample
holding an edited or moved row that matches no real row (Replace, Grad) and one holding a
copy beside its original (Matching moves a row onto its nearest neighbour, a copy of it).
An edited row that happens to equal another real row is invisible to it (it *is* a real row).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["MembershipResult", "MembershipIndex", "membership_check", "ABSENT", "EXCESS"]

#: Reason of a row found nowhere in the full data.
ABSENT = "absent"
#: Reason of an occurrence beyond the row's count in the full data.
EXCESS = "excess copy"


@dataclass(frozen=True)
class MembershipResult:
    """Offending sample positions (0-based, in the order given) and their reasons."""

    m: int
    n: int
    positions: np.ndarray
    reasons: tuple[str, ...]
    details: tuple[dict[str, int], ...] = field(default=())

    @property
    def passed(self) -> bool:
        return self.positions.size == 0

    @property
    def n_absent(self) -> int:
        return sum(r == ABSENT for r in self.reasons)

    @property
    def n_excess(self) -> int:
        return sum(r == EXCESS for r in self.reasons)

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "m": self.m, "n": self.n, "n_absent": self.n_absent,
                "n_excess": self.n_excess,
                "offending": [{"position": int(p), "reason": r, **d}
                              for p, r, d in zip(self.positions, self.reasons, self.details, strict=True)]}


def _rows(rows: Any, name: str, width: int | None = None) -> np.ndarray:
    arr = np.asarray(rows, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array of rows, got shape {arr.shape}")
    if width is not None and arr.shape[1] != width:
        raise ValueError(f"{name} has {arr.shape[1]} columns, the full data has {width}")
    bad = ~np.isfinite(arr)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ValueError(f"{name} has a missing or infinite value at row {i}, column {j}: {arr[i, j]!r}")
    return np.ascontiguousarray(arr + 0.0)  # -0.0 + 0.0 == +0.0: one byte pattern per value


def _keys(arr: np.ndarray) -> np.ndarray:
    return arr.view(np.dtype((np.void, arr.dtype.itemsize * arr.shape[1]))).ravel()


@dataclass(frozen=True)
class MembershipIndex:
    """The full data's side of :func:`membership_check`, sorted once for many samples.

    ``keys`` are the distinct rows' byte patterns in sorted order and ``counts`` their
    multiplicities ``N(r)``; :meth:`check` then costs a binary search per sample row instead
    of sorting the full data again (the protocol comparison checks thousands of samples
    against one data set).
    """

    width: int
    n: int
    keys: np.ndarray
    counts: np.ndarray

    @classmethod
    def build(cls, full_rows: Any) -> MembershipIndex:
        full = _rows(full_rows, "full_rows")
        keys, counts = np.unique(_keys(full), return_counts=True)
        return cls(full.shape[1], len(full), keys, counts)

    def check(self, sample_rows: Any) -> MembershipResult:
        """:func:`membership_check` of ``sample_rows`` against the indexed full data."""
        sample = _rows(sample_rows, "sample_rows", self.width)
        m, u = len(sample), len(self.keys)
        keys = _keys(sample)
        pos = np.searchsorted(self.keys, keys)
        found = pos < u
        found[found] = self.keys[pos[found]] == keys[found]
        s_inv = np.where(found, pos, 0).astype(np.int64)
        allowed = np.where(found, self.counts[s_inv], 0)
        if not found.all():  # rows of no full row: numbered among themselves, after the full rows
            _, absent = np.unique(keys[~found], return_inverse=True)
            s_inv[~found] = u + absent.ravel()
        order = np.argsort(s_inv, kind="stable")
        first = np.searchsorted(s_inv[order], s_inv[order], side="left")
        occurrence = np.empty(m, dtype=np.int64)
        occurrence[order] = np.arange(m) - first + 1  # 1 for the first occurrence of a row
        bad = np.flatnonzero(occurrence > allowed)
        reasons = tuple(ABSENT if allowed[i] == 0 else EXCESS for i in bad)
        details = tuple({"occurrence": int(occurrence[i]), "full_count": int(allowed[i])} for i in bad)
        return MembershipResult(m, self.n, bad, reasons, details)


def membership_check(full_rows: Any, sample_rows: Any) -> MembershipResult:
    """Offending rows of ``sample_rows`` against ``full_rows`` (exact, vectorised).

    Parameters
    ----------
    full_rows : array-like of float, shape (n, p)
        The full data's rows, e.g. ``(x, s, ŷ)`` as :meth:`AuditData.joint` gives them.
    sample_rows : array-like of float, shape (m, p)
        The submitted rows, same columns.

    Returns
    -------
    MembershipResult
        For each offending position: ``"absent"`` (the row occurs nowhere in the full data)
        or ``"excess copy"`` (its occurrence number in the sample exceeds its count ``N`` in
        the full data; the first ``N`` occurrences are not flagged), with ``occurrence`` and
        ``full_count`` in ``details``.

    Examples
    --------
    >>> full = [[0.0, 1, 1], [0.5, 0, 1], [0.5, 0, 1]]
    >>> r = membership_check(full, [[0.5, 0, 1], [0.5, 0, 1], [0.5, 0, 1], [0.0, 1, 0]])
    >>> r.positions.tolist(), r.reasons
    ([2, 3], ('excess copy', 'absent'))

    For many samples of one full data, build :class:`MembershipIndex` once and call its
    :meth:`~MembershipIndex.check` (the same result).
    """
    return MembershipIndex.build(full_rows).check(sample_rows)
