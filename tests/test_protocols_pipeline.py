"""The protocol comparison's stages (fairwash.pipeline.protocols) on a toy audit, and their summaries.

* Table 2's samples drawn again for the optimal protocol are the detection job's own (same DI);
* the paper rule's verdict in the comparison is the detection job's verdict;
* the recommended optimal ``m`` equals a brute-force scan of the exact cap;
* the stages write a table, a Markdown page and a figure with every section.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from fairwash.data.base import AuditData
from fairwash.detect.battery import context_for_thresholds
from fairwash.detect.dilaw import cell_counts
from fairwash.detect.optimal import optimal_cap
from fairwash.pipeline.audit import detect_stage, fairest_stage
from fairwash.pipeline.protocols import comparison_stage, honest_stage
from fairwash.protocol.compare_summary import cap_curve, power_frame, power_summary, recommended_sizes
from fairwash.protocol.samples import draw_samples, sample_di
from fairwash.store import read_manipulation, read_thresholds

METHODS = ("Matching", "Entropic_b")


@pytest.fixture(scope="module")
def staged(tmp_path_factory, toy_audit):
    paths = toy_audit(tmp_path_factory.mktemp("protocols"), seed=1, n=400)
    d = paths["dir"]
    jobs = []
    for method in METHODS:
        for m in (40, 80):
            detect_stage(audited_parquet=paths["audited"], manipulated_parquet=paths[method]["parquet"],
                         manipulated_json=paths[method]["json"], reference_json=paths[f"ref{m}"], m=m,
                         n_samples=6, target=0.8, seed=11 + m, out_parquet=d / f"{method}_m{m}.parquet",
                         out_json=d / f"{method}_m{m}.json")
            jobs.append({"method": method, "m": m, "parquet": str(d / f"{method}_m{m}.parquet"),
                         "manipulated": str(paths[method]["parquet"]), "summary": str(paths[method]["json"]),
                         "seed": 11 + m})
        fairest_stage(audited_parquet=paths["audited"], method=method,
                      reference_jsons={40: paths["ref40"], 80: paths["ref80"]}, model=None, options=None,
                      seed=0, start=0.95, step=0.05, n_samples=6, out_json=d / f"fairest_{method}.json",
                      protocols=("optimal", "holm"))
    for m in (40, 80):
        honest_stage(audited_parquet=paths["audited"], reference_json=paths[f"ref{m}"], n_honest=8,
                     n_honest_optimal=300, seed=5, out_parquet=d / f"honest_m{m}.parquet",
                     out_json=d / f"honest_m{m}.json")
    paths["jobs"] = jobs
    return paths


def test_power_frame_redraws_table_2s_samples(staged):
    data = AuditData.load(staged["audited"])
    for job in staged["jobs"]:
        thr = read_thresholds(staged[f"ref{job['m']}"])
        ctx = context_for_thresholds(data.joint(), thr)
        man = read_manipulation(job["manipulated"], job["summary"])
        frame = pd.read_parquet(job["parquet"])
        out = power_frame(frame, thr, ctx, man, random_state=job["seed"])
        idx = draw_samples(man, job["m"], len(frame), job["seed"], key=(job["m"],))
        np.testing.assert_allclose(sample_di(man.S, man.Y_hat, idx), frame["di"], equal_nan=True)
        assert (out["any_reject"].astype(bool) == ~frame["passed"]).all()
        assert out[["holm_reject", "minp_reject", "optimal_reject"]].notna().all().all()


def test_a_missing_statistic_leaves_the_combination_rules_undecided(staged):
    data = AuditData.load(staged["audited"])
    job = staged["jobs"][0]
    thr = read_thresholds(staged[f"ref{job['m']}"])
    frame = pd.read_parquet(job["parquet"])
    frame.loc[0, "W_A_stat"] = np.nan
    out = power_frame(frame, thr, context_for_thresholds(data.joint(), thr),
                      read_manipulation(job["manipulated"], job["summary"]), random_state=job["seed"])
    assert pd.isna(out.loc[0, "minp_reject"]) and pd.isna(out.loc[0, "holm_reject"])
    assert out.loc[1:, "minp_reject"].notna().all() and out["optimal_reject"].notna().all()


def test_an_undecided_sample_leaves_the_paper_rule_undecided(staged):
    """A lazy Table 2 job's NA ``passed`` (W_A not computed) is an NA ``any`` verdict, not a pass."""
    data = AuditData.load(staged["audited"])
    job = staged["jobs"][0]
    thr = read_thresholds(staged[f"ref{job['m']}"])
    frame = pd.read_parquet(job["parquet"])
    assert frame["passed"].dtype == "boolean"
    frame.loc[0, ["W_A_stat", "W_A_p", "W_A_rejected", "passed"]] = [np.nan, np.nan, pd.NA, pd.NA]
    out = power_frame(frame, thr, context_for_thresholds(data.joint(), thr),
                      read_manipulation(job["manipulated"], job["summary"]), random_state=job["seed"])
    assert pd.isna(out.loc[0, "any_reject"]) and pd.isna(out.loc[0, "holm_reject"])
    assert (out.loc[1:, "any_reject"] == ~frame.loc[1:, "passed"]).all()


