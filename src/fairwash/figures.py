"""The paper's figures, drawn from the pipeline's cached results (Figs. 4, 7, 8, 9, 11).

Every function takes plain frames (read from ``results/``) and returns a
:class:`matplotlib.figure.Figure` built without pyplot (no global state, no GUI
backend); :func:`save_figure` writes it atomically as PNG and PDF with the
metadata that would change between runs removed, so the same input gives the
same bytes.

One style for every figure of the project:

* :data:`METHOD_STYLES` gives each fairwashing method one colour, one marker and one
  line style, used by every figure (and by nothing else), so a method reads the same
  in the radar chart, the trade-off scatter and the curves;
* :data:`GROUP_COLOURS` colours the two groups S = 0 / S = 1 (the counterfactual
  figures use it too);
* :func:`figure_style` is the shared ``rcParams`` context (font sizes, grid).

The figures:

=====================================  =============================================
:func:`plot_shift_radar`               Fig. 4: W and KL of each method, whole and per group
:func:`plot_tradeoff`                  DI improvement against W shift
:func:`plot_shift_curve`               Fig. 7: shift against the original DI (simulated)
:func:`plot_sample_size`               Fig. 8: fairest undetected DI against sample size
:func:`plot_detection_tries`           Fig. 9: P(every try rejected) per test
:func:`plot_fairest_tries`             Fig. 11: P(no undetected fair sample in k tries)
=====================================  =============================================
"""

from __future__ import annotations

import json
import math
import textwrap
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairwash.catalogue import COMPLIANCE_THRESHOLD, TESTS
from fairwash.io import atomic_path

__all__ = [
    "MethodStyle",
    "METHOD_STYLES",
    "GROUP_COLOURS",
    "RC",
    "DPI",
    "method_style",
    "figure_style",
    "new_figure",
    "save_figure",
    "SHIFT_AXES",
    "plot_shift_radar",
    "plot_tradeoff",
    "plot_shift_curve",
    "plot_sample_size",
    "all_fail_curve",
    "detection_frame",
    "detection_tries",
    "plot_detection_tries",
    "fairest_tries",
    "read_fairest",
    "plot_fairest_tries",
]


# ----------------------------------------------------------------------------- the shared style
@dataclass(frozen=True)
class MethodStyle:
    """How one method is drawn in every figure."""

    colour: str
    marker: str
    linestyle: str = "-"

    def line(self) -> dict[str, Any]:
        """Keyword arguments for ``Axes.plot``."""
        return {"color": self.colour, "marker": self.marker, "linestyle": self.linestyle}


#: One colour, marker and line style per method of :data:`fairwash.manipulate.METHODS`.
#: The four Grad variants (which move points through the model) are dashed; the
#: methods that reweight or relabel existing rows are solid.
METHOD_STYLES: dict[str, MethodStyle] = {
    "Grad_p": MethodStyle("#1f77b4", "v", "--"),
    "Grad_b": MethodStyle("#17becf", "^", "--"),
    "Grad_p_1D": MethodStyle("#9467bd", "<", "--"),
    "Grad_b_1D": MethodStyle("#e377c2", ">", "--"),
    "Replace": MethodStyle("#ff7f0e", "s"),
    "Entropic_b": MethodStyle("#2ca02c", "o"),
    "Entropic_p": MethodStyle("#bcbd22", "D"),
    "Matching": MethodStyle("#d62728", "P"),
    "SBS": MethodStyle("#8c564b", "X"),
    "Matching_EoO": MethodStyle("#7f7f7f", "*"),
}

#: Colour of the group S = 0 (disadvantaged) and S = 1, in every figure that splits by group.
GROUP_COLOURS: dict[int, str] = {0: "tab:red", 1: "tab:blue"}

#: The ``rcParams`` of every figure.
RC: dict[str, Any] = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "figure.titlesize": 11,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "lines.linewidth": 1.5,
    "lines.markersize": 5,
    "legend.framealpha": 0.9,
}

#: Resolution of every PNG.
DPI = 150


def method_style(method: str) -> MethodStyle:
    """The style of ``method`` (a name of :data:`METHOD_STYLES`).

    Raises
    ------
    KeyError
        Unknown method, naming the known ones.
    """
    try:
        return METHOD_STYLES[method]
    except KeyError:
        raise KeyError(f"no style for method {method!r}; known methods: {list(METHOD_STYLES)}") from None


@contextmanager
def figure_style() -> Iterator[None]:
    """The shared ``rcParams`` (:data:`RC`) for the duration of the block."""
    import matplotlib

    with matplotlib.rc_context(RC):
        yield


