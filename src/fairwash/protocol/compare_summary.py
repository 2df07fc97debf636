r"""The per-data-set comparison of the protocols: frames for its table and figure (issue 17).

Pure functions over what the pipeline has cached:

* :func:`power_frame` — every protocol's verdict on Table 2's samples (the detection jobs'
  statistics, and their rows drawn again from ``Q`` with the same seed for membership);
* :func:`cap_curve` — the highest undetected DI against ``m``: the optimal protocol's exactly on
  a grid (:func:`fairwash.detect.optimal.optimal_cap`), the paper battery's cell cap
  (:func:`fairwash.detect.cells.cell_di_cap`) at every size with reference thresholds;
* :func:`recommended_sizes` — the smallest ``m`` whose cap is at most the compliance threshold:
  exact for the optimal protocol (:func:`fairwash.detect.dilaw.recommended_sample_size`), a
  bracket from the sizes with thresholds for the paper battery;
* :func:`fairest_frame` — the fairest undetected DI per method, size and protocol from the
  fairest-search outputs (Table 3's set ``seven`` is ``any``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from fairwash.catalogue import TESTS
from fairwash.detect.cells import cell_di_cap
from fairwash.detect.context import BatteryContext
from fairwash.detect.dilaw import recommended_sample_size
from fairwash.detect.optimal import optimal_cap, optimal_check
from fairwash.detect.thresholds import ReferenceThresholds
from fairwash.manipulate import Manipulation
from fairwash.protocol.combine import COMBINE_RULES, combine
from fairwash.protocol.compare import PROTOCOLS, rejection_summary
from fairwash.protocol.samples import draw_samples

__all__ = ["power_frame", "power_summary", "cap_curve", "recommended_sizes", "fairest_frame",
           "FAIREST_SETS"]

#: The fairest search's set name of each protocol (``seven``: Table 3's, the paper's rule).
FAIREST_SETS: dict[str, str] = {"any": "seven", "holm": "holm", "minp": "minp", "optimal": "optimal"}


def power_frame(detection: pd.DataFrame, thresholds: ReferenceThresholds, ctx: BatteryContext,
                manipulation: Manipulation, *, random_state: int,
                tests: Sequence[str] = TESTS) -> pd.DataFrame:
    """Every protocol's verdict on the samples of one Table 2 job (one method, one ``m``).

    ``detection`` is :func:`fairwash.protocol.detection_rates.detection`'s frame, made with
    ``random_state``; its samples are drawn again from ``manipulation`` (the same streams) for
    the optimal protocol's membership check. A battery rule's verdict is ``NA`` on a sample
    whose statistics are not all there (a statistic a lazy job did not compute).

    Returns
    -------
    DataFrame
        ``sample``, ``di``, ``compliant``, ``full_battery`` (the job's seeded subsample with
        every statistic) and ``{protocol}_reject`` (boolean, ``NA`` if unknown).
    """
    m, alpha = thresholds.m, float(round(1.0 - thresholds.level, 12))
    out = detection[["sample", "di", "compliant"]].copy()
    out["full_battery"] = detection["full_battery"].to_numpy(bool) if "full_battery" in detection else True
    if detection.empty:
        for pr in PROTOCOLS:
            out[f"{pr}_reject"] = pd.Series(dtype="boolean")
        return out
    idx = draw_samples(manipulation, m, int(detection["sample"].max()) + 1, random_state, key=(int(m),))
    rows = manipulation.joint()
    verdicts: dict[str, list[Any]] = {pr: [] for pr in PROTOCOLS}
    cal = [t for t in tests if t in thresholds.draws]
    for _, rec in detection.iterrows():
        # the paper's rule is the job's own verdict (a lazy job decides it without every statistic)
        # NA where the job left it undecided (a non-compliant sample passing its cheap tests)
        verdicts["any"].append(pd.NA if pd.isna(rec["passed"]) else not bool(rec["passed"]))
        stats_ = {t: float(rec[f"{t}_stat"]) for t in tests}
        if not any(math.isnan(v) for v in stats_.values()):
            p = {t: thresholds.p_value(t, stats_[t]) if t in thresholds.draws else float(rec[f"{t}_p"])
                 for t in tests}
            for rule in COMBINE_RULES[1:]:
                comb = combine(p, rule, alpha, statistics={t: stats_[t] for t in cal},
                               draws={t: thresholds.draws[t] for t in cal})
                verdicts[rule].append(comb.reject)
        else:
            for rule in COMBINE_RULES[1:]:
                verdicts[rule].append(pd.NA)
        verdicts["optimal"].append(not optimal_check(ctx.full, rows[idx[int(rec["sample"])]], alpha,
                                                         index=ctx.membership_index).passed)
    for pr in PROTOCOLS:
        out[f"{pr}_reject"] = pd.array(verdicts[pr], dtype="boolean")
    return out


def power_summary(frames: Mapping[tuple[str, int], pd.DataFrame]) -> pd.DataFrame:
    """Rejection rate per (method, m, protocol) with its exact interval, from :func:`power_frame`'s.

    A protocol whose verdict is missing on some samples (a lazy Table 2 job decides only what
    evasion needs) is rated over the ``full_battery`` samples only: the others were chosen for
    their statistics by the job's verdicts, and their rate would be biased.

    Also ``undetected_compliant``: how many samples with DI above the threshold pass the protocol.
    """
    rows = []
    for (method, m), frame in frames.items():
        full = frame["full_battery"].to_numpy(bool) if "full_battery" in frame else np.ones(len(frame), bool)
        parts = [rejection_summary(frame if frame[f"{pr}_reject"].notna().all() else frame[full], (pr,))
                 for pr in PROTOCOLS if f"{pr}_reject" in frame]
        summary = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
        comp = frame["compliant"].to_numpy(bool)
        for rec in summary.to_dict("records"):
            rej = frame[f"{rec['protocol']}_reject"]
            passed_comp = int(((rej == False) & comp).sum())  # noqa: E712 (nullable booleans)
            rows.append({"method": method, "m": int(m), **rec, "undetected_compliant": passed_comp})
    return pd.DataFrame(rows)


def cap_curve(ctx: BatteryContext, cells: Any, thresholds: Mapping[int, ReferenceThresholds],
              grid: Sequence[int], *, alpha: float = 0.05, tests: Sequence[str] = TESTS) -> pd.DataFrame:
    """The highest DI an undetected sample can show, against ``m``, per protocol.

    Returns
    -------
    DataFrame
        ``m``, ``protocol`` (``optimal`` on every ``m`` of ``grid`` and of ``thresholds``;
        ``any`` on the sizes of ``thresholds``: its cell cap, which needs the reference draws),
        ``cap``.
    """
    sizes = sorted({int(m) for m in grid} | {int(m) for m in thresholds})
    rows = [{"m": m, "protocol": "optimal", "cap": optimal_cap(cells, m, alpha)} for m in sizes]
    rows += [{"m": int(m), "protocol": "any", "cap": cell_di_cap(ctx, thr, int(m), tests)}
             for m, thr in sorted(thresholds.items())]
    return pd.DataFrame(rows)


def recommended_sizes(cells: Any, curve: pd.DataFrame, *, tau: float, alpha: float = 0.05) -> pd.DataFrame:
    """The size from which on the cap stays below ``tau``, per protocol.

    ``optimal``: exact, ``1 + max{m : cap(m) >= tau}``
    (:func:`fairwash.detect.dilaw.recommended_sample_size`); ``any``: from the sizes of ``curve``
    (those with reference thresholds): ``m_low`` the largest with a cap ``>= tau``, ``m_high`` the
    next one — the paper battery's recommended ``m`` lies in ``(m_low, m_high]``.
    """
    size = recommended_sample_size(cells, tau, alpha)
    rows = [{"protocol": "optimal", "m_low": size.m - 1 if size.m is not None else None, "m_high": size.m,
             "exact": True}]
    paper = curve[curve["protocol"] == "any"].sort_values("m")
    unsafe = paper[paper["cap"] >= tau]
    m_low = int(unsafe["m"].max()) if len(unsafe) else None
    later = paper[paper["m"] > m_low] if m_low is not None else paper
    rows.append({"protocol": "any", "m_low": m_low, "m_high": int(later["m"].min()) if len(later) else None,
                 "exact": False})
    return pd.DataFrame(rows)


def fairest_frame(results: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """Fairest undetected DI per (method, m, protocol) from the fairest jobs' JSON (by method).

    A protocol the job did not search is left out; ``best_di`` is ``None`` ("–") when no
    sample passes at any level.
    """
    rows = []
    for method, out in results.items():
        for m, sets in out["sizes"].items():
            for pr, name in FAIREST_SETS.items():
                if name not in sets:
                    continue
                r = sets[name]
                rows.append({"method": method, "m": int(m), "protocol": pr, "best_di": r["best_di"],
                             "level_found": r["level_found"], "cap": r["cell_cap"]})
    return pd.DataFrame(rows, columns=["method", "m", "protocol", "best_di", "level_found", "cap"])
