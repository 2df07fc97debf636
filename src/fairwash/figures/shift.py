"""Figures of the distribution shift: Fig. 4 (radar), the DI-gain/shift trade-off, Fig. 7."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd

from fairwash.catalogue import COMPLIANCE_THRESHOLD
from fairwash.figures.style import figure_style, legend_handles, method_style, new_figure, ordered

__all__ = ["SHIFT_AXES", "INF_RADIUS", "plot_shift_radar", "plot_tradeoff", "plot_shift_curve"]


#: The six axes of the radar chart: (column of the shift table, label).
SHIFT_AXES: tuple[tuple[str, str], ...] = (
    ("W", "W"),
    ("W (S=0)", "W | S=0"),
    ("W (S=1)", "W | S=1"),
    ("KL", "KL"),
    ("KL (S=0)", "KL | S=0"),
    ("KL (S=1)", "KL | S=1"),
)

#: Radius at which an infinite KL is drawn (the finite maximum of each axis is at 1).
INF_RADIUS = 1.25


def _shift_column(frame: pd.DataFrame, column: str) -> pd.Series:
    """A shift column, accepting the older ``W | S=0`` spelling of the table."""
    if column in frame:
        return frame[column]
    old = column.replace(" (S=", " | S=").rstrip(")")
    if old in frame:
        return frame[old]
    raise KeyError(f"the shift table has no column {column!r}; columns: {list(frame.columns)}")


def _data_sets(frame: pd.DataFrame, column: str, datasets: Sequence[str] | None) -> list[str]:
    if column not in frame:
        raise KeyError(f"the table has no column {column!r}; columns: {list(frame.columns)}")
    present = list(dict.fromkeys(frame[column]))
    if datasets is None:
        return present
    missing = [d for d in datasets if d not in present]
    if missing:
        raise ValueError(f"data sets {missing} are not in the table (it has {present})")
    return list(datasets)


def _grid(n: int, max_cols: int) -> tuple[int, int]:
    ncols = min(n, max_cols)
    return math.ceil(n / ncols), ncols


def _panels(axes: Any, names: Sequence[str]) -> Iterator[tuple[Any, str]]:
    """One (axis, data set) pair per name; the grid's spare axes are hidden."""
    for i, ax in enumerate(axes.flat):
        if i >= len(names):
            ax.set_visible(False)
        else:
            yield ax, names[i]


def plot_shift_radar(shift: pd.DataFrame, *, datasets: Sequence[str] | None = None,
                     max_cols: int = 4) -> Any:
    """Fig. 4: the distribution shift of each method, one radar chart per data set.

    Six axes: the Wasserstein distance :math:`W_1(Q, P_n)` and the divergence
    :math:`\\mathrm{KL}(Q \\Vert P_n)` of each method's distribution ``Q`` from the
    audited set, on the whole distribution and conditionally on each group (Tables 4,
    13, 14).  The axes have different units, so each is scaled to the largest finite
    value any method reaches on it in that data set (written under the axis name):
    the rim is "the most shifted method".  An infinite KL (``Q`` puts mass on rows
    absent from the original: every method that moves or relabels points) is drawn
    outside the rim, on the dashed circle marked ∞, with a cross.

    Parameters
    ----------
    shift : DataFrame
        ``results/tables/shift.csv``: columns ``data set``, ``method``, ``W``, ``KL``,
        ``W (S=0)``, ``W (S=1)``, ``KL (S=0)``, ``KL (S=1)``.
    datasets : sequence of str, optional
        The panels, in order (default: every data set of the table).
    max_cols : int, default 4

    Returns
    -------
    matplotlib.figure.Figure
    """
    names = _data_sets(shift, "data set", datasets)
    nrows, ncols = _grid(len(names), max_cols)
    with figure_style():
        width = max(4.2 * ncols, 10.0)
        fig, axes = new_figure(nrows, ncols, figsize=(width, 3.5 * nrows + 1.6),
                               subplot_kw={"projection": "polar"})
        methods_seen: list[str] = []
        for ax, ds in _panels(axes, names):
            methods_seen += _radar_panel(ax, shift[shift["data set"] == ds], ds)
        _radar_legend_and_title(fig, width, methods_seen)
    return fig


