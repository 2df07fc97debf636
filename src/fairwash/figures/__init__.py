"""The paper's figures, drawn from the pipeline's cached results (Figs. 4, 7, 8, 9, 11).

Every function takes plain frames (read from ``results/``) and returns a
:class:`matplotlib.figure.Figure` built without pyplot (no global state, no GUI
backend); :func:`save_figure` writes it atomically as PNG and PDF with the
metadata that would change between runs removed, so the same input gives the
same bytes.

The modules:

=====================================  =============================================
:mod:`~fairwash.figures.style`         the one style: method colours and markers, group
                                       colours, ``rcParams``, :func:`save_figure` (a leaf)
:mod:`~fairwash.figures.shift`         Fig. 4 (radar), the trade-off, Fig. 7
:mod:`~fairwash.figures.tries`         the data of Figs. 9 and 11 (tries an auditee needs)
:mod:`~fairwash.figures.audit`         Figs. 8, 9, 11
=====================================  =============================================

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

from fairwash.catalogue import TESTS
from fairwash.figures.audit import plot_detection_tries, plot_fairest_tries, plot_sample_size
from fairwash.figures.shift import INF_RADIUS, SHIFT_AXES, plot_shift_curve, plot_shift_radar, plot_tradeoff
from fairwash.figures.style import (
    DPI,
    GROUP_COLOURS,
    METHOD_STYLES,
    RC,
    MethodStyle,
    figure_style,
    method_style,
    new_figure,
    save_figure,
)
from fairwash.figures.tries import (
    all_fail_curve,
    detection_frame,
    detection_tries,
    fairest_tries,
    read_fairest,
)

__all__ = [
    "MethodStyle",
    "METHOD_STYLES",
    "GROUP_COLOURS",
    "RC",
    "DPI",
    "TESTS",
    "method_style",
    "figure_style",
    "new_figure",
    "save_figure",
    "SHIFT_AXES",
    "INF_RADIUS",
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
