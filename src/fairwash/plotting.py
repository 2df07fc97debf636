"""The lower floor of every figure: the shared style, the group colours, the reproducible save.

Figures of any part of fairwash (the paper's figures in :mod:`fairwash.figures`, the
twin audit's in :mod:`fairwash.twins.figures`) import these from here, downward, so
that a figure module never imports another one.

* :data:`GROUP_COLOURS` colours the two groups S = 0 / S = 1;
* :data:`RC` and :func:`figure_style` are the shared ``rcParams`` (font sizes, grid);
* :func:`new_figure` builds a :class:`~matplotlib.figure.Figure` without pyplot;
* :func:`save_figure` writes it atomically as PNG (and PDF) with the metadata that
  would change between runs removed, so the same figure gives the same bytes.

matplotlib is imported inside the functions: importing this module (and every module
that imports it for the constants) costs no matplotlib start-up.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fairwash.io import atomic_path

__all__ = ["GROUP_COLOURS", "RC", "DPI", "figure_style", "new_figure", "save_figure"]

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


@contextmanager
def figure_style() -> Iterator[None]:
    """The shared ``rcParams`` (:data:`RC`) for the duration of the block."""
    import matplotlib  # matplotlib only when a figure is drawn: import cost

    with matplotlib.rc_context(RC):
        yield


def new_figure(nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float],
               **kwargs: Any) -> tuple[Any, Any]:
    """A :class:`~matplotlib.figure.Figure` and its axes grid (2-D array), without pyplot."""
    from matplotlib.figure import Figure  # matplotlib only when a figure is drawn: import cost

    fig = Figure(figsize=figsize)
    axes = fig.subplots(nrows, ncols, squeeze=False, **kwargs)
    return fig, axes


def save_figure(fig: Any, png: str | Path, pdf: str | Path | None = None, *, dpi: int = DPI) -> list[Path]:
    """Write ``fig`` atomically as PNG (and PDF), reproducibly.

    The PNG carries no ``Software`` tag and the PDF no ``CreationDate``, so the same
    figure gives the same bytes on every run.  Each file goes to a temporary name in
    its folder and is renamed into place: an interrupted run never leaves half a file.

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
