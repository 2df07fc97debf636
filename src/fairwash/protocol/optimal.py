r"""The optimal protocol on a submitted file (``fairwash check``, the default).

:func:`check_optimal` runs :func:`fairwash.detect.optimal.optimal_check` — membership and
multiplicity, then the exact one-sided DI test — on the encoded rows of the full data and the
sample, and adds what an auditor needs beside the verdict: the DI's confidence interval from the
sample alone (finite-population corrected), the cap at this ``m`` and the recommended sample
size for this full data (:func:`fairwash.detect.dilaw.recommended_sample_size`). No reference
draws: milliseconds.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from fairwash.catalogue import COMPLIANCE_THRESHOLD
from fairwash.data.base import AuditData, DataError
from fairwash.detect.dilaw import SampleSize, cell_counts, recommended_sample_size
from fairwash.detect.optimal import OptimalReport, optimal_check
from fairwash.fairness import disparate_impact

__all__ = ["OptimalCheck", "check_optimal"]


@dataclass(frozen=True)
class OptimalCheck:
    """The optimal protocol's verdict on one submitted file, with the auditor's numbers."""

    report: OptimalReport
    sample_size: SampleSize | None
    di_full: float
    m: int
    n: int
    seconds: float

    @property
    def passed(self) -> bool:
        return self.report.passed

    @property
    def alpha(self) -> float:
        return self.report.alpha

    @property
    def verdict(self) -> str:
        return "representative" if self.passed else "not_representative"

    @property
    def offending_rows(self) -> list[int]:
        """1-based data-row numbers (header excluded) of the offending rows among the rows used."""
        return [int(p) + 1 for p in self.report.membership.positions]

    @property
    def message(self) -> str:
        if self.passed:
            return (f"REPRESENTATIVE: every row is in the full data and the DI test does not reject "
                    f"(exact level {self.report.level:.4f} <= {self.alpha:g})")
        return "NOT REPRESENTATIVE: " + "; ".join(self.report.reasons)

    def to_dict(self, inputs: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The ``fairwash check --json`` object of the optimal protocol."""
        out = {"protocol": "optimal", "verdict": self.verdict, "message": self.message,
               **self.report.to_dict(),
               "offending_rows": self.offending_rows,
               "di": {"sample": self.report.di.statistic, "full": self.di_full},
               "sizes": {"n_full": self.n, "m_sample": self.m, "fraction": self.m / self.n},
               "recommended_sample_size": None if self.sample_size is None else self.sample_size.to_dict(),
               "seconds": self.seconds}
        if inputs is not None:
            out["inputs"] = dict(inputs)
        return out


def check_optimal(full: AuditData, sample: AuditData, *, alpha: float = 0.05,
                  tau: float = COMPLIANCE_THRESHOLD, recommend: bool = False) -> OptimalCheck:
    """Membership, then the exact DI test, on ``sample`` against ``full``; the recommended ``m`` on request.

    Parameters
    ----------
    full, sample : AuditData
        Encoded alike (:func:`fairwash.inputs.prepare`): a row of the sample equals the row of
        the full data it was taken from.
    alpha : float
        The level of the DI test (the protocol's level: membership never fails an honest sample).
    tau : float
        The compliance threshold of the recommended sample size.
    recommend : bool
        Also compute the recommended sample size (exact, but from a fraction of a second to tens
        of seconds when the full data's DI is close to ``tau``, e.g. 11 s on the authors' INC;
        the verdict itself takes milliseconds).
    """
    m, n = sample.n, full.n
    if m > n:
        raise DataError(f"the sample has {m} rows but the full data only {n}: a sample cannot be larger "
                        "than the data it is drawn from (are --full and --sample swapped?)")
    t0 = time.perf_counter()
    report = optimal_check(full.joint(), sample.joint(), alpha)
    size = None
    if recommend:
        size = recommended_sample_size(cell_counts(np.asarray(full.S), np.asarray(full.Y_hat)), tau, alpha)
    di_full = float(disparate_impact(full.Y_hat, full.S))
    return OptimalCheck(report, size, di_full, m, n, time.perf_counter() - t0)