def new_figure(nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float],
               **kwargs: Any) -> tuple[Any, Any]:
    """A :class:`~matplotlib.figure.Figure` and its axes grid (2-D array), without pyplot."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    axes = fig.subplots(nrows, ncols, squeeze=False, **kwargs)
    return fig, axes


def save_figure(fig: Any, png: str | Path, pdf: str | Path | None = None, *, dpi: int = DPI) -> list[Path]:
    """Write ``fig`` atomically as PNG (and PDF), reproducibly.

    The PNG carries no ``Software`` tag and the PDF no ``CreationDate``, so the same
    figure gives the same bytes on every run (the only metadata left are fixed
    strings).  Each file goes to a temporary name in its folder and is renamed into
    place: an interrupted run never leaves half a file.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    png : path
        The PNG to write.
    pdf : path, optional
        The PDF to write as well.
    dpi : int, default :data:`DPI`

    Returns
    -------
    list of Path
        The files written, PNG first.
    """
    written = []
    for path, fmt, metadata in ((png, "png", {"Software": None}), (pdf, "pdf", {"CreationDate": None})):
        if path is None:
            continue
        path = Path(path)
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format=fmt, dpi=dpi, metadata=metadata)
        written.append(path)
    return written


def _legend_handles(methods: Sequence[str]) -> list[Any]:
    from matplotlib.lines import Line2D

    return [Line2D([], [], label=m, **method_style(m).line()) for m in methods]


def _ordered(methods: Sequence[str]) -> list[str]:
    """``methods`` in the order of :data:`METHOD_STYLES` (the paper's column order), unknown last."""
    known = [m for m in METHOD_STYLES if m in set(methods)]
    return known + sorted(set(methods) - set(known))


# ----------------------------------------------------------------------------- Fig. 4: radar
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
    k = len(SHIFT_AXES)
    angles = np.linspace(0.0, 2 * np.pi, k, endpoint=False)
    closed = np.r_[angles, angles[:1]]
    with figure_style():
        width = max(4.2 * ncols, 10.0)
        fig, axes = new_figure(nrows, ncols, figsize=(width, 3.5 * nrows + 1.6),
                               subplot_kw={"projection": "polar"})
        methods_seen: list[str] = []
        for ax, ds in _panels(axes, names):
            part = shift[shift["data set"] == ds]
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
        per_row = max(1, min(len(set(methods_seen)), int(width / 1.45)))
        fig.legend(handles=_legend_handles(_ordered(methods_seen)), loc="lower center", ncol=per_row,
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
    return fig


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
        fig.legend(handles=_legend_handles(_ordered(methods_seen)), loc="center right", frameon=False,
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
    methods = _ordered(list(dict.fromkeys(curve["method"])))
    kl = curve["KL"].to_numpy(np.float64)
    finite_kl = kl[np.isfinite(kl)]
    top = float(finite_kl.max()) if finite_kl.size else 1.0
    top = top if top > 0 else 1.0
    # one row per method with an infinite KL, above the finite values, so that no cross hides another
    is_inf = np.isinf(kl)
    inf_methods = [m for m in methods if is_inf[(curve["method"] == m).to_numpy()].any()]
    inf_row = {m: top * (1.2 + 0.08 * j) for j, m in enumerate(inf_methods)}
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
        if inf_methods:
            ax_kl.set_ylim(0, top * (1.2 + 0.08 * len(inf_methods)))
            ax_kl.axhline(top * 1.12, color="0.5", ls=":", lw=0.8)
            ticks = [float(t) for t in ax_kl.get_yticks() if 0 <= t <= top * 1.1]
            band = float(np.mean(list(inf_row.values())))
            ax_kl.set_yticks([*ticks, band])
            ax_kl.set_yticklabels([f"{t:g}" for t in ticks] + ["∞ (×)"])
        else:
            ax_kl.set_ylim(bottom=0)
        n_sets = curve["di_original"].nunique()
        fig.legend(handles=_legend_handles(methods), loc="center right", frameon=False, title="method")
        fig.suptitle(f"Fig. 7. Simulated data ({n_sets} data sets): exact shift of each attack's "
                     f"distribution from the original, to reach DI = {target:g}")
        fig.tight_layout(rect=(0, 0, 1 - 1.4 / fig.get_figwidth(), 1))
    return fig


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
            di0 = original_di.get(ds)
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
        fig.legend(handles=_legend_handles(_ordered(methods_seen)), loc="center right", frameon=False,
                   title="method\n(×: none above\nthe original DI)")
        fig.suptitle("Fig. 8. Fairest undetected DI against the audit sample size")
        fig.tight_layout(rect=(0, 0, 1 - 1.5 / fig.get_figwidth(), 1))
    return fig


# ----------------------------------------------------------------------------- Figs. 9 and 11
def all_fail_curve(n: int, n_fail: int, max_tries: int | None = None) -> np.ndarray:
    """P(all of ``k`` tries fail) for ``k = 1 … max_tries``, from ``n_fail`` failures in ``n`` recorded tries.

    The ``k`` tries are ``k`` of the ``n`` recorded samples taken in random order
    (without replacement), so the probability is hypergeometric:

    .. math:: \\hat P_k = \\binom{n_{\\mathrm{fail}}}{k} \\Big/ \\binom{n}{k}
              = \\prod_{i=0}^{k-1} \\frac{n_{\\mathrm{fail}} - i}{n - i},

    the unbiased estimate of :math:`p^k` for independent tries failing with
    probability ``p`` (a U-statistic); it is 0 once ``k > n_fail``.

    Parameters
    ----------
    n : int, >= 1
        Recorded tries.
    n_fail : int, 0 <= n_fail <= n
    max_tries : int, optional
        At most ``n`` (default ``n``).

    Returns
    -------
    ndarray, shape (max_tries,)

    Examples
    --------
    >>> all_fail_curve(4, 2).tolist()
    [0.5, 0.16666666666666666, 0.0, 0.0]
    """
    n, n_fail = int(n), int(n_fail)
    if n < 1 or not 0 <= n_fail <= n:
        raise ValueError(f"need n >= 1 and 0 <= n_fail <= n, got n={n}, n_fail={n_fail}")
    kmax = n if max_tries is None else int(max_tries)
    if not 1 <= kmax <= n:
        raise ValueError(f"max_tries must lie in [1, n={n}], got {max_tries}")
    i = np.arange(kmax, dtype=np.float64)
    return np.cumprod(np.clip(n_fail - i, 0.0, None) / (n - i))


def detection_frame(paths: Mapping[tuple[str, int], str | Path]) -> pd.DataFrame:
    """The per-sample battery verdicts of one data set (Table 2 samples), stacked.

    Parameters
    ----------
    paths : mapping (method, m) -> ``results/audit/{ds}/{method}_m{m}.parquet``

    Returns
    -------
    DataFrame
        The files' rows with ``method`` and ``m`` columns in front.
    """
    frames = []
    for (method, m), path in paths.items():
        f = pd.read_parquet(path)
        f.insert(0, "m", int(m))
        f.insert(0, "method", str(method))
        frames.append(f)
    if not frames:
        raise ValueError("no detection files given")
    return pd.concat(frames, ignore_index=True)


def detection_tries(verdicts: pd.DataFrame, tests: Sequence[str] = TESTS) -> pd.DataFrame:
    """Fig. 9 data: P(each of ``k`` samples is rejected), per method, m and test.

    For each test, and for the battery as a whole (``"any"``: a sample is rejected
    when at least one of ``tests`` rejects it), the probability that an auditee
    drawing ``k`` samples from the method's distribution sees every one rejected
    (:func:`all_fail_curve` on the recorded verdicts).

    Parameters
    ----------
    verdicts : DataFrame
        :func:`detection_frame` output: ``method``, ``m`` and ``{test}_rejected`` columns.

    Returns
    -------
    DataFrame
        Columns ``method``, ``m``, ``test``, ``k``, ``p_all_rejected``, ``n``, ``n_rejected``.
    """
    for t in tests:
        if f"{t}_rejected" not in verdicts:
            raise KeyError(f"the verdicts have no column {t}_rejected; columns: {list(verdicts.columns)}")
    rows = []
    for (method, m), g in verdicts.groupby(["method", "m"], sort=False):
        rej = {t: g[f"{t}_rejected"].to_numpy(bool) for t in tests}
        rej["any"] = np.logical_or.reduce([rej[t] for t in tests])
        n = len(g)
        for test, r in rej.items():
            curve = all_fail_curve(n, int(r.sum()))
            rows.append(pd.DataFrame({"method": method, "m": int(m), "test": test, "k": np.arange(1, n + 1),
                                      "p_all_rejected": curve, "n": n, "n_rejected": int(r.sum())}))
    return pd.concat(rows, ignore_index=True)


def _jitter(index: int, count: int, width: float = 0.012) -> float:
    """A small vertical offset so that curves lying on top of each other stay visible."""
    return (index - (count - 1) / 2) * width / max(count - 1, 1)


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
    from matplotlib.ticker import MaxNLocator

    tests = [t for t in (*TESTS, "any") if t in set(tries["test"])]
    sizes = sorted(int(m) for m in tries["m"].unique())
    methods = _ordered(list(dict.fromkeys(tries["method"])))
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
                    ax.plot(g["k"], g["p_all_rejected"] + _jitter(j, len(methods)), color=st.colour,
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
        fig.legend(handles=_legend_handles(methods), loc="center right", frameon=False, title="method")
        fig.suptitle(f"Fig. 9. {dataset}: probability that every one of k audit samples drawn from the "
                     f"method's distribution is rejected (per test, 95 % level)")
        fig.tight_layout(rect=(0, 0, 1 - 1.5 / fig.get_figwidth(), 1))
    return fig


def fairest_tries(results: Mapping[str, Mapping[str, Any]], *, tests: str = "seven") -> pd.DataFrame:
    """Fig. 11 data: P(no undetected sample above the fairest level within ``k`` tries).

    For each method and sample size ``m``, at the level where the fairest-undetected
    search (Table 3) found its sample, ``n_passed`` of the ``n_samples`` samples drawn
    had a DI above the level and passed every test; an auditee drawing ``k`` samples
    from the same distribution finds none with probability :func:`all_fail_curve`
    ``(n_samples, n_samples − n_passed)``.  Methods that found no undetected sample at
    any level are left out (the table says "–").

    Parameters
    ----------
    results : mapping method -> the parsed ``results/audit/{ds}/fairest_{method}.json``
    tests : {"seven", "ablation"}, default "seven"
        The seven-test search (Table 3) or the no-MMD one (Table 15).

    Returns
    -------
    DataFrame
        Columns ``method``, ``m``, ``level``, ``best_di``, ``n``, ``n_passed``, ``k``,
        ``p_none``, ``median_tries`` (the smallest ``k`` with ``p_none <= 0.5``; NaN
        if none within ``n``).
    """
    rows = []
    for method, res in results.items():
        for m, per in (res.get("sizes") or {}).items():
            r = per.get(tests)
            if not r or r.get("level_found") is None:
                continue
            level = float(r["level_found"])
            found = [lv for lv in r["levels"] if lv.get("status") == "searched"
                     and math.isclose(float(lv["level"]), level)]
            if not found:
                continue
            n = int(r["n_samples"])
            passed = int(found[-1]["n_passed"])
            curve = all_fail_curve(n, n - passed)
            below = np.flatnonzero(curve <= 0.5)
            rows.append(pd.DataFrame({
                "method": str(method), "m": int(m), "level": level, "best_di": r.get("best_di"), "n": n,
                "n_passed": passed, "k": np.arange(1, n + 1), "p_none": curve,
                "median_tries": float(below[0] + 1) if below.size else np.nan}))
    cols = ["method", "m", "level", "best_di", "n", "n_passed", "k", "p_none", "median_tries"]
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=cols)


def read_fairest(paths: Mapping[str, str | Path]) -> dict[str, dict[str, Any]]:
    """``{method: parsed fairest json}`` from ``{method: results/audit/{ds}/fairest_{method}.json}``."""
    return {method: json.loads(Path(p).read_text()) for method, p in paths.items()}


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
    from matplotlib.ticker import MaxNLocator

    sizes = sorted({int(m) for m in tries["m"]} if sizes is None else {int(m) for m in sizes}) or [0]
    drawn = _ordered(list(dict.fromkeys(tries["method"])))
    with figure_style():
        fig, axes = new_figure(1, len(sizes), figsize=(5.0 * len(sizes) + 0.4, 4.2), sharey=True)
        for ax, m in zip(axes[0], sizes, strict=True):
            part = tries[tries["m"] == m]
            for j, method in enumerate(drawn):
                g = part[part["method"] == method].sort_values("k")
                if g.empty:
                    continue
                st = method_style(method)
                first = g.iloc[0]
                label = (f"{method}: DI > {first['level']:.2f}, "
                         f"{int(first['n_passed'])}/{int(first['n'])} pass")
                ax.plot(g["k"], g["p_none"] + _jitter(j, len(drawn)), label=label, color=st.colour,
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
            none_found = [me for me in _ordered(list(methods or [])) if me not in shown and me not in not_run]
            notes = [f"no undetected sample: {', '.join(none_found)}"] if none_found and len(part) else []
            notes += [f"not run: {', '.join(_ordered(list(not_run)))}"] if not_run else []
            if part.empty:
                ax.text(0.5, 0.5, "\n".join(["no method found an undetected\nsample above the original DI",
                                             *notes]),
                        transform=ax.transAxes, ha="center", va="center", fontsize=9, color="0.3")
            else:
                for note in notes:  # named in the legend, without a line
                    ax.plot([], [], linestyle="none", label=note)
                ax.legend(loc="upper right", fontsize=7)
        axes[0, 0].set_ylabel("P(no undetected sample above the level in k tries)")
        fig.suptitle(f"Fig. 11. {dataset}: how many tries the fairest undetected sample takes "
                     f"(large marker: median tries)")
        fig.tight_layout()
    return fig