def _radar_panel(ax: Any, part: pd.DataFrame, ds: str) -> list[str]:
    """One data set's radar chart on the polar axis ``ax``; returns the methods drawn, in order."""
    k = len(SHIFT_AXES)
    angles = np.linspace(0.0, 2 * np.pi, k, endpoint=False)
    closed = np.r_[angles, angles[:1]]
    methods_seen: list[str] = []
    values = np.column_stack([_shift_column(part, c).to_numpy(np.float64) for c, _ in SHIFT_AXES])
    finite = np.where(np.isfinite(values), values, np.nan)
    with np.errstate(all="ignore"):
        scale = np.nanmax(np.where(np.isnan(finite), -np.inf, finite), axis=0)
    scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
    radius = np.where(np.isinf(values), INF_RADIUS, values / scale)
    for method, r, raw in zip(part["method"], radius, values, strict=True):
        st = method_style(str(method))
        methods_seen.append(str(method))
        rr = np.r_[r, r[:1]]
        ax.plot(closed, rr, color=st.colour, linestyle=st.linestyle, lw=1.3)
        ax.fill(closed, rr, color=st.colour, alpha=0.04)
        fin = np.isfinite(raw)
        ax.plot(angles[fin], r[fin], linestyle="none", marker=st.marker, color=st.colour, ms=4)
        if (~fin).any():
            ax.plot(angles[~fin], r[~fin], linestyle="none", marker="x", color=st.colour, ms=6,
                    mew=1.5)
    ring = np.linspace(0, 2 * np.pi, 200)
    ax.plot(ring, np.full_like(ring, INF_RADIUS), color="0.4", ls=":", lw=1.0)
    ax.plot(ring, np.ones_like(ring), color="0.25", lw=0.8)
    ax.spines["polar"].set_visible(False)
    ax.text(np.deg2rad(90), INF_RADIUS, "∞", color="0.2", fontsize=11, ha="center", va="center",
            bbox={"boxstyle": "round,pad=0.1", "facecolor": "white", "edgecolor": "none"})
    ax.set_ylim(0, INF_RADIUS * 1.02)
    ax.set_yticks([0.25, 0.5, 0.75, 1.0])
    ax.set_yticklabels([])
    ax.set_xticks(angles)
    labels = [f"{label}\n(rim {s:.3g})" for (_, label), s in zip(SHIFT_AXES, scale, strict=True)]
    ax.set_xticklabels(labels, fontsize=7.5)
    ax.tick_params(axis="x", pad=9)
    ax.set_title(ds, pad=22, fontweight="bold")
    return methods_seen


def _radar_legend_and_title(fig: Any, width: float, methods_seen: list[str]) -> None:
    """The radar figure's shared legend, its title and note, and the room they need."""
    per_row = max(1, min(len(set(methods_seen)), int(width / 1.45)))
    fig.legend(handles=legend_handles(ordered(methods_seen)), loc="lower center", ncol=per_row,
               frameon=False)
    note = ("W: Wasserstein-1 (standardised feature units), KL in nats; each axis scaled to its largest "
            "finite value (the solid rim); × on the dotted ring ∞: KL = ∞")
    title = ["Fig. 4. Distribution shift of each fairwashing method from the audited set",
             *textwrap.wrap(note, int(width * 14))]
    fig.suptitle("\n".join(title), fontsize=10)
    legend_rows = math.ceil(len(set(methods_seen)) / per_row)
    height = fig.get_figheight() + 0.3 * (legend_rows - 1) + 0.2 * (len(title) - 2)
    fig.set_figheight(height)
    fig.subplots_adjust(left=0.07, right=0.93, top=1 - (0.55 + 0.2 * len(title)) / height,
                        bottom=(0.45 + 0.3 * legend_rows) / height,
                        wspace=0.6, hspace=0.7)


