"""The report of ``fairwash check --report``: from the result of either protocol.

:func:`check_report` takes the library's result (an :class:`~fairwash.protocol.optimal.OptimalCheck`
or a :class:`~fairwash.protocol.check.CheckReport`), the input report and the two encoded data
sets (for the four cells), and returns the HTML page; :func:`write_check_report` writes it
atomically.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from fairwash.audit_report import figures, sections
from fairwash.audit_report.page import document
from fairwash.audit_report.provenance import Provenance
from fairwash.catalogue import COMPLIANCE_THRESHOLD
from fairwash.data.base import AuditData
from fairwash.detect.dilaw import SampleSize, cell_counts, di_interval, di_sf, recommended_sample_size
from fairwash.io import atomic_write_text
from fairwash.text import shown_list

__all__ = ["check_report", "write_check_report", "di_law_bins"]

TITLE = "fairwash audit report: is the submitted sample representative of the full data?"


def di_law_bins(full_cells: np.ndarray, m: int, upper: float,
                bins: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """Exact probabilities that an honest size-``m`` sample's DI falls in each of ``bins`` bins of
    ``[0, upper)``.

    ``P(a <= DI < b) = P(DI >= a) - P(DI >= b)`` from :func:`~fairwash.detect.dilaw.di_sf`; the
    mass at or above ``upper`` (with DI = ∞) and of an undefined DI is left out.
    """
    edges = np.linspace(0.0, upper, bins + 1)
    sf = np.asarray(di_sf(edges, full_cells, m), dtype=float)
    return edges, np.clip(sf[:-1] - sf[1:], 0.0, None)


def _cells(data: AuditData) -> np.ndarray:
    return cell_counts(np.asarray(data.S), np.asarray(data.Y_hat))


def _inputs_rows(inputs: Any) -> list[tuple[str, str]]:
    rows = [("full data", f"{inputs.full_path}: {inputs.n_full} rows used of {inputs.rows_full}"),
            ("sample", f"{inputs.sample_path}: {inputs.n_sample} rows used of {inputs.rows_sample}"),
            ("sensitive", inputs.s_rule.describe()),
            ("outcome", inputs.outcome_rule.describe()),
            ("features", f"{len(inputs.encoding.features)} columns: {shown_list(inputs.encoding.features)}"),
            ("missing", inputs.missing_text())]
    if inputs.ignored_columns:
        rows.append(("ignored", f"sample-only column(s) {shown_list(inputs.ignored_columns)}"))
    if inputs.redteam:
        rows.append(("RED-TEAM", inputs.redteam))
    return rows


def _di_law_section(full_cells: np.ndarray, m: int, observed: float | None, cap: float, di_full: float,
                    alpha: float, tau: float) -> str:
    """The figure of the exact honest DI law at ``m`` (``observed``: the sample's DI, ``None``: no sample)."""
    marks = [v for v in (observed, cap, di_full, tau) if v is not None and math.isfinite(v)]
    upper = 1.25 * max(marks) if marks else 2.0
    edges, probs = di_law_bins(full_cells, m, upper)
    beyond = float(di_sf(upper, full_cells, m))
    uri = figures.di_law_figure(edges, probs, observed, cap, di_full, tau)
    caption = (f"Exact probability of each DI bin for an honest sample of {m} rows drawn from the full data "
               f"(hypergeometric law of the four cells); P(DI >= {upper:.3g}, including ∞) = {beyond:.3g}. "
               f"The test rejects a sample whose DI is above the cap (p <= {alpha:g}).")
    return sections.figure(uri, "exact honest law of the DI with the sample's DI and the cap", caption,
                           "fig-di-law")


def _sample_size(given: SampleSize | None, full_cells: np.ndarray, alpha: float, tau: float) -> SampleSize:
    return given if given is not None else recommended_sample_size(full_cells, tau, alpha)


def _common_tail(sample: AuditData, full: AuditData, di_sample: float, di_full: float, size: SampleSize,
                 prov: Provenance, tau: float) -> list[str]:
    c, C = _cells(sample), _cells(full)
    ci = di_interval(c, n=int(C.sum()))
    return [
        sections.section("The four (s, ŷ) cells", sections.cells_table(c.tolist(), C.tolist()),
                         sections.figure(figures.cells_figure(c.tolist(), C.tolist()),
                                         "cell shares of the sample and of the full data",
                                         "Share of each (s, ŷ) cell in the sample and in the full data.",
                                         "fig-cells")),
        sections.section("Disparate Impact", sections.di_block(di_sample, di_full, ci.low, ci.high,
                                                               ci.confidence, ci.fpc, tau)),
        sections.section("Sample size that closes the gap",
                         sections.sample_size_block(size.m, sample.n, full.n, size.tau, size.alpha)),
        sections.section("Reproduce this report", sections.provenance_block(prov)),
    ]


def _optimal(res: Any, inputs: Any, full: AuditData, sample: AuditData, prov: Provenance, tau: float) -> str:
    rep = res.report
    mem, test, cap = rep.membership, rep.di, rep.cap
    head = "NOT REPRESENTATIVE" if not res.passed else "REPRESENTATIVE"
    detail = res.message.split(": ", 1)[-1]
    rows = res.offending_rows
    mem_txt = ("pass: every row is a row of the full data, none more often than there" if mem.passed else
               f"FAIL: {mem.n_absent} row(s) absent from the full data, {mem.n_excess} excess copy(ies); "
               f"sample rows {', '.join(str(r) for r in rows[:20])}{' ...' if len(rows) > 20 else ''}")
    evidence = sections.data_table(
        ["check", "observed", "limit", "p-value", "verdict"],
        [["membership", f"{mem.n_absent} absent, {mem.n_excess} excess", "0", "-",
          "pass" if mem.passed else "REJECT"],
         ["exact DI test", sections.fmt(test.statistic), f"cap {sections.fmt(cap.value)}",
          sections.fmt(test.p_value, 3), "REJECT" if test.reject else "pass"]],
        [False, True, True, True, False])
    C = _cells(full)
    size = _sample_size(res.sample_size, C, rep.alpha, tau)
    parts = [
        sections.verdict(res.passed, head, detail),
        sections.section("Inputs", sections.key_table([
            ("protocol", "optimal: membership, then the exact one-sided DI test"), *_inputs_rows(inputs)])),
        sections.section("The tests", evidence, sections.key_table([
            ("membership", mem_txt),
            ("DI test", f"p = P_honest(DI >= {sections.fmt(test.statistic)}) = "
                        f"{sections.fmt(test.p_value, 3)}; exact level {cap.size:.4f} <= {rep.alpha:g}")]),
            _di_law_section(C, res.m, test.statistic, cap.value, res.di_full, rep.alpha, tau)),
        *_common_tail(sample, full, test.statistic, res.di_full, size, prov, tau),
    ]
    return document(TITLE, parts)


def _paper(rep: Any, inputs: Any, full: AuditData, sample: AuditData, prov: Provenance, tau: float) -> str:
    head = "NOT REPRESENTATIVE" if not rep.passed else "REPRESENTATIVE"
    detail = rep.message.split(": ", 1)[-1]
    alpha, thr = round(1 - rep.level, 12), rep.thresholds
    rows = [[r.name, sections.fmt(r.statistic), f"p > {alpha:g}" if math.isnan(r.threshold)
             else sections.fmt(r.threshold), sections.fmt(r.p_value, 3), "REJECT" if r.rejected else "pass"]
            for r in rep.battery.results]
    figs = []
    for r in rep.battery.results:
        if r.name in thr.draws:
            cap = (f"{r.name}: {thr.n_draws} honest samples of {rep.m} rows (seed {rep.seed}); the test "
                   f"rejects above the threshold. Sample: {sections.fmt(r.statistic)}, "
                   f"p = {sections.fmt(r.p_value, 3)}.")
            uri = figures.reference_histogram(r.name, thr.draws[r.name], r.threshold, r.statistic)
            figs.append(sections.figure(uri, f"{r.name} reference distribution", cap, f"fig-{r.name}"))
        else:
            figs.append(f"<h3>{sections.esc(r.name)}</h3><p>{sections.esc(r.name)} has its own p-value "
                        f"(SciPy's two-sample Kolmogorov-Smirnov law), no honest draws: statistic "
                        f"{sections.esc(sections.fmt(r.statistic))}, "
                        f"p = {sections.esc(sections.fmt(r.p_value, 3))}.</p>")
    comb = [] if rep.combination is None else [f"<p>{sections.esc(rep.combination.note, 2000)}</p>"]
    C = _cells(full)
    size = _sample_size(None, C, alpha, tau)
    parts = [
        sections.verdict(rep.passed, head, detail),
        sections.section("Inputs", sections.key_table([
            ("protocol", "paper: the battery of Section 4"), *_inputs_rows(inputs),
            ("thresholds", f"{thr.rule} rule, {thr.n_draws} honest samples of {rep.m} rows, seed {rep.seed}, "
                           f"W_A {rep.w_method}")])),
        sections.section("The tests", sections.data_table(["test", "statistic", "threshold", "p-value",
                                                           "verdict"], rows,
                                                          [False, True, True, True, False]), *comb, *figs),
        *_common_tail(sample, full, rep.di_sample, rep.di_full, size, prov, tau),
    ]
    return document(TITLE, parts)


def check_report(result: Any, inputs: Any, full: AuditData, sample: AuditData, provenance: Provenance, *,
                 tau: float = COMPLIANCE_THRESHOLD) -> str:
    """The HTML page of one ``fairwash check`` result (either protocol).

    Parameters
    ----------
    result : OptimalCheck or CheckReport
        From :func:`~fairwash.protocol.optimal.check_optimal` or
        :func:`~fairwash.protocol.check.check_sample`.
    inputs : InputReport
        What :func:`fairwash.inputs.prepare` read (paths, rules, missing values).
    full, sample : AuditData
        The encoded data sets the result was computed on (their four cells are shown).
    provenance : Provenance
        Command, input checksums, versions, seed.
    tau : float
        The compliance threshold.
    """
    if hasattr(result, "report"):
        return _optimal(result, inputs, full, sample, provenance, tau)
    return _paper(result, inputs, full, sample, provenance, tau)


def write_check_report(result: Any, inputs: Any, full: AuditData, sample: AuditData, provenance: Provenance,
                       path: str | Path) -> Path:
    """:func:`check_report` written atomically to ``path``; returns the path."""
    atomic_write_text(check_report(result, inputs, full, sample, provenance), path)
    return Path(path)
