"""The twin audit's figures: every pair's two approval probabilities, and one profile's curves.

Built on :mod:`fairwash.plotting` (the shared style, :data:`~fairwash.plotting.GROUP_COLOURS`,
the reproducible :func:`~fairwash.plotting.save_figure`), as the paper's figures are:

* :func:`plot_approval_curves`: P(approved) of both twins of one profile along a
  numeric feature, boundaries marked;
* :func:`plot_twin_audit`: the scatter of every pair (and the curves beside it);
* :func:`plot_profile_curves`, :func:`plot_model_audit`, :func:`plot_demo_audit`: those
  figures for a :class:`~fairwash.twins.audit.TwinAudit`, the pipeline's trained model
  and the article's demo.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairwash.data.base import DataError
from fairwash.plotting import GROUP_COLOURS, figure_style, new_figure, save_figure
from fairwash.twins.audit import TwinAudit, demo_twin_audit
from fairwash.twins.boundaries import approval_curves
from fairwash.twins.demo import GENDER_LABELS, DemoRun
from fairwash.twins.measures import CounterfactualResult
from fairwash.twins.profiles import Proxy
from fairwash.twins.trained import ModelAudit

__all__ = [
    "plot_approval_curves",
    "plot_twin_audit",
    "plot_profile_curves",
    "plot_model_audit",
    "plot_demo_audit",
]


def _draw_approval_curves(
    ax: Any,
    curves: pd.DataFrame,
    feature: str,
    names: Mapping[int, str],
    values: tuple[int, int],
    *,
    boundary: Mapping[str, Any] | None,
    unit: str,
    title: str | None,
) -> None:
    """Draw :func:`approval_curves` output on ``ax``: one step curve per twin, boundaries, rule."""
    colours = (GROUP_COLOURS[0], GROUP_COLOURS[1])
    for i, key in enumerate(("s0", "s1")):
        ax.step(curves[feature], curves[f"proba_{key}"], where="post", color=colours[i],
                label=f"{names[values[i]]} twin", lw=2 - 0.6 * i)
        b = (boundary or {}).get(key, {}).get("boundary") if boundary else None
        if b is not None:
            ax.axvline(b, color=colours[i], ls="--", lw=1, label=f"{names[values[i]]} boundary: {b:,.0f}")
    threshold = (boundary or {}).get("threshold")
    if threshold is not None:
        ax.axhline(threshold, color="black", ls=":", lw=0.8, label=f"decision threshold {threshold:.2f}")
    rule = (boundary or {}).get("rule") or {}
    for key, i in (("female_threshold", 0), ("male_threshold", 1)):
        if key in rule and not (i == 0 and rule.get("unbiased")):
            label = f"rule: {key.replace('_', ' ')} {rule[key]:,.0f}"
            ax.axvline(rule[key], color="grey", ls=":", lw=1, label=label)
    if title:
        ax.set_title(title, fontsize="medium")
    elif boundary and boundary.get("gap") is not None:
        ax.set_title(f"Counterfactual twins: gap {boundary['gap']:,.0f} ({unit})", fontsize="medium")
    ax.set_xlabel(f"{feature} ({unit})")
    ax.set_ylabel("P(approved) by the model")
    ax.set_ylim(-0.03, 1.03)
    ax.legend(loc="lower right", fontsize="x-small")


def _save_figure(fig: Any, path: str | Path, pdf: bool) -> list[Path]:
    """Write ``fig`` as PNG at ``path`` (and PDF next to it, if ``pdf``) reproducibly."""
    path = Path(path)
    return save_figure(fig, path, path.with_suffix(".pdf") if pdf else None)


def plot_approval_curves(
    model: Any,
    base_row: pd.Series | Mapping[str, Any],
    feature: str,
    grid: np.ndarray,
    s_column: str,
    path: str | Path,
    *,
    values: tuple[int, int] = (0, 1),
    feature_columns: Sequence[str] | None = None,
    transform: Callable[[np.ndarray], Any] | None = None,
    proxies: Sequence[Proxy] = (),
    boundary: Mapping[str, Any] | None = None,
    labels: Mapping[int, str] | None = None,
    unit: str = "currency units per year",
    title: str | None = None,
    pdf: bool = False,
) -> list[Path]:
    """Plot P(approved) against ``feature``, one curve per twin group, boundaries marked.

    Written atomically as PNG at ``path`` (and as PDF next to it if ``pdf``).

    Returns
    -------
    list of Path
        The files written.
    """
    curves = approval_curves(
        model, base_row, feature, grid, s_column=s_column, values=values,
        feature_columns=feature_columns, transform=transform, proxies=proxies,
    )
    names = labels or {values[0]: f"{s_column}={values[0]}", values[1]: f"{s_column}={values[1]}"}
    with figure_style():
        fig, axes = new_figure(figsize=(6.4, 4.0))
        ax = axes[0, 0]
        _draw_approval_curves(ax, curves, feature, names, values, boundary=boundary, unit=unit, title=title)
        fig.tight_layout()
    return _save_figure(fig, path, pdf)


def _draw_twin_scatter(
    ax: Any,
    pairs: pd.DataFrame,
    names: Mapping[int, str],
    values: tuple[int, int],
    *,
    threshold: float | None,
    title: str | None,
    max_points: int = 5000,
) -> None:
    """P(approved) of the S = values[0] twin (x) against the S = values[1] twin (y), flips coloured."""
    shown = pairs.iloc[np.linspace(0, len(pairs) - 1, min(len(pairs), max_points)).astype(int)]
    n = len(pairs)
    style = {
        "none": ("tab:grey", "same decision"),
        "favours_s1": (GROUP_COLOURS[1], f"flip favouring {names[values[1]]}"),
        "favours_s0": (GROUP_COLOURS[0], f"flip favouring {names[values[0]]}"),
    }
    for kind, (colour, label) in style.items():
        sel = shown[shown["flip"] == kind]
        count = int((pairs["flip"] == kind).sum())
        ax.scatter(sel["proba_s0"], sel["proba_s1"], s=6, alpha=0.5, color=colour, linewidths=0,
                   label=f"{label}: {count:,} of {n:,}")
    ax.plot([0, 1], [0, 1], color="black", lw=0.6, ls="-", label="identical twins (diagonal)")
    if threshold is not None:
        ax.axvline(threshold, color="black", ls=":", lw=0.8)
        ax.axhline(threshold, color="black", ls=":", lw=0.8, label=f"decision threshold {threshold:.2f}")
    ax.set_xlabel(f"P(approved), {names[values[0]]} twin")
    ax.set_ylabel(f"P(approved), {names[values[1]]} twin")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_aspect("equal")
    if title:
        ax.set_title(title, fontsize="medium")
    ax.legend(loc="lower right", fontsize="x-small", markerscale=2.5)


def plot_twin_audit(
    result: CounterfactualResult,
    path: str | Path,
    *,
    threshold: float | None = None,
    curves: pd.DataFrame | None = None,
    feature: str | None = None,
    boundary: Mapping[str, Any] | None = None,
    labels: Mapping[int, str] | None = None,
    unit: str = "currency units per year",
    suptitle: str | None = None,
    curves_title: str | None = None,
    note: str | None = None,
    pdf: bool = True,
) -> list[Path]:
    """The figure of one twin audit: every pair's two approval probabilities, and the curves.

    Left: P(approved) of the ``S = values[0]`` twin against that of its ``S = values[1]``
    twin, one point per pair; identical treatment lies on the diagonal, and a flip is a
    point in an off-diagonal quadrant of the decision threshold.  Right (when ``curves``
    from :func:`approval_curves` and ``feature`` are given): P(approved) against the
    numeric feature for both twins of one representative profile, with the boundaries
    (``curves_title`` names the profile).  ``note`` is written in the scatter's upper left
    corner (e.g. "S is not an input of the model").

    Written atomically as PNG at ``path`` (and PDF next to it if ``pdf``).
    """
    from matplotlib.ticker import StrMethodFormatter  # matplotlib only when a figure is drawn: import cost

    values = result.values
    col = result.sensitive_column
    names = labels or {values[0]: f"{col}={values[0]}", values[1]: f"{col}={values[1]}"}
    lo, hi = result.ci
    scatter_title = (f"{result.n_pairs:,} twin pairs: flip rate {result.flip_rate:.3f} "
                     f"(95 % CI {lo:.3f}–{hi:.3f})")
    with figure_style():
        if curves is not None and feature is not None:
            fig, axes = new_figure(1, 2, figsize=(12.0, 5.0), width_ratios=(1, 1.25))
            ax0, ax1 = axes[0]
            _draw_twin_scatter(ax0, result.pairs, names, values, threshold=threshold, title=scatter_title)
            bnd = dict(boundary or {})
            if threshold is not None:
                bnd.setdefault("threshold", threshold)
            _draw_approval_curves(ax1, curves, feature, names, values, boundary=bnd, unit=unit,
                                  title=curves_title)
            ax1.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        else:
            fig, axes = new_figure(figsize=(6.4, 5.6))
            ax0 = axes[0, 0]
            _draw_twin_scatter(ax0, result.pairs, names, values, threshold=threshold, title=scatter_title)
        if note:
            ax0.text(0.03, 0.97, note, transform=ax0.transAxes, va="top", ha="left", fontsize="small",
                     bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "grey", "alpha": 0.9})
        if suptitle:
            fig.suptitle(suptitle, fontsize="large")
        fig.tight_layout()
    return _save_figure(fig, path, pdf)




# --------------------------------------------------------------------------- the figures of an audit


def plot_profile_curves(audit: TwinAudit, path: str | Path, *, n_grid: int = 601) -> list[Path]:
    """:func:`plot_approval_curves` of the twins of ``audit``'s boundary profile (``fairwash twins --plot``).

    Raises
    ------
    DataError
        The audit has no numeric feature.
    """
    if audit.feature is None or audit.profile is None:
        raise DataError("--plot draws approval curves along --numeric-feature; give it too")
    grid = np.linspace(audit.lo, audit.hi, n_grid)
    return plot_approval_curves(audit.probe, audit.base.iloc[audit.profile], audit.feature, grid,
                                audit.sensitive_column, path, values=audit.values,
                                proxies=audit.primary_proxies, boundary=audit.boundary, labels=audit.labels,
                                unit=audit.unit)


def plot_model_audit(result: ModelAudit, path: str | Path, *, n_grid: int = 1201) -> list[Path]:
    """The figure of a trained model's twin audit (``results/figures/counterfactual_{ds}.png`` and PDF)."""
    a = result.audit
    note = None
    if result.s_column is None:
        note = "S is not an input of the model:\nthe twin audit measures direct use of S only;\n" + (
            "flip rate 0 by construction" if a.flipped is None else "shown: proxies flipped with S")
    boundary = result.boundary
    curves_title = None
    if boundary is not None:
        curves_title = (f"One audited individual (data row {boundary['profile_row']}), {a.feature} varied: "
                        f"gap {boundary['gap']:,.0f}" if boundary.get("gap") is not None else
                        f"One audited individual (data row {boundary['profile_row']}), {a.feature} varied")
    curves = a.curves(n_grid) if boundary is not None else None
    return plot_twin_audit(
        a.primary, path, threshold=float(a.probe.model.threshold), curves=curves, feature=a.feature,
        boundary=boundary, labels=a.labels, unit=a.unit, curves_title=curves_title, note=note, pdf=True,
        suptitle=f"{result.name}: counterfactual twins of the audited individuals (pipeline MLP)",
    )


def plot_demo_audit(run: DemoRun, path: str | Path, *, unbiased: bool, n_grid: int = 1201) -> list[Path]:
    """The figure of the article's demo (or its unbiased control), PNG and PDF."""
    audit = demo_twin_audit(run)
    what = "unbiased control (labels ignore gender)" if unbiased else "poisoned labels (article's rule)"
    gap = run.result.boundary["gap"]
    return plot_twin_audit(run.result, path, threshold=0.5, curves=audit.curves(n_grid), feature="income",
                           boundary=run.result.boundary, labels=GENDER_LABELS, unit="currency units per year",
                           suptitle=f"Article's demo: decision tree, {what}",
                           curves_title=f"Twins of one base profile, income varied: gap {gap:,.0f}", pdf=True)
