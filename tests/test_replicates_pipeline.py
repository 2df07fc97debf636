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
               "results/tables/replicates_reference.csv", "results/figures/replicates_simtiny.png"]
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
