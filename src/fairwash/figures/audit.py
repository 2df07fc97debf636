"""Figures of the audit protocol: Fig. 8 (sample size), Fig. 9 (tries before acceptance), Fig. 11."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from fairwash.catalogue import COMPLIANCE_THRESHOLD, TESTS
from fairwash.figures.style import figure_style, jitter, legend_handles, method_style, new_figure, ordered

__all__ = ["plot_sample_size", "plot_detection_tries", "plot_fairest_tries"]


# ----------------------------------------------------------------------------- Fig. 8
def plot_sample_size(study: pd.DataFrame, *, target: float = COMPLIANCE_THRESHOLD,
                     original_di: Mapping[str, float] | None = None) -> Any:
    """Fig. 8 (Appendix 0.J): the fairest undetected DI against the audit sample size.

    One panel per data set, one line per method: the highest DI of a sample that
    passed all seven tests, at each sample size (percent of the audited set, with the
    number of rows ``m`` on the top axis).  The dashed line is the compliance threshold
    ``target``; the dotted line the audited model's original DI, which an honest
    sample estimates.  A size at which no undetected sample beat the original DI is
    a cross on the dotted line.

    Parameters
    ----------
    study : DataFrame
        ``results/audit/{ds}/sample_size.parquet`` rows: ``dataset``, ``method``,
        ``fraction``, ``m``, ``fairest_di`` (NaN: none found).
    target : float, default 0.8
    original_di : mapping data set -> float, optional
        The original DI per data set (``DI model`` of ``results/tables/datasets.csv``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    for col in ("dataset", "method", "fraction", "m", "fairest_di"):
        if col not in study:
            raise KeyError(f"the sample-size frame has no column {col!r}; columns: {list(study.columns)}")
    names = list(dict.fromkeys(study["dataset"]))
    original_di = dict(original_di or {})
    with figure_style():
        fig, axes = new_figure(1, len(names), figsize=(5.6 * len(names) + 1.6, 4.3))
        methods_seen: list[str] = []
        for ax, ds in zip(axes[0], names, strict=True):
            part = study[study["dataset"] == ds]
            methods_seen += _sample_size_panel(ax, part, ds, original_di.get(ds), target)
        fig.legend(handles=legend_handles(ordered(methods_seen)), loc="center right", frameon=False,
                   title="method\n(×: none above\nthe original DI)")
        fig.suptitle("Fig. 8. Fairest undetected DI against the audit sample size")
        fig.tight_layout(rect=(0, 0, 1 - 1.5 / fig.get_figwidth(), 1))
    return fig


def _sample_size_panel(ax: Any, part: pd.DataFrame, ds: str, di0: float | None, target: float) -> list[str]:
    """One data set's panel of Fig. 8; returns the methods drawn, in order."""
    methods_seen: list[str] = []
    for method, g in part.groupby("method", sort=False):
        g = g.sort_values("fraction")
        st = method_style(str(method))
        methods_seen.append(str(method))
        x = 100 * g["fraction"].to_numpy(np.float64)
        y = g["fairest_di"].to_numpy(np.float64)
        ax.plot(x, y, **st.line())
        missing = ~np.isfinite(y)
        if missing.any() and di0 is not None:
            ax.plot(x[missing], np.full(missing.sum(), di0), linestyle="none", marker="x",
                    color=st.colour, ms=7, mew=1.5)
    ax.axhline(target, color="k", ls="--", lw=1)
    ax.text(0.99, target, f"compliance DI = {target:g}", transform=ax.get_yaxis_transform(),
            ha="right", va="bottom", fontsize=8)
    if di0 is not None:
        ax.axhline(di0, color="0.35", ls=":", lw=1.2)
        ax.text(0.99, di0, f"original DI = {di0:.2f}", transform=ax.get_yaxis_transform(),
                ha="right", va="bottom", fontsize=8, color="0.25")
    ax.set_xlabel("audit sample size (% of the audited set)")
    ax.set_ylabel("fairest undetected DI")
    ax.set_ylim(0, 1.05)
    ax.set_xlim(left=0)
    sizes = part.drop_duplicates("fraction").sort_values("fraction")
    top = ax.twiny()
    top.set_xlim(ax.get_xlim())
    top.set_xticks(100 * sizes["fraction"].to_numpy(np.float64))
    top.set_xticklabels([f"{int(m)}" for m in sizes["m"]], fontsize=7)
    top.set_xlabel("m (rows in the sample)", fontsize=8)
    top.grid(False)
    ax.set_title(f"{ds}: highest DI passing all 7 tests", pad=4)
    return methods_seen


# ----------------------------------------------------------------------------- Figs. 9 and 11
def plot_detection_tries(tries: pd.DataFrame, *, dataset: str) -> Any:
    """Fig. 9 (Appendix 0.N.1): probability that every one of ``k`` tries is rejected.

    Rows: audit sample sizes ``m``; columns: the seven tests and the whole battery
    (rejected by at least one test).  One line per method: at ``k`` tries, the chance
    that all ``k`` samples an auditee draws from the method's distribution are
    rejected.  A line that stays at 1 means the test caught every sample; a line that
    falls fast means the auditee soon finds a sample that passes.  Lines that would
    coincide (e.g. several methods always rejected) are offset by a hair.

    Parameters
    ----------
    tries : DataFrame
        :func:`detection_tries` output for one data set.
    dataset : str
        Its name (title).

    Returns
    -------
    matplotlib.figure.Figure
    """
    tests = [t for t in (*TESTS, "any") if t in set(tries["test"])]
    sizes = sorted(int(m) for m in tries["m"].unique())
    methods = ordered(list(dict.fromkeys(tries["method"])))
    with figure_style():
        size = (2.05 * len(tests) + 1.7, 2.3 * len(sizes) + 0.7)
        fig, axes = new_figure(len(sizes), len(tests), figsize=size, sharex=True, sharey=True)
        for r, m in enumerate(sizes):
            for c, test in enumerate(tests):
                ax = axes[r, c]
                part = tries[(tries["m"] == m) & (tries["test"] == test)]
                for j, method in enumerate(methods):
                    g = part[part["method"] == method].sort_values("k")
                    if g.empty:
                        continue
                    st = method_style(method)
                    ax.plot(g["k"], g["p_all_rejected"] + jitter(j, len(methods)), color=st.colour,
                            linestyle=st.linestyle, marker=st.marker, ms=3, lw=1.2)
                ax.set_ylim(-0.05, 1.05)
                if r == 0:
                    ax.set_title("battery (any test)" if test == "any" else test,
                                 fontweight="bold" if test == "any" else "normal")
                if r == len(sizes) - 1:
                    ax.set_xlabel("tries k (samples drawn)")
                if c == 0:
                    ax.set_ylabel(f"m = {m}\nP(all k rejected)")
        kmax = int(tries["k"].max())
        for ax in axes.flat:
            ax.set_xlim(0.5, kmax + 0.5)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=4))
        fig.legend(handles=legend_handles(methods), loc="center right", frameon=False, title="method")
        fig.suptitle(f"Fig. 9. {dataset}: probability that every one of k audit samples drawn from the "
                     f"method's distribution is rejected (per test, 95 % level)")
        fig.tight_layout(rect=(0, 0, 1 - 1.5 / fig.get_figwidth(), 1))
    return fig


def plot_fairest_tries(tries: pd.DataFrame, *, dataset: str, sizes: Sequence[int] | None = None,
                       methods: Sequence[str] | None = None, not_run: Sequence[str] = ()) -> Any:
    """Fig. 11 (Appendix 0.N.2): tries needed to find the fairest undetected sample.

    One panel per sample size ``m``, one line per method: the probability that ``k``
    samples drawn at the fairest level (Table 3) hold no sample that is both above
    the level and undetected by the seven tests.  The marker on the 0.5 line is the
    median number of tries; the legend gives the level and the share of passing
    samples.

    Parameters
    ----------
    tries : DataFrame
        :func:`fairest_tries` output for one data set (may be empty).
    dataset : str
    sizes : sequence of int, optional
        Panels to draw (default: the sizes in ``tries``); a size without any found
        sample gets an empty panel saying so.
    methods : sequence of str, optional
        Every method searched.  Those without a line in a panel are named in its legend
        ("no undetected sample"), so a missing line is never mistaken for a dropped one.
    not_run : sequence of str, default ()
        Methods that could not run at all (e.g. Grad without a model), named as such.

    Returns
    -------
    matplotlib.figure.Figure
    """
    sizes = sorted({int(m) for m in tries["m"]} if sizes is None else {int(m) for m in sizes}) or [0]
    drawn = ordered(list(dict.fromkeys(tries["method"])))
    with figure_style():
        fig, axes = new_figure(1, len(sizes), figsize=(5.0 * len(sizes) + 0.4, 4.2), sharey=True)
        for ax, m in zip(axes[0], sizes, strict=True):
            _fairest_panel(ax, tries[tries["m"] == m], m, drawn, methods, not_run)
        axes[0, 0].set_ylabel("P(no undetected sample above the level in k tries)")
        fig.suptitle(f"Fig. 11. {dataset}: how many tries the fairest undetected sample takes "
                     f"(large marker: median tries)")
        fig.tight_layout()
    return fig


def _fairest_panel(ax: Any, part: pd.DataFrame, m: int, drawn: Sequence[str], methods: Sequence[str] | None,
                   not_run: Sequence[str]) -> None:
    """One sample size's panel of Fig. 11: a line per method drawn, the others named in the legend."""
    for j, method in enumerate(drawn):
        g = part[part["method"] == method].sort_values("k")
        if g.empty:
            continue
        st = method_style(method)
        first = g.iloc[0]
        label = (f"{method}: DI > {first['level']:.2f}, "
                 f"{int(first['n_passed'])}/{int(first['n'])} pass")
        ax.plot(g["k"], g["p_none"] + jitter(j, len(drawn)), label=label, color=st.colour,
                linestyle=st.linestyle, marker=st.marker, ms=3.5, lw=1.3)
        med = first["median_tries"]
        if np.isfinite(med):
            ax.plot([med], [0.5], marker=st.marker, color=st.colour, ms=9, mec="k", mew=0.8,
                    linestyle="none")
    ax.axhline(0.5, color="0.4", ls=":", lw=0.8)
    ax.set_ylim(-0.05, 1.05)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("tries k (samples drawn at the fairest level)")
    ax.set_title(f"m = {m}" if m else "no sample size")
    shown = set(part["method"])
    none_found = [me for me in ordered(list(methods or [])) if me not in shown and me not in not_run]
    notes = [f"no undetected sample: {', '.join(none_found)}"] if none_found and len(part) else []
    notes += [f"not run: {', '.join(ordered(list(not_run)))}"] if not_run else []
    if part.empty:
        ax.text(0.5, 0.5, "\n".join(["no method found an undetected\nsample above the original DI",
                                     *notes]),
                transform=ax.transAxes, ha="center", va="center", fontsize=9, color="0.3")
    else:
        for note in notes:  # named in the legend, without a line
            ax.plot([], [], linestyle="none", label=note)
        ax.legend(loc="upper right", fontsize=7)
