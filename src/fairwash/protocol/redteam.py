"""A red-team sample: rows drawn from a manipulated distribution, in the full file's columns.

``fairwash attack`` builds the distribution ``Q`` of one of the paper's attacks aimed at
a target DI (Section 5; :func:`fairwash.manipulate.run_method`), draws ``m`` rows from it
and maps them back to rows of the auditee's own file (:func:`attack_rows`), so that the
sample can be handed to ``fairwash check`` or to any other audit procedure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from fairwash.catalogue import METHOD_SPECS
from fairwash.data.base import AuditData, DataError
from fairwash.fairness import disparate_impact
from fairwash.manipulate import Manipulation, run_method
from fairwash.protocol.rows import attack_rows

__all__ = ["RedTeamSample", "red_team_sample"]


@dataclass(frozen=True)
class RedTeamSample:
    """A sample drawn from ``Q`` and its rows in the full file's columns.

    Attributes
    ----------
    frame : DataFrame
        ``m`` rows, the columns of the full file.
    manipulation : Manipulation
        ``Q``.
    index : ndarray of int, shape (m,)
        The support points drawn.
    di_full, di_sample : float
        DI (eq. 1) of the full data and of the sample.
    moved : int
        Sampled rows that the attack moved (a trajectory's sources).
    n_edited : int
        Sensitive or outcome values edited (:func:`attack_rows`).
    """

    frame: pd.DataFrame
    manipulation: Manipulation
    index: np.ndarray
    di_full: float
    di_sample: float
    moved: int
    n_edited: int


def red_team_sample(full_df: pd.DataFrame, full: AuditData, report: Any, method: str, *, target: float,
                    m: int, seed: int) -> RedTeamSample:
    """Build ``Q`` with ``method`` for ``target``, draw ``m`` rows with ``seed``, map them to ``full_df``.

    Parameters
    ----------
    full_df : DataFrame
        The full file as read.
    full : AuditData
        Its prepared rows (:func:`fairwash.inputs.prepare`); ``report`` its input report.
    method : str
        A row-preserving attack (:data:`fairwash.catalogue.ROW_PRESERVING_METHODS`).

    Raises
    ------
    DataError
        If the attack cannot reach ``target`` on this data.
    """
    options = {"m": m} if METHOD_SPECS[method].family == "SBS" else {}  # SBS caps its weights for m
    q = run_method(method, full, target=target, random_state=seed, options=options)
    if not q.reached:
        raise DataError(f"{method} could not reach DI {target:g} on this data (it reached "
                        f"{q.di:.3f}); choose a lower --target or another --method")
    idx = q.sample_indices(m, random_state=seed)
    frame, n_edited = attack_rows(full_df, full, report, q, idx)
    moved = 0
    if q.trajectory is not None and len(q.trajectory):
        moved = int(np.isin(idx, q.trajectory["source"].to_numpy()).sum())
    return RedTeamSample(frame, q, idx, float(disparate_impact(full.Y_hat, full.S)),
                         float(disparate_impact(q.Y_hat[idx], q.S[idx])), moved, n_edited)
