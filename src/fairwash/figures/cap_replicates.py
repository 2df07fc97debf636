"""Is Table 3 the cell cap plus noise? The cap's spread per (data set, m) beside the paper (issue 21).

One panel per table (Table 3: seven tests; Table 15: without MMD), one row per (data set,
size): the battery's cell cap under each independent set of honest draws as points, their
10–90 % range as a thick bar and their median as a tick, the paper's fairest undetected DI
(max over its methods) as a black diamond (hollow at the left edge for the paper's "–"), and
the optimal protocol's exact cap as a red bar. A cap above the panel's right edge (the cell
tests leave the DI unbounded there, e.g. BAF at 10 %) is drawn as an arrow at the edge with
its value.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from fairwash import paper_values
from fairwash.catalogue import COMPLIANCE_THRESHOLD
from fairwash.plotting import figure_style, new_figure

__all__ = ["plot_cap_replicates"]

#: Right edge of the panels: DIs above it (caps of 1.9 where the cell tests leave room) are clipped.
X_MAX = 1.25


def plot_cap_replicates(values: pd.DataFrame, table: pd.DataFrame):
    """The cap-spread figure.

    Parameters
    ----------
    values : DataFrame
        :func:`fairwash.pipeline.cap_replicates.read_caps` (columns ``data set``, ``m``, ``r``,
        ``quantity``, ``value``).
    table : DataFrame
        :func:`fairwash.pipeline.cap_replicates.caps_table` of ``values``.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if table.empty:
        raise ValueError("no cell cap to draw")
    tables = [t for t in ("Table 3", "Table 15") if (table["table"] == t).any()]
    keys = list(dict.fromkeys(zip(table["data set"], table["m"], strict=True)))
    finite = [x for x in table[["min", "optimal cap"]].to_numpy(float).ravel() if np.isfinite(x)]
    papers = [x for x in (paper_values.as_float(p) for p in table["paper"] if p) if not math.isnan(x)]
    lo_x = max(0.0, min([*finite, *papers, COMPLIANCE_THRESHOLD]) - 0.05)
    with figure_style():
        size = (5.2 * len(tables), 0.42 * len(keys) + 1.8)
        fig, axes = new_figure(1, len(tables), figsize=size, sharey=True)
        for j, which in enumerate(tables):
            ax = axes[0][j]
            for y, (ds, m) in enumerate(keys):
                row = table[(table["data set"] == ds) & (table["m"] == m) & (table["table"] == which)]
                if row.empty:
                    continue
                row = row.iloc[0]
                v = values[(values["data set"] == ds) & (values["m"] == m)
                           & (values["quantity"] == f"cell cap ({which})")]["value"].to_numpy(float)
                shown = np.minimum(v, X_MAX)
                jit = np.linspace(-0.15, 0.15, len(v)) if len(v) > 1 else np.zeros(len(v))
                ax.scatter(shown, y + jit, s=12, color="tab:blue", alpha=0.7, linewidths=0, zorder=3)
                q10, med, q90 = (min(float(row[q]), X_MAX) for q in ("q10", "median", "q90"))
                ax.plot([q10, q90], [y, y], color="tab:blue", linewidth=6, alpha=0.3, solid_capstyle="butt",
                        zorder=2)
                ax.plot([med, med], [y - 0.3, y + 0.3], color="black", linewidth=1.2, zorder=4)
                if float(row["max"]) > X_MAX:
                    span = f"{float(row['min']):.2f}–{float(row['max']):.2f}"
                    ax.annotate(f"caps {span} →", (X_MAX - 0.01, y - 0.22), fontsize=6, ha="right")
                opt = float(row["optimal cap"])
                if np.isfinite(opt):
                    ax.plot([min(opt, X_MAX)] * 2, [y - 0.35, y + 0.35], color="tab:red", linewidth=2,
                            zorder=4)
                paper = str(row["paper"])
                px = paper_values.as_float(paper) if paper else math.nan
                if paper == "–":
                    ax.scatter([lo_x + 0.01], [y], marker="D", s=36, facecolors="none", edgecolors="black",
                               zorder=5)
                elif not math.isnan(px):
                    ax.scatter([min(px, X_MAX)], [y], marker="D", s=36, color="black", zorder=5)
            ax.axvline(COMPLIANCE_THRESHOLD, color="black", linestyle="--", linewidth=0.8, alpha=0.6)
            labels = [f"{ds}, m = {m}" for ds, m in keys]
            ax.set_yticks(range(len(keys)), labels)
            ax.set_ylim(-0.6, len(keys) - 0.4)
            ax.set_xlim(lo_x, X_MAX)
            ax.invert_yaxis()
            ax.set_xlabel("DI")
            ax.set_title(f"{which}: cell cap over independent reference draws")
        from matplotlib.lines import Line2D  # with the figure: import cost

        sets = int(table["sets"].max())
        handles = [Line2D([], [], marker="o", linestyle="", color="tab:blue",
                          label=f"cell cap, {sets} sets of draws"),
                   Line2D([], [], color="tab:blue", linewidth=6, alpha=0.3, label="10–90 % range"),
                   Line2D([], [], color="black", marker="|", linestyle="", markersize=10, label="median"),
                   Line2D([], [], marker="D", linestyle="", color="black", label="the paper's fairest (max)"),
                   Line2D([], [], color="tab:red", linewidth=2, label="optimal protocol's exact cap"),
                   Line2D([], [], color="black", linestyle="--",
                          label=f"compliance {COMPLIANCE_THRESHOLD:g}")]
        fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=7, bbox_to_anchor=(0.5, 0.0))
        fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig
