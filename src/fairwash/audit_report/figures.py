"""The report's figures (matplotlib, Agg), returned as inline PNG data URIs.

Each figure is drawn, saved without a timestamp (same inputs -> same bytes) and closed.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["data_uri", "reference_histogram", "di_law_figure", "cells_figure"]

_SIZE = (9.0, 3.6)
_OBS, _THR, _FULL = "#c62828", "#1565c0", "#555555"


def data_uri(fig: plt.Figure) -> str:
    """``fig`` as a ``data:image/png;base64,...`` URI (no metadata: reproducible bytes); closes it."""
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=100, metadata={"Software": None}, bbox_inches="tight")
    finally:
        plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _style(ax: plt.Axes) -> None:
    ax.tick_params(labelsize=11)
    ax.spines[["top", "right"]].set_visible(False)


def _mark(ax: plt.Axes, x: float, right: float, color: str, label: str, style: str) -> None:
    """A vertical line at ``x``, or an arrow at the right edge ``right`` when ``x`` is infinite."""
    if math.isinf(x):
        ax.annotate(f"{label} = ∞", xy=(right, 0.0), xycoords=("data", "axes fraction"),
                    xytext=(right, 0.55), textcoords=("data", "axes fraction"), color=color, fontsize=11,
                    ha="right", arrowprops={"arrowstyle": "->", "color": color, "lw": 2})
        ax.plot([], [], color=color, lw=2.5, ls=style, label=f"{label} = ∞")
    else:
        ax.axvline(x, color=color, lw=2.5, ls=style, label=f"{label} = {x:.4g}")


def reference_histogram(name: str, draws: Sequence[float], threshold: float, observed: float) -> str:
    """The honest draws of one test's statistic, its threshold and the sample's value."""
    d = np.asarray(draws, dtype=float)
    d = d[np.isfinite(d)]
    fig, ax = plt.subplots(figsize=_SIZE)
    finite = [v for v in (threshold, observed) if math.isfinite(v)]
    lo = min([*d.tolist(), *finite]) if d.size or finite else 0.0
    hi = max([*d.tolist(), *finite]) if d.size or finite else 1.0
    pad = 0.05 * (hi - lo) if hi > lo else 0.5 * max(abs(hi), 1e-12)
    # bins over the draws alone: a far observed value widens the axis, not the bins
    d_lo, d_hi = (float(d.min()), float(d.max())) if d.size else (lo, hi)
    half = 0.03 * (hi - lo + 2 * pad) if d_hi == d_lo else 0.0  # all draws equal: one visible bar
    ax.hist(d, bins=min(30, max(8, d.size // 3)), range=(d_lo - half, d_hi + half), color="#9e9e9e",
            edgecolor="white", label=f"{d.size} honest samples")
    ax.set_xlim(lo - pad, hi + pad)
    if math.isfinite(threshold):
        _mark(ax, threshold, hi + pad, _THR, "threshold", "--")
    _mark(ax, observed, hi + pad, _OBS, "sample", "-")
    ax.set_title(f"{name}: honest reference distribution of the statistic", fontsize=13)
    ax.set_xlabel(f"{name} statistic", fontsize=12)
    ax.set_ylabel("honest samples", fontsize=12)
    ax.legend(fontsize=11, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    _style(ax)
    return data_uri(fig)


def di_law_figure(edges: np.ndarray, probs: np.ndarray, observed: float | None, cap: float, di_full: float,
                  tau: float) -> str:
    """The exact honest law of the DI (bin probabilities), with the sample's DI (``None``: no sample),
    the cap and ``tau``."""
    fig, ax = plt.subplots(figsize=_SIZE)
    ax.bar(edges[:-1], probs, width=np.diff(edges), align="edge", color="#9e9e9e", edgecolor="white",
           label="honest samples (exact)")
    right = float(edges[-1])
    _mark(ax, cap, right, _THR, "cap", "--")
    _mark(ax, di_full, right, _FULL, "full data", ":")
    ax.axvline(tau, color="#ef6c00", lw=1.5, ls="-.", label=f"threshold {tau:g}")
    if observed is None:
        pass  # no sample: the law alone (fairwash risk)
    elif math.isnan(observed):
        ax.plot([], [], color=_OBS, lw=2.5, label="sample: DI undefined")
    else:
        _mark(ax, min(observed, right) if math.isfinite(observed) else observed, right, _OBS, "sample", "-")
    ax.set_xlim(float(edges[0]), right)
    ax.set_title("DI test: exact law of an honest sample's DI", fontsize=13)
    ax.set_xlabel("Disparate Impact of a sample of this size", fontsize=12)
    ax.set_ylabel("probability", fontsize=12)
    ax.legend(fontsize=11, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    _style(ax)
    return data_uri(fig)


def cells_figure(sample: Sequence[int], full: Sequence[int]) -> str:
    """The shares of the four (s, ŷ) cells in the sample beside the full data's."""
    s, f = np.asarray(sample, float), np.asarray(full, float)
    s, f = s / max(s.sum(), 1), f / max(f.sum(), 1)
    labels = ["S=0, Ŷ=0", "S=0, Ŷ=1", "S=1, Ŷ=0", "S=1, Ŷ=1"]
    x = np.arange(4)
    fig, ax = plt.subplots(figsize=_SIZE)
    ax.bar(x - 0.2, 100 * s, 0.4, color=_OBS, label="sample")
    ax.bar(x + 0.2, 100 * f, 0.4, color="#9e9e9e", label="full data")
    ax.set_xticks(x, labels, fontsize=12)
    ax.set_ylabel("share of rows (%)", fontsize=12)
    ax.set_title("The four (s, ŷ) cells: sample against full data", fontsize=13)
    ax.legend(fontsize=11, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    _style(ax)
    return data_uri(fig)
