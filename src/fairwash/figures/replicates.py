"""One data set's fairest undetected DI over K replicates, beside the paper's value (issue 21).

A grid of panels: one row per table (Table 3: seven tests; Table 15: without MMD), one
column per sample size. In each panel, one line per method: our K values as points (in the
method's colour), their 10–90 % range as a thick bar and their median as a tick, the
paper's value as a black diamond, and the cell cap of the shared thresholds (the highest DI
a passing sample can show) as a dotted line. A replicate that found no undetected sample
("–") is drawn as a cross at the panel's left edge; the paper's "–" as a hollow diamond there.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from fairwash import paper_values
from fairwash.catalogue import COMPLIANCE_THRESHOLD
from fairwash.figures.style import figure_style, method_style, new_figure, ordered

__all__ = ["plot_replicates"]


def plot_replicates(values: pd.DataFrame, cells: pd.DataFrame, *, dataset: str):
    """The replicate figure of ``dataset``.

    Parameters
    ----------
    values : DataFrame
        :func:`fairwash.pipeline.replicates.replicate_values` (columns ``data set``,
        ``method``, ``m``, ``size %``, ``table``, ``k``, ``fairest DI``, ``found``, ``not run``,
        ``cell cap``, ``paper``).
    cells : DataFrame
        :func:`fairwash.pipeline.replicates.replicates_table` of ``values``: the median and
        10–90 % range drawn are the table's (NaN = "–", drawn from the panel's left edge).
    dataset : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    sub = values[(values["data set"] == dataset) & ~values["not run"]]
    if sub.empty:
        raise ValueError(f"no replicate of data set {dataset!r} to draw")
    tables = [t for t in ("Table 3", "Table 15") if (sub["table"] == t).any()]
    sizes = sorted(sub["m"].unique())
    methods = ordered(list(sub["method"].unique()))
    found = sub.loc[sub["found"], "fairest DI"]
    lo_x = min(float(found.min()) if len(found) else COMPLIANCE_THRESHOLD,
               *[paper_values.as_float(p) for p in sub["paper"] if not math.isnan(paper_values.as_float(p))],
               COMPLIANCE_THRESHOLD) - 0.05
    papers = [x for x in (paper_values.as_float(p) for p in sub["paper"]) if not math.isnan(x)]
    caps = [c for c in sub["cell cap"] if np.isfinite(c)]
    # zoomed on the values, the paper's and the caps (the 0.8 line shown only when in range)
    hi_x = min(1.02, max([*found, *papers, *caps, lo_x + 0.1]) + 0.03)
    with figure_style():
        height = (0.5 * len(methods) + 1.6) * len(tables)
        fig, axes = new_figure(len(tables), len(sizes), figsize=(4.2 * len(sizes), height), sharex=True)
        for i, table in enumerate(tables):
            for j, m in enumerate(sizes):
                ax = axes[i][j]
                cell = sub[(sub["table"] == table) & (sub["m"] == m)]
                for y, method in enumerate(methods):
                    g = cell[cell["method"] == method]
                    if g.empty:
                        continue
                    st = method_style(method)
                    v = g.loc[g["found"], "fairest DI"].to_numpy(float)
                    n_none = int((~g["found"]).sum())
                    jitter = np.linspace(-0.18, 0.18, len(v)) if len(v) > 1 else np.zeros(len(v))
                    ax.scatter(v, y + jitter, s=14, color=st.colour, marker=st.marker, alpha=0.7, zorder=3,
                               linewidths=0)
                    c = cells[(cells["data set"] == dataset) & (cells["table"] == table) & (cells["m"] == m)
                              & (cells["method"] == method)]
                    if len(c) and c["K"].iloc[0] > 0:
                        q10, med, q90 = (lo_x if math.isnan(x) else x
                                         for x in (float(c[q].iloc[0]) for q in ("q10", "median", "q90")))
                        ax.plot([q10, q90], [y, y], color=st.colour, linewidth=5, alpha=0.35,
                                solid_capstyle="butt", zorder=2)
                        ax.plot([med, med], [y - 0.3, y + 0.3], color="black", linewidth=1.2, zorder=4)
                    if n_none:
                        ax.scatter([lo_x + 0.01], [y], marker="x", color=st.colour, s=30, zorder=3)
                        ax.annotate(f"{n_none}× –", (lo_x + 0.02, y + 0.22), fontsize=6)
                    paper = g["paper"].iloc[0]
                    px = paper_values.as_float(paper)
                    if paper == "–":
                        ax.scatter([lo_x + 0.01], [y], marker="D", s=40, facecolors="none",
                                   edgecolors="black", zorder=5)
                    elif not math.isnan(px):
                        ax.scatter([px], [y], marker="D", s=40, color="black", zorder=5)
                cap = cell["cell cap"].iloc[0] if len(cell) else math.nan
                if np.isfinite(cap) and cap < hi_x:
                    ax.axvline(cap, color="grey", linestyle=":", linewidth=1.2)
                if COMPLIANCE_THRESHOLD < hi_x:
                    ax.axvline(COMPLIANCE_THRESHOLD, color="black", linewidth=0.8, alpha=0.5)
                pct = cell["size %"].iloc[0] if len(cell) else ""
                cap_text = "" if not np.isfinite(cap) or cap < hi_x else f", cell cap {cap:.2f}"
                ax.set_title(f"{table}, m = {m}" + (f" ({pct} %)" if pct else "") + cap_text)
                ax.set_yticks(range(len(methods)), methods)
                ax.set_ylim(-0.6, len(methods) - 0.4)
                ax.set_xlim(lo_x, hi_x)
                ax.invert_yaxis()
                if i == len(tables) - 1:
                    ax.set_xlabel("fairest undetected DI")
        k = int(sub["k"].nunique())
        from matplotlib.lines import Line2D  # with the figure: import cost

        handles = [Line2D([], [], marker="o", linestyle="", color="grey", label=f"our {k} replicates"),
                   Line2D([], [], color="grey", linewidth=5, alpha=0.35, label="our 10–90 % range"),
                   Line2D([], [], color="black", marker="|", linestyle="", markersize=10, label="our median"),
                   Line2D([], [], marker="D", linestyle="", color="black", label="the paper"),
                   Line2D([], [], color="grey", linestyle=":", label="cell cap (shared thresholds)"),
                   Line2D([], [], marker="x", linestyle="", color="grey", label="– : nothing undetected")]
        fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=7, bbox_to_anchor=(0.5, 0.0))
        below = "" if COMPLIANCE_THRESHOLD < hi_x else f" (all below the {COMPLIANCE_THRESHOLD:g} threshold)"
        fig.suptitle(f"{dataset}: fairest undetected DI over {k} seeds, beside the paper{below}")
        fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig
