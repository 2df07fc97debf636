"""The audit stages (fairwash.pipeline.audit) and tables, without and with Snakemake."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fairwash import paper_values
from fairwash.pipeline.audit import detect_stage, fairest_stage, sample_size_stage
from fairwash.store import read_thresholds
from fairwash.tables import (
    detection_table,
    fairest_table,
    paper_name,
    size_percent,
    thresholds_table,
    write_table,
)

N = 400


@pytest.fixture(scope="module")
def staged(tmp_path_factory, toy_audit) -> dict[str, Path]:
    return toy_audit(tmp_path_factory.mktemp("audit"), seed=0, n=N)


def test_reference_stage_roundtrip(staged):
    thr = read_thresholds(staged["ref40"])
    assert thr.m == 40 and thr.n_draws == 19
    assert set(thr.thresholds) == {"KL_A", "KL_P", "W_A", "W_P", "MMD_A", "MMD_P"}
    # quantile rule: the ⌈0.95 · (19 + 1)⌉ = 19th smallest of 19 draws
    for t, v in thr.draws.items():
        assert thr.thresholds[t] == np.sort(v)[18]


def test_detect_fairest_and_tables(staged):
    d = staged["dir"]
    summaries = {}
    for method in ("Matching", "Entropic_b"):
        for m in (40, 80):
            out_json = d / f"{method}_m{m}.json"
            s = detect_stage(audited_parquet=staged["audited"], manipulated_parquet=staged[method]["parquet"],
                             manipulated_json=staged[method]["json"], reference_json=staged[f"ref{m}"], m=m,
                             n_samples=5, target=0.8, seed=3, out_parquet=d / f"{method}_m{m}.parquet",
                             out_json=out_json)
            assert s["n_samples"] == 5
            frame = pd.read_parquet(d / f"{method}_m{m}.parquet")
            assert len(frame) == 5 and {"di", "passed", "W_A_stat", "KL_A_rejected"} <= set(frame.columns)
            summaries[("toy", method, m)] = out_json
    table2 = detection_table(summaries)
    assert len(table2) == 4 and set(table2["sizes evaded"]) <= {"0/2", "1/2", "2/2"}
    for row in table2.to_dict("records"):
        s = json.loads(Path(summaries[("toy", row["method"], row["m"])]).read_text())
        assert row["evades all"] == s["evades_all"]

    results = {}
    for method in ("Matching", "Entropic_b"):
        out = d / f"fairest_{method}.json"
        fairest_stage(audited_parquet=staged["audited"], method=method,
                      reference_jsons={40: staged["ref40"], 80: staged["ref80"]}, model=None, options=None,
                      seed=0, start=0.95, step=0.05, n_samples=6, out_json=out)
        res = json.loads(out.read_text())
        assert set(res["sizes"]) == {"40", "80"} and set(res["sizes"]["40"]) == {"seven", "ablation"}
        results[("toy", method)] = out
    specs = {"toy": {"source": "simulated"}}
    t3 = fairest_table(results, specs=specs, n_audit={"toy": N}, which="seven")
    t15 = fairest_table(results, specs=specs, n_audit={"toy": N}, which="ablation")
    assert list(t3["m"]) == [40, 80, 40, 80] and (t3["size %"] == ["10", "20", "10", "20"]).all()
    assert (t3["paper"] == "").all()  # not a paper data set
    assert "vs 7 tests" in t15.columns
    thr_table = thresholds_table({("toy", 40): staged["ref40"]}, specs=specs)
    assert len(thr_table) == 6 and thr_table["authors"].isna().all()
    write_table(t3, csv=d / "t3.csv", md=d / "t3.md", tex=d / "t3.tex", title="t3")
    assert "–" in (d / "t3.md").read_text() or t3["fairest DI"].notna().all()


def test_a_method_that_could_not_run_is_not_sampled(staged, tmp_path):
    """Grad without a model leaves Q = P_n: its samples would be honest ones filed under
    Grad (and cost exact W_A), so Table 2 says "not sampled" with the reason instead."""
    from fairwash.pipeline.manipulate import manipulate_stage

    out = {k: tmp_path / f"Grad_p.{ext}" for k, ext in
           (("parquet", "parquet"), ("trajectory", "trajectory.parquet"), ("json", "json"))}
    info = manipulate_stage(audited_parquet=staged["audited"], method="Grad_p", target=0.8, model=None,
                            random_state=0, options=None, out=out)
    assert "no model is available" in info["error"]
    s = detect_stage(audited_parquet=staged["audited"], manipulated_parquet=out["parquet"],
                     manipulated_json=out["json"], reference_json=staged["ref40"], m=40, n_samples=5,
                     target=0.8, seed=3, out_parquet=tmp_path / "g.parquet", out_json=tmp_path / "g.json")
    assert s["n_samples"] == 0 and s["error"] == info["error"] and not s["reached"]
    assert pd.read_parquet(tmp_path / "g.parquet").empty
    row = detection_table({("toy", "Grad_p", 40): tmp_path / "g.json"}).iloc[0]
    assert row["evades all"] is None and row["sizes evaded"] == "n/a" and row["tests evaded"] == ""
    assert row["note"].startswith("not sampled: Grad_p moves points through the audited model")


def test_sample_size_stage(staged):
    d = staged["dir"]
    out = sample_size_stage(audited_parquet=staged["audited"], methods=["Matching"], fractions=[0.1, 0.2],
                            reference_jsons={40: staged["ref40"], 80: staged["ref80"]}, model=None,
                            options=None, seed=0, start=1.0, step=0.05, n_samples=4, target=0.8,
                            out_parquet=d / "ss.parquet", out_json=d / "ss.json")
    assert out["status"] in ("found", "all_safe", "none_safe") and out["message"]
    study = pd.read_parquet(d / "ss.parquet")
    assert set(study["method"]) == {"Matching"} and len(study) >= 2


def test_paper_names_and_values():
    assert paper_name({"source": "adult"}) == "ADULT"
    assert paper_name({"source": "authors", "params": {"dataset": "ASC_INC"}}) == "INC"
    assert paper_name({"source": "acs", "params": {"task": "mob"}}) == "MOB"
    assert paper_name({"source": "simulated"}) is None
    assert size_percent(500, 5000) == 10 and size_percent(4000, 20000) == 20
    assert size_percent(300, 5000) is None
    assert paper_values.lookup("ADULT", "Matching", "fairest@10") == "0.54"
    assert paper_values.lookup("PUC", "Grad_p", "fairest@20") == "–"


@pytest.mark.slow
def test_tiny_config_pipeline_produces_the_tables(tmp_path, repo):
    """The whole chain (data → model → methods → audit → tables) on tests/config/tiny.yaml."""
    snakemake = Path(sys.executable).parent / "snakemake"
    if not snakemake.exists():
        snakemake = shutil.which("snakemake")
    targets = ["results/tables/detection.csv", "results/tables/fairest.csv",
               "results/tables/fairest_no_mmd.csv", "results/tables/reference_thresholds.csv",
               "results/tables/sample_size.csv",
               "results/figures/fig8_sample_size.png", "results/tables/protocols_simtiny.md",
               "results/figures/protocols_loantiny.png"]
    cmd = [str(snakemake), "-s", str(repo / "Snakefile"), "-d", str(tmp_path), "--configfile",
           str(repo / "tests/config/tiny.yaml"), "--cores", "2", "all", *targets]
    proc = subprocess.run(cmd, cwd=repo, capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, proc.stderr[-3000:]
    t3 = pd.read_csv(tmp_path / "results/tables/fairest.csv")
    assert set(t3["data set"]) == {"simtiny", "loantiny"}
    t2 = pd.read_csv(tmp_path / "results/tables/detection.csv")
    assert len(t2) == 2 * 2 * t2["method"].nunique()
    assert (tmp_path / "results/tables/fairest_no_mmd.md").exists()
    assert (tmp_path / "results/figures/fig8_sample_size.png").stat().st_size > 1000
    md = (tmp_path / "results/tables/protocols_simtiny.md").read_text()
    assert "## False alarms on honest samples" in md and "| optimal |" in md
    cmp = pd.read_csv(tmp_path / "results/tables/protocols_loantiny.csv")
    assert set(cmp["section"]) == {"false_alarms", "fairest", "cap", "recommended_m", "power"}
    assert set(cmp.loc[cmp["section"] == "fairest", "protocol"]) == {"any", "optimal", "holm"}