# ----------------------------------------------------------------------------- trade-off
def plot_tradeoff(shift: pd.DataFrame, *, datasets: Sequence[str] | None = None, max_cols: int = 4) -> Any:
    """DI improvement against distribution shift (Section 7, "Trade-off"), one panel per data set.

    x: the Wasserstein distance :math:`W_1(Q, P_n)` of each method's distribution from
    the audited set; y: the DI it gains, ``DI after − DI before``.  A method that did
    not reach the target (``reached`` false) is drawn hollow.  The best trade-off lies
    top left: the most fairness for the least shift.

    Parameters
    ----------
    shift : DataFrame
        ``results/tables/shift.csv`` (``data set``, ``method``, ``DI before``, ``DI after``,
        ``W``, optionally ``reached``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    names = _data_sets(shift, "data set", datasets)
    nrows, ncols = _grid(len(names), max_cols)
    with figure_style():
        fig, axes = new_figure(nrows, ncols, figsize=(3.6 * ncols + 1.8, 3.3 * nrows + 0.5), sharey=True)
        methods_seen: list[str] = []
        for ax, ds in _panels(axes, names):
            part = shift[shift["data set"] == ds]
            gain = part["DI after"].to_numpy(np.float64) - part["DI before"].to_numpy(np.float64)
            w = part["W"].to_numpy(np.float64)
            reached = part["reached"].to_numpy(bool) if "reached" in part else np.ones(len(part), bool)
            for method, x, y, ok in zip(part["method"], w, gain, reached, strict=True):
                st = method_style(str(method))
                methods_seen.append(str(method))
                ax.plot([x], [y], linestyle="none", marker=st.marker, ms=8, color=st.colour,
                        markerfacecolor=st.colour if ok else "none", mew=1.5)
            before = float(part["DI before"].iloc[0])
            ax.set_title(f"{ds} (DI before {before:.2f})")
            ax.set_xlabel("W₁(Q, original) (standardised feature units)")
            ax.set_xlim(left=0, right=max(float(np.nanmax(w)) * 1.12, 1e-3) if np.isfinite(w).any() else None)
            if ax.get_subplotspec().is_first_col():
                ax.set_ylabel("DI gain: DI after − DI before")
            ax.axhline(0, color="0.3", lw=0.6)
        fig.legend(handles=legend_handles(ordered(methods_seen)), loc="center right", frameon=False,
                   title="method\n(hollow: target\nnot reached)")
        fig.suptitle("Trade-off: DI gained against distribution shift (top left is best for the auditee)")
        fig.tight_layout(rect=(0, 0, 1 - 1.6 / fig.get_figwidth(), 1))
    return fig


# ----------------------------------------------------------------------------- Fig. 7
def plot_shift_curve(curve: pd.DataFrame, *, target: float = COMPLIANCE_THRESHOLD) -> Any:
    """Fig. 7 (Appendix 0.I): distribution shift against the original DI, simulated data.

    Left: :math:`W_1(Q, P_n)`; right: :math:`\\mathrm{KL}(Q \\Vert P_n)`, both against
    the DI of the audited model's decisions before the attack, one line per method,
    every method driven to ``target``.  The lower the original DI, the more an attack
    has to change (and the further ``Q`` lies from the original).  Infinite KL values
    (moved or relabelled points) are drawn as crosses on the band above the finite ones.

    Parameters
    ----------
    curve : DataFrame
        :func:`fairwash.pipeline.shift_curve.shift_curve` output: columns ``method``,
        ``di_original``, ``W``, ``KL`` (and ``reached``).
    target : float, default 0.8

    Returns
    -------
    matplotlib.figure.Figure
    """
    for col in ("method", "di_original", "W", "KL"):
        if col not in curve:
            raise KeyError(f"the shift-curve frame has no column {col!r}; columns: {list(curve.columns)}")
    methods = ordered(list(dict.fromkeys(curve["method"])))
    top, inf_row = _kl_top_and_inf_rows(curve, methods)
    with figure_style():
        fig, axes = new_figure(1, 2, figsize=(11.5, 4.3))
        ax_w, ax_kl = axes[0]
        for method in methods:
            g = curve[curve["method"] == method].sort_values("di_original")
            st = method_style(method)
            ax_w.plot(g["di_original"], g["W"], label=method, **st.line())
            k = g["KL"].to_numpy(np.float64)
            fin = np.isfinite(k)
            if fin.any():
                ax_kl.plot(g["di_original"].to_numpy()[fin], k[fin], label=method, **st.line())
            inf = np.isinf(k)
            if inf.any():
                ax_kl.plot(g["di_original"].to_numpy()[inf], np.full(inf.sum(), inf_row[method]),
                           linestyle="none", marker="x", color=st.colour, ms=6, mew=1.3)
        ax_w.set_xlabel("original DI of the audited model")
        ax_w.set_ylabel("W₁(Q, original) (standardised feature units)")
        ax_w.set_title(f"Wasserstein shift needed to reach DI = {target:g}")
        ax_w.set_ylim(bottom=0)
        ax_kl.set_xlabel("original DI of the audited model")
        ax_kl.set_ylabel("KL(Q ‖ original) (nats)")
        ax_kl.set_title(f"KL shift needed to reach DI = {target:g}")
        _kl_axis_with_inf_band(ax_kl, top, inf_row)
        n_sets = curve["di_original"].nunique()
        fig.legend(handles=legend_handles(methods), loc="center right", frameon=False, title="method")
        fig.suptitle(f"Fig. 7. Simulated data ({n_sets} data sets): exact shift of each attack's "
                     f"distribution from the original, to reach DI = {target:g}")
        fig.tight_layout(rect=(0, 0, 1 - 1.4 / fig.get_figwidth(), 1))
    return fig


def _kl_top_and_inf_rows(curve: pd.DataFrame, methods: Sequence[str]) -> tuple[float, dict[str, float]]:
    """The largest finite KL (1 if none), and the height of each method's row of infinite KLs."""
    kl = curve["KL"].to_numpy(np.float64)
    finite_kl = kl[np.isfinite(kl)]
    top = float(finite_kl.max()) if finite_kl.size else 1.0
    top = top if top > 0 else 1.0
    # one row per method with an infinite KL, above the finite values, so that no cross hides another
    is_inf = np.isinf(kl)
    inf_methods = [m for m in methods if is_inf[(curve["method"] == m).to_numpy()].any()]
    return top, {m: top * (1.2 + 0.08 * j) for j, m in enumerate(inf_methods)}


def _kl_axis_with_inf_band(ax_kl: Any, top: float, inf_row: dict[str, float]) -> None:
    """The KL axis's limits and ticks: the infinite values' band above ``top``, labelled ∞."""
    if inf_row:
        ax_kl.set_ylim(0, top * (1.2 + 0.08 * len(inf_row)))
        ax_kl.axhline(top * 1.12, color="0.5", ls=":", lw=0.8)
        ticks = [float(t) for t in ax_kl.get_yticks() if 0 <= t <= top * 1.1]
        band = float(np.mean(list(inf_row.values())))
        ax_kl.set_yticks([*ticks, band])
        ax_kl.set_yticklabels([f"{t:g}" for t in ticks] + ["∞ (×)"])
    else:
        ax_kl.set_ylim(bottom=0)
