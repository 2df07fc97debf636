"""The replicate rules on tests/config/tiny.yaml: replicate 0 is the main cell, the tables and the figure."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]


def _strip_times(d: dict) -> dict:
    """The fairest JSON without its timings (and without the protocol sets only the main rule searches)."""
    for key in ("seconds", "method_seconds", "resumed_seconds", "method_runs", "method_errors"):
        d.pop(key, None)
    for by in d["sizes"].values():
        for name in [n for n in by if n not in ("seven", "ablation")]:
            by.pop(name)
        for r in by.values():
            # the counters include the protocol sets' work
            for key in ("seconds", "n_battery", "tests_run", "method_runs"):
                r.pop(key, None)
    return d


@pytest.mark.slow
def test_tiny_replicates(tmp_path):
    targets = ["results/audit/simtiny/fairest_Matching.json", "results/tables/replicates.csv",
               "results/tables/replicates_reference.csv", "results/figures/replicates_simtiny.png",
               "results/tables/replicates_caps.csv", "results/figures/replicates_caps.png"]
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(tmp_path),
           "--configfile", str(REPO / "tests/config/tiny.yaml"), "--cores", "1", *targets]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = tmp_path / "results"
    main = json.loads((res / "audit/simtiny/fairest_Matching.json").read_text())
    k0 = json.loads((res / "replicates/simtiny/fairest_Matching_k0.json").read_text())
    k1 = json.loads((res / "replicates/simtiny/fairest_Matching_k1.json").read_text())
    assert _strip_times(main) == _strip_times(k0)  # the rule seeds replicate 0 as the main run
    assert _strip_times(k1) != _strip_times(k0)
    table = pd.read_csv(res / "tables/replicates.csv")
    assert set(table["table"]) == {"Table 3", "Table 15"} and (table["K"] == 2).all()
    assert set(table["m"]) == {50, 100}
    ref = pd.read_csv(res / "tables/replicates_reference.csv")
    assert (ref["sets"] == 2).all() and {"W_A", "cell cap (Table 3)"} <= set(ref["quantity"])
    # set 0 is the main reference file
    main_ref = json.loads((res / "audit/simtiny/reference_m50.json").read_text())
    row = ref[(ref["m"] == 50) & (ref["quantity"] == "W_A")].iloc[0]
    assert row["main"] == pytest.approx(float(main_ref["thresholds"]["W_A"]))
    assert (res / "figures/replicates_simtiny.png").stat().st_size > 5000
    # the cell-cap sets share the reference sets' seeds: their caps are the reference files' caps
    caps = pd.read_parquet(res / "replicates/simtiny/cell_caps.parquet")
    for r in (0, 1):
        for m in (50, 100):
            want = ref[(ref["m"] == m) & (ref["quantity"] == "cell cap (Table 3)")]
            got = caps[(caps["m"] == m) & (caps["r"] == r) & (caps["quantity"] == "cell cap (Table 3)")]
            ref_file = (res / f"audit/simtiny/reference_m{m}.json" if r == 0
                        else res / f"replicates/simtiny/reference_m{m}_r{r}.json")
            thr = json.loads(ref_file.read_text())["thresholds"]
            for test in ("KL_P", "W_P", "MMD_P"):
                row = caps[(caps["m"] == m) & (caps["r"] == r) & (caps["quantity"] == test)]
                assert float(row["value"].iloc[0]) == pytest.approx(float(thr[test]), rel=1e-12)
            if r == 0:
                assert float(got["value"].iloc[0]) == pytest.approx(float(want["main"].iloc[0]))
    cap_table = pd.read_csv(res / "tables/replicates_caps.csv")
    assert (cap_table["sets"] == 3).all() and set(cap_table["table"]) == {"Table 3", "Table 15"}
    assert (cap_table["q10"] <= cap_table["median"]).all() and (cap_table["median"] <= cap_table["q90"]).all()
    assert (res / "figures/replicates_caps.png").stat().st_size > 5000
