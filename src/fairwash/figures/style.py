"""The one style of every figure of the project: colours, markers, ``rcParams``, saving.

* :data:`METHOD_STYLES` gives each fairwashing method one colour, one marker and one
  line style, used by every figure (and by nothing else), so a method reads the same
  in the radar chart, the trade-off scatter and the curves;
* :data:`GROUP_COLOURS` colours the two groups S = 0 / S = 1 (the counterfactual
  figures use it too);
* :func:`figure_style` is the shared ``rcParams`` context (font sizes, grid);
* :func:`new_figure` builds a figure without pyplot (no global state, no GUI backend) and
  :func:`save_figure` writes it reproducibly.

The group colours, ``rcParams``, :func:`figure_style`, :func:`new_figure` and
:func:`save_figure` live in :mod:`fairwash.plotting` (the leaf every figure of the project,
the twin audit's included, imports) and are re-exported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from matplotlib.lines import Line2D

from fairwash.plotting import DPI, GROUP_COLOURS, RC, figure_style, new_figure, save_figure

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

