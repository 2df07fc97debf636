"""The protocols compared on one data set: false alarms, the cap against ``m``, power (issue 17).

Three panels from the frames of :mod:`fairwash.protocol.compare_summary` and the honest-sample
summaries:

1. honest false alarms per protocol and size, with their exact 95 % intervals, against the
   band a 5 % test stays in;
2. the highest DI an undetected sample can show, against ``m`` (Fig. 8's question answered
   exactly): the optimal protocol's cap, the paper battery's cell cap, each method's fairest
   undetected DI under each, the compliance threshold and the recommended sizes;
3. each protocol's rejection rate of Table 2's samples, per method and size.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from fairwash.catalogue import COMPLIANCE_THRESHOLD
from fairwash.figures.style import figure_style, method_style, new_figure, ordered, save_figure
from fairwash.protocol.compare import PROTOCOLS

__all__ = ["PROTOCOL_COLOURS", "plot_protocols"]

#: One colour per protocol, in every panel.
PROTOCOL_COLOURS: dict[str, str] = {"any": "#d62728", "holm": "#ff7f0e", "minp": "#9467bd",
                                    "optimal": "#2ca02c"}
_SHORT = {"any": "paper (any)", "holm": "paper (Holm)", "minp": "paper (min-P)", "optimal": "optimal"}


def _false_alarms(ax, levels: pd.DataFrame, alpha: float) -> None:
    sizes = sorted(levels["m"].unique())
    kinds = [(pr, ref) for pr in PROTOCOLS for ref in ("cached", "fresh", "none")
             if ((levels["protocol"] == pr) & (levels["reference"] == ref)).any()]
    width = 0.8 / max(len(kinds), 1)
    for k, (pr, ref) in enumerate(kinds):
        sub = levels[(levels["protocol"] == pr) & (levels["reference"] == ref)].set_index("m").reindex(sizes)
        x = np.arange(len(sizes)) + (k - (len(kinds) - 1) / 2) * width
        err = np.vstack([sub["rate"] - sub["lo"], sub["hi"] - sub["rate"]])
        n = int(sub["n"].max())
        ax.bar(x, sub["rate"], width, color=PROTOCOL_COLOURS[pr], alpha=0.45 if ref == "fresh" else 1.0,
               hatch="//" if ref == "fresh" else None, edgecolor="black", linewidth=0.4,
               label=f"{_SHORT[pr]}, {ref} reference (n = {n})" if ref != "none"
               else f"{_SHORT[pr]} (n = {n})")
        ax.errorbar(x, sub["rate"], yerr=err, fmt="none", ecolor="black", capsize=2, linewidth=0.8)
    ax.axhline(alpha, color="black", linewidth=0.9, linestyle=":", label=f"the level asked for, {alpha:g}")
    ax.set_xticks(np.arange(len(sizes)), [f"m = {m}" for m in sizes])
    ax.set_ylabel("honest samples rejected (bars: exact 95 % intervals)")
    ax.set_title("False alarms on honest samples")
    ax.legend(fontsize=6.5, loc="upper right")


def _caps(ax, curve: pd.DataFrame, fairest: pd.DataFrame, recommended: pd.DataFrame, tau: float) -> None:
    for pr in ("any", "optimal"):
        sub = curve[curve["protocol"] == pr].sort_values("m")
        sub = sub[np.isfinite(sub["cap"])]
        if len(sub):
            ax.plot(sub["m"], sub["cap"], color=PROTOCOL_COLOURS[pr], marker="o" if pr == "any" else None,
                    label=f"cap, {_SHORT[pr]}", linewidth=2 if pr == "optimal" else 1.5)
    for method in ordered(fairest["method"].unique()):
        st = method_style(method)
        for pr, face in (("any", st.colour), ("optimal", "none")):
            sub = fairest[(fairest["method"] == method) & (fairest["protocol"] == pr)]
            sub = sub.dropna(subset=["best_di"])
            if len(sub):
                ax.scatter(sub["m"], sub["best_di"], marker=st.marker, s=28, facecolors=face,
                           edgecolors=st.colour, zorder=3,
                           label=f"{method} ({'filled: paper' if pr == 'any' else 'hollow: optimal'})")
    ax.axhline(tau, color="black", linestyle="--", linewidth=0.9, label=f"compliance threshold {tau:g}")
    for rec in recommended.to_dict("records"):
        if rec["m_high"] is not None and not pd.isna(rec["m_high"]):
            ax.axvline(rec["m_high"], color=PROTOCOL_COLOURS[rec["protocol"]], linestyle=":", linewidth=1,
                       label=f"recommended m, {_SHORT[rec['protocol']]}: "
                             f"{'' if rec['exact'] else '<= '}{int(rec['m_high'])}")
    ax.set_xscale("log")
    ax.set_xlabel("sample size m")
    ax.set_ylabel("highest undetected DI")
    ax.set_title("How much DI can be faked undetected")
    ax.legend(fontsize=6, loc="upper right", ncol=1)


def _power(ax, power: pd.DataFrame, tau: float) -> None:
    combos = [(me, m) for me in ordered(power["method"].unique()) for m in sorted(power["m"].unique())
              if ((power["method"] == me) & (power["m"] == m)).any()]
    protocols = [p for p in PROTOCOLS if (power["protocol"] == p).any()]
    width = 0.8 / max(len(protocols), 1)
    for k, pr in enumerate(protocols):
        sub = power[power["protocol"] == pr].set_index(["method", "m"]).reindex(combos)
        x = np.arange(len(combos)) + (k - (len(protocols) - 1) / 2) * width
        ax.bar(x, sub["rate"], width, color=PROTOCOL_COLOURS[pr], label=_SHORT[pr])
    ax.set_xticks(np.arange(len(combos)), [f"{me}\nm={m}" for me, m in combos], rotation=90, fontsize=6)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("manipulated samples rejected")
    ax.set_title(f"Power against each attack (Table 2's samples, target DI {tau:g})")
    ax.legend(fontsize=6.5, loc="lower right")


def plot_protocols(dataset: str, levels: pd.DataFrame, curve: pd.DataFrame, fairest: pd.DataFrame,
                   recommended: pd.DataFrame, power: pd.DataFrame, png: str | Path, *,
                   tau: float = COMPLIANCE_THRESHOLD, alpha: float = 0.05,
                   pdf: str | Path | None = None) -> list[Path]:
    """Draw the three panels for ``dataset`` and save them (see the module docstring)."""
    with figure_style():
        fig, axes = new_figure(1, 3, figsize=(17, 5.2), gridspec_kw={"width_ratios": [1, 1.2, 1.5]})
        _false_alarms(axes[0, 0], levels, alpha)
        _caps(axes[0, 1], curve, fairest, recommended, tau)
        if len(power):
            _power(axes[0, 2], power, tau)
        else:
            axes[0, 2].set_axis_off()
        fig.suptitle(f"{dataset}: the paper's battery against the optimal protocol (level {alpha:g})")
        fig.tight_layout()
        return save_figure(fig, png, pdf)

