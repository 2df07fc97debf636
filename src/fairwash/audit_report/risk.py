"""The report of ``fairwash risk --report``: the cap at a size, or the size for a target.

From a :class:`~fairwash.protocol.risk.CapRisk` (and, with ``--simulate``, the paper's search:
a :class:`~fairwash.protocol.risk.FractionRisk` or :class:`~fairwash.protocol.risk.TargetRisk`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from fairwash.audit_report import sections
from fairwash.audit_report.check import _di_law_section
from fairwash.audit_report.page import document
from fairwash.audit_report.provenance import Provenance
from fairwash.catalogue import COMPLIANCE_THRESHOLD
from fairwash.data.base import AuditData
from fairwash.detect.dilaw import cell_counts, di_quantile
from fairwash.io import atomic_write_text

__all__ = ["risk_report", "write_risk_report"]

TITLE = "fairwash risk report: how much room does a sample size leave for fairwashing?"


def _simulated(sim: Any) -> list[str]:
    if sim is None:
        return []
    if hasattr(sim, "results"):
        rows = [[mth, sections.fmt(r.best_di), sections.fmt(r.level_found, 2), str(r.n_battery)]
                for mth, r in sim.results.items()]
        table = sections.data_table(["attack", "fairest undetected DI", "at level", "samples tested"], rows,
                                    [False, True, True, True])
    else:
        rows = [[f"{100 * r['fraction']:g} %", str(r["m"]), ", ".join(r["evaded_by"]) or "none",
                 sections.fmt(r["best_di"])] for r in sim.fractions]
        head = ["fraction", "m", f"undetected with DI > {sim.target:g}", "best DI"]
        table = sections.data_table(head, rows, [True, True, False, True])
    return [sections.section("The paper's attacks against the paper's battery (--simulate; a search, "
                             "not a proof)", table)]


def risk_report(cap: Any, inputs: Any, full: AuditData, provenance: Provenance, simulated: Any = None, *,
                tau: float = COMPLIANCE_THRESHOLD) -> str:
    """The HTML page of one ``fairwash risk`` answer (``cap``: a ``CapRisk``; ``simulated``: optional)."""
    C = cell_counts(np.asarray(full.S), np.asarray(full.Y_hat))
    data_rows = [("full data", f"{inputs.full_path}: {cap.n} rows used of {inputs.rows_full}"),
                 ("sensitive", inputs.s_rule.describe()), ("outcome", inputs.outcome_rule.describe()),
                 ("missing", inputs.missing_text())]
    parts: list[str]
    if cap.mode == "fraction":
        q = cap.cap
        head = f"CAP {sections.fmt(q.value)} at m = {cap.m}"
        detail = (f"No sample of {cap.m} rows ({100 * cap.fraction:g} % of the data) passing the optimal "
                  f"protocol shows a DI above {sections.fmt(q.value)} (exact level {q.size:.4f} <= "
                  f"{cap.alpha:g}); the full data's DI is {sections.fmt(cap.di_full)}.")
        passed = q.value < tau
        evidence = _di_law_section(C, cap.m, None, q.value, cap.di_full, cap.alpha, tau)
        parts = [sections.verdict(passed, head, detail),
                 sections.section("Inputs", sections.key_table(data_rows)),
                 sections.section("The cap: exact law of an honest sample's DI", evidence)]
    else:
        s = cap.size
        passed = s.m is not None
        head = ("NO SIZE HELPS" if s.m is None else f"DEMAND AT LEAST m = {s.m} "
                f"({100 * s.m / cap.n:.1f} % of the data)")
        detail = (f"The full data's DI is itself >= {cap.target:g}." if s.m is None else
                  f"From m = {s.m} on no sample passing the optimal protocol shows DI >= {cap.target:g} "
                  "(exact).")
        parts = [sections.verdict(passed, head, detail),
                 sections.section("Inputs", sections.key_table(data_rows)),
                 sections.section("Sample size that closes the gap",
                                  sections.sample_size_block(s.m, None, cap.n, s.tau, s.alpha))]
        if s.m is not None:
            parts.append(sections.section(f"The cap at m = {s.m}", _di_law_section(
                C, s.m, None, _cap_at(C, s.m, cap.alpha), cap.di_full, cap.alpha, cap.target)))
    parts += [*_simulated(simulated),
              sections.section("Reproduce this report", sections.provenance_block(provenance))]
    return document(TITLE, parts)


def _cap_at(cells: np.ndarray, m: int, alpha: float) -> float:
    return float(di_quantile(cells, m, alpha).value)


def write_risk_report(cap: Any, inputs: Any, full: AuditData, provenance: Provenance, path: str | Path,
                      simulated: Any = None) -> Path:
    """:func:`risk_report` written atomically to ``path``; returns the path."""
    atomic_write_text(risk_report(cap, inputs, full, provenance, simulated), path)
    return Path(path)
