"""Stage: the protocols side by side on each data set (issue 17; beyond the paper).

* :func:`honest_stage` — per (data set, m): honest samples judged by every protocol against the
  cached reference, the same samples pooled with the reference draws for a fresh reference per
  sample, and the optimal protocol alone on many more honest samples (it costs milliseconds);
* :func:`comparison_stage` — per data set: the table (false alarms, fairest undetected DI per
  method under each protocol, caps, recommended sizes, power on Table 2's samples, seconds)
  and its figure (:func:`fairwash.figures.protocols.plot_protocols`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fairwash.catalogue import TESTS
from fairwash.data.base import AuditData
from fairwash.detect.battery import context_for_thresholds
from fairwash.detect.dilaw import cell_counts, di_quantile
from fairwash.io import atomic_write_json, atomic_write_parquet, atomic_write_text, read_json, to_jsonable
from fairwash.protocol.compare import (
    PROTOCOL_LABELS,
    PROTOCOLS,
    fresh_reference_frame,
    honest_frame,
    rejection_summary,
)
from fairwash.protocol.compare_summary import (
    cap_curve,
    fairest_frame,
    power_frame,
    power_summary,
    recommended_sizes,
)
from fairwash.store import read_audit_frame, read_manipulation, read_thresholds

__all__ = ["honest_stage", "comparison_stage", "comparison_markdown"]


def _cells(data: AuditData) -> np.ndarray:
    return cell_counts(np.asarray(data.S), np.asarray(data.require_y_hat()))


def honest_stage(*, audited_parquet: str | Path, reference_json: str | Path, n_honest: int,
                 n_honest_optimal: int, seed: int, out_parquet: str | Path, out_json: str | Path,
                 tests: Sequence[str] = TESTS) -> dict[str, Any]:
    """Every protocol on honest samples of one size: the false alarms of the comparison table.

    ``n_honest`` samples run the whole battery (as costly as as many reference draws) and are
    judged against the cached reference (``reference = "cached"``: what an honest auditee meets
    in this pipeline) and, pooled with the reference draws, each against a fresh reference
    (``"fresh"``: the protocol's level over both); ``n_honest_optimal`` more samples run the
    optimal protocol alone, whose exact level is stated beside its measured rate.
    """
    data = AuditData.load(audited_parquet)
    thr = read_thresholds(reference_json)
    ctx = context_for_thresholds(data.joint(), thr)
    alpha = float(round(1 - thr.level, 12))
    frames, summaries = [], []
    if n_honest > 0:
        frame = honest_frame(ctx, thr, int(n_honest), int(seed), tests=tests)
        fresh = fresh_reference_frame(frame, thr, int(seed) + 1, tests=tests)
        frames.append(frame.assign(reference="cached"))
        summaries += [rejection_summary(frame).assign(reference="cached"),
                      rejection_summary(fresh).assign(reference="fresh")]
        battery_seconds = float(np.median(frame["battery_seconds"]))
    else:
        battery_seconds = math.nan
    opt = honest_frame(ctx, thr, int(n_honest_optimal), int(seed) + 2, tests=tests, protocols=("optimal",))
    summaries.append(rejection_summary(opt, ("optimal",)).assign(reference="none"))
    summary = pd.concat(summaries, ignore_index=True)
    summary = summary[(summary["protocol"] != "optimal") | (summary["reference"] == "none")]
    exact = di_quantile(_cells(data), thr.m, alpha)
    out = {
        "dataset": data.name, "m": thr.m, "n": thr.n, "alpha": alpha, "n_draws": thr.n_draws,
        "n_honest": int(n_honest), "n_honest_optimal": int(n_honest_optimal),
        "rates": summary.to_dict("records"),
        "optimal_exact_level": exact.size, "optimal_cap": exact.value,
        "seconds": {"reference_draws": float(read_json(reference_json).get("seconds", math.nan)),
                    "battery_per_sample": battery_seconds,
                    "optimal_per_sample": float(np.median(opt["optimal_seconds"]))},
    }
    atomic_write_parquet(pd.concat([*frames, opt.assign(reference="none")], ignore_index=True), out_parquet)
    atomic_write_json(to_jsonable(out), out_json)
    return out


def _levels_frame(honest: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    rows = [{"m": h["m"], **r} for h in honest for r in h["rates"]]
    return pd.DataFrame(rows)


def comparison_stage(*, dataset: str, audited_parquet: str | Path, reference_jsons: Mapping[int, str | Path],
                     honest_jsons: Sequence[str | Path], fairest_jsons: Mapping[str, str | Path],
                     detections: Sequence[Mapping[str, Any]], tau: float, grid_points: int,
                     out_csv: str | Path, out_md: str | Path, out_png: str | Path,
                     tests: Sequence[str] = TESTS) -> dict[str, Any]:
    """The comparison table and figure of one data set (see the module docstring).

    ``reference_jsons`` maps every size with reference thresholds (the table's and Fig. 8's) to
    its file; ``detections`` lists Table 2's jobs: ``method``, ``m``, ``parquet`` (its frame),
    ``manipulated`` and ``summary`` (the method's ``Q``), ``seed``.
    """
    from fairwash.figures.protocols import plot_protocols  # matplotlib only in this stage: import cost

    data = AuditData.load(audited_parquet)
    cells = _cells(data)
    thr = {int(m): read_thresholds(p) for m, p in reference_jsons.items()}
    ctx = context_for_thresholds(data.joint(), thr[min(thr)])
    alpha = float(round(1 - thr[min(thr)].level, 12))
    honest = [read_json(p) for p in honest_jsons]
    levels = _levels_frame(honest)
    grid = np.unique(np.geomspace(max(10, min(thr) // 4), data.n, int(grid_points)).astype(int))
    curve = cap_curve(ctx, cells, thr, grid, alpha=alpha, tests=tests)
    recommended = recommended_sizes(cells, curve, tau=tau, alpha=alpha)
    fairest = fairest_frame({me: read_json(p) for me, p in fairest_jsons.items()})
    frames = {}
    for job in detections:
        man = read_manipulation(job["manipulated"], job["summary"])
        frames[(job["method"], int(job["m"]))] = power_frame(
            read_audit_frame(job["parquet"]), thr[int(job["m"])], ctx, man, random_state=int(job["seed"]),
            tests=tests)
    power = power_summary(frames) if frames else pd.DataFrame(
        columns=["method", "m", "protocol", "n", "rejections", "rate", "lo", "hi", "undetected_compliant"])
    table = pd.concat([
        levels.assign(section="false_alarms"),
        fairest.assign(section="fairest"),
        curve.assign(section="cap"),
        recommended.assign(section="recommended_m"),
        power.assign(section="power"),
    ], ignore_index=True)
    table.insert(0, "dataset", dataset)
    atomic_write_text(table.to_csv(index=False), out_csv)
    seconds = {int(h["m"]): h["seconds"] for h in honest}
    atomic_write_text(comparison_markdown(dataset, levels, fairest, curve, recommended, power, seconds,
                                          tau=tau, alpha=alpha, n=data.n), out_md)
    plot_protocols(dataset, levels, curve, fairest, recommended, power, out_png, tau=tau, alpha=alpha)
    return {"rows": len(table)}


def _fmt(x: Any, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if isinstance(x, float) and math.isinf(x):
        return "∞" if x > 0 else "−∞"
    return f"{x:.{digits}f}" if isinstance(x, float) else str(x)


def comparison_markdown(dataset: str, levels: pd.DataFrame, fairest: pd.DataFrame, curve: pd.DataFrame,
                        recommended: pd.DataFrame, power: pd.DataFrame,
                        seconds: Mapping[int, Mapping[str, float]], *, tau: float, alpha: float,
                        n: int) -> str:
    """The comparison table of one data set as Markdown (five short sections)."""
    out = [f"# {dataset}: the paper's battery against the optimal protocol (level {alpha:g}, n = {n})", ""]
    out += ["Protocols: " + "; ".join(f"`{p}` = {PROTOCOL_LABELS[p]}" for p in PROTOCOLS), ""]
    out += ["## False alarms on honest samples", "",
            "`cached`: each sample against the pipeline's one cached reference; `fresh`: each sample "
            "against its own honest reference (pooled draws: the protocol's level); optimal: no reference.",
            "", "| m | protocol | reference | rejected | rate | 95 % interval |", "|---|---|---|---|---|---|"]
    for r in levels.to_dict("records"):
        out.append(f"| {r['m']} | {r['protocol']} | {r['reference']} | {r['rejections']}/{r['n']} | "
                   f"{_fmt(r['rate'])} | [{_fmt(r['lo'])}, {_fmt(r['hi'])}] |")
    out += ["", "## Fairest undetected DI per method", "",
            "The highest DI of a sample passing the protocol at the first level where one exists "
            "(Table 3's search; `any` is Table 3). `–`: no sample passes at any level.", ""]
    protos = [p for p in PROTOCOLS if (fairest["protocol"] == p).any()]
    out += ["| method | m | " + " | ".join(protos) + " |", "|---|---|" + "---|" * len(protos)]
    for (me, m), grp in fairest.groupby(["method", "m"], sort=False):
        vals = grp.set_index("protocol")["best_di"]
        out.append(f"| {me} | {m} | " + " | ".join(_fmt(vals.get(p)) for p in protos) + " |")
    out += ["", "## Cap: the highest DI an undetected sample can show", "",
            "At the sizes with reference thresholds (the figure and the CSV have the optimal cap on a grid "
            "of sizes up to n).", "", "| m | optimal | paper (any, cell cap) |", "|---|---|---|"]
    wide = curve.pivot_table(index="m", columns="protocol", values="cap", aggfunc="first")
    for m, r in wide[wide["any"].notna()].iterrows() if "any" in wide else wide.iterrows():
        out.append(f"| {m} | {_fmt(r.get('optimal'))} | {_fmt(r.get('any'))} |")
    out += ["", f"## Recommended sample size (from it on, the cap stays below {tau:g})", "",
            "| protocol | m | exact |",
            "|---|---|---|"]
    for r in recommended.to_dict("records"):
        m = _fmt(r["m_high"]) if r["exact"] else f"in ({_fmt(r['m_low'])}, {_fmt(r['m_high'])}]"
        how = "yes" if r["exact"] else "bracket from the sizes with references"
        out.append(f"| {r['protocol']} | {m} | {how} |")
    out += ["", f"## Power: rejection of Table 2's samples (manipulated to DI {tau:g})", "",
            "| method | m | protocol | rejected | rate | 95 % interval | compliant samples undetected |",
            "|---|---|---|---|---|---|---|"]
    for r in power.to_dict("records"):
        out.append(f"| {r['method']} | {r['m']} | {r['protocol']} | {r['rejections']}/{r['n']} | "
                   f"{_fmt(r['rate'])} | [{_fmt(r['lo'])}, {_fmt(r['hi'])}] | {r['undetected_compliant']} |")
    out += ["", "## Cost of one check (seconds, this run)", "",
            "| m | paper: reference draws (once) | paper: battery per sample | optimal per sample |",
            "|---|---|---|---|"]
    for m, s in sorted(seconds.items()):
        out.append(f"| {m} | {_fmt(s['reference_draws'], 1)} | {_fmt(s['battery_per_sample'], 2)} | "
                   f"{_fmt(s['optimal_per_sample'], 4)} |")
    return "\n".join(out) + "\n"