def test_power_summary_rates_a_protocol_with_missing_verdicts_over_the_subsample():
    b = lambda v: pd.array(v, dtype="boolean")  # noqa: E731
    frame = pd.DataFrame({"compliant": [True, True, False, False], "full_battery": [True, False, True, False],
                          "any_reject": b([True, False, False, pd.NA]),
                          "holm_reject": b([True, pd.NA, True, pd.NA]),
                          "minp_reject": b([False, pd.NA, True, pd.NA]),
                          "optimal_reject": b([True, True, False, True])})
    s = power_summary({("Matching", 40): frame}).set_index("protocol")
    assert s.loc["any", "n"] == 2 and s.loc["any", "rejections"] == 1  # the subsample, not the 3 decided
    assert s.loc["holm", "rate"] == 1.0 and s.loc["minp", "rate"] == 0.5
    assert s.loc["optimal", "n"] == 4 and s.loc["optimal", "rejections"] == 3  # complete: every sample
    assert s.loc["any", "undetected_compliant"] == 1  # compliant samples passing: counted on all


def test_recommended_optimal_m_equals_a_brute_force_scan():
    C = np.array([300, 60, 200, 140])  # DI 0.3 / ... : (60/360) / (140/340)
    curve = pd.DataFrame({"m": [10, 20], "protocol": ["any", "any"], "cap": [2.0, 0.5]})
    rec = recommended_sizes(C, curve, tau=0.8).set_index("protocol")
    # the size from which on no honest-looking sample can show DI >= 0.8
    brute = 1 + max(m for m in range(1, C.sum() + 1) if optimal_cap(C, m) >= 0.8)
    assert rec.loc["optimal", "m_high"] == brute
    assert rec.loc["any", "m_low"] == 10 and rec.loc["any", "m_high"] == 20


def test_cap_curve_is_the_exact_cap_on_its_grid(staged):
    data = AuditData.load(staged["audited"])
    thr = {m: read_thresholds(staged[f"ref{m}"]) for m in (40, 80)}
    ctx = context_for_thresholds(data.joint(), thr[40])
    C = cell_counts(np.asarray(data.S), np.asarray(data.Y_hat))
    curve = cap_curve(ctx, C, thr, [20, 200])
    opt = curve[curve["protocol"] == "optimal"].set_index("m")["cap"]
    assert list(opt.index) == [20, 40, 80, 200]
    assert all(opt[m] == optimal_cap(C, m) for m in opt.index)
    assert set(curve.loc[curve["protocol"] == "any", "m"]) == {40, 80}


def test_honest_stage_summary(staged):
    h = json.loads((staged["dir"] / "honest_m40.json").read_text())
    rates = pd.DataFrame(h["rates"])
    assert set(zip(rates["protocol"], rates["reference"], strict=True)) == {
        ("any", "cached"), ("holm", "cached"), ("minp", "cached"), ("any", "fresh"), ("holm", "fresh"),
        ("minp", "fresh"), ("optimal", "none")}
    opt = rates[rates["protocol"] == "optimal"].iloc[0]
    assert opt["n"] == 300 and opt["lo"] <= opt["rate"] <= opt["hi"]
    assert 0 < h["optimal_exact_level"] <= 0.05
    assert h["seconds"]["battery_per_sample"] > h["seconds"]["optimal_per_sample"] > 0


def test_comparison_stage_writes_every_section(staged, tmp_path):
    d = staged["dir"]
    comparison_stage(dataset="toy", audited_parquet=staged["audited"],
                     reference_jsons={40: staged["ref40"], 80: staged["ref80"]},
                     honest_jsons=[d / "honest_m40.json", d / "honest_m80.json"],
                     fairest_jsons={me: d / f"fairest_{me}.json" for me in METHODS},
                     detections=staged["jobs"], tau=0.8, grid_points=6,
                     out_csv=tmp_path / "p.csv", out_md=tmp_path / "p.md", out_png=tmp_path / "p.png")
    table = pd.read_csv(tmp_path / "p.csv")
    assert set(table["section"]) == {"false_alarms", "fairest", "cap", "recommended_m", "power"}
    fair = table[table["section"] == "fairest"]
    assert set(fair["protocol"]) == {"any", "optimal", "holm"}
    # the optimal protocol's fairest DI never exceeds its exact cap
    opt = fair[(fair["protocol"] == "optimal") & fair["best_di"].notna()]
    assert (opt["best_di"] <= opt["cap"] + 1e-12).all()
    md = (tmp_path / "p.md").read_text()
    for heading in ("False alarms", "Fairest undetected", "Cap:", "Recommended sample size", "Power", "Cost"):
        assert heading in md
    assert (tmp_path / "p.png").stat().st_size > 20_000
