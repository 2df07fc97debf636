"""A sampled support point of ``Q`` as a row of the auditee's own file (red-team samples).

Light on purpose (numpy and the objects it is given): ``fairwash.cli`` re-exports
:func:`attack_rows` and must import without POT or torch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["attack_rows"]


def _representative_value(series, mask: np.ndarray) -> Any:
    """The most frequent value of ``series`` among rows ``mask`` (ties: the first in sort order)."""
    vals = series[mask]
    counts = vals.value_counts()
    top = counts[counts == counts.max()].index
    try:
        return sorted(top)[0]
    except TypeError:
        return sorted(top, key=str)[0]


def attack_rows(full_df, full, report, manipulation, index: np.ndarray):
    """Rows of the full file (original columns) for support points ``index`` of ``manipulation``.

    A support point that is an original individual (reweighting), or a Matching move
    (row ``source`` became a copy of original row ``dest``), is written as that original
    row.  When the manipulation changed a point's S or Ŷ without copying a row (Replace),
    the sensitive / outcome value is set to the most frequent value of the new group /
    decision in the full data.

    Returns
    -------
    frame : DataFrame, len(index) rows, the columns of ``full_df``
    n_edited : int
        Rows whose sensitive or outcome value was edited.
    """
    q = manipulation
    base = q.origin.copy()
    if q.trajectory is not None and len(q.trajectory):
        dst = q.trajectory["dest"].to_numpy(dtype=np.int64)
        src = q.trajectory["source"].to_numpy(dtype=np.int64)
        copy = dst >= 0
        base[src[copy]] = dst[copy]
    rows_in_full = base[index]
    if not np.array_equal(q.X[index], full.X.to_numpy(np.float64)[rows_in_full]):
        raise RuntimeError(f"{q.method}: the manipulated features are not rows of the full data")
    frame = full_df.iloc[report.full_rows[rows_in_full]].reset_index(drop=True).copy()
    s_col, y_col = report.s_rule.column, report.outcome_rule.column
    used = full_df.iloc[report.full_rows]
    s_new, y_new = q.S[index], q.Y_hat[index]
    s_old, y_old = full.S[rows_in_full], full.Y_hat[rows_in_full]
    n_edited = 0
    for col, new, old, codes in ((s_col, s_new, s_old, full.S), (y_col, y_new, y_old, full.Y_hat)):
        for v in (0, 1):
            mask = (new == v) & (old != v)
            if mask.any():
                value = _representative_value(used[col].reset_index(drop=True), codes == v)
                integral = isinstance(value, int | np.integer | bool | np.bool_)
                if frame[col].dtype.kind in "iub" and not integral:
                    frame[col] = frame[col].astype(object)
                frame.loc[mask, col] = value
                n_edited += int(mask.sum())
    return frame, n_edited
