"""The one style of every figure of the project: colours, markers, ``rcParams``, saving.

* :data:`METHOD_STYLES` gives each fairwashing method one colour, one marker and one
  line style, used by every figure (and by nothing else), so a method reads the same
  in the radar chart, the trade-off scatter and the curves;
* :data:`GROUP_COLOURS` colours the two groups S = 0 / S = 1 (the counterfactual
  figures use it too);
* :func:`figure_style` is the shared ``rcParams`` context (font sizes, grid);
* :func:`new_figure` builds a figure without pyplot (no global state, no GUI backend) and
  :func:`save_figure` writes it reproducibly.

A leaf module: it imports only matplotlib and :mod:`fairwash.io`, so any plotting code of
the project (the twin audit's included) may import it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

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
    "legend_handles",
    "ordered",
    "jitter",
]


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
    with matplotlib.rc_context(RC):
        yield


def new_figure(nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float],
               **kwargs: Any) -> tuple[Any, Any]:
    """A :class:`~matplotlib.figure.Figure` and its axes grid (2-D array), without pyplot."""
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


def legend_handles(methods: Sequence[str]) -> list[Any]:
    """One legend entry per method, in its :func:`method_style`."""
    return [Line2D([], [], label=m, **method_style(m).line()) for m in methods]


def ordered(methods: Sequence[str]) -> list[str]:
    """``methods`` in the order of :data:`METHOD_STYLES` (the paper's column order), unknown last."""
    known = [m for m in METHOD_STYLES if m in set(methods)]
    return known + sorted(set(methods) - set(known))


def jitter(index: int, count: int, width: float = 0.012) -> float:
    """A small vertical offset so that curves lying on top of each other stay visible."""
    return (index - (count - 1) / 2) * width / max(count - 1, 1)

