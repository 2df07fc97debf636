"""benchmarks/bench_protocol.py counts the work of a resumed job's earlier attempts."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]


def _module():
    spec = importlib.util.spec_from_file_location("bench_protocol", REPO / "benchmarks" / "bench_protocol.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _bench(path: Path, seconds: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame([{"s": seconds, "h:m:s": "", "max_rss": 100.0, "max_vms": 0, "max_uss": 0, "max_pss": 0,
                   "io_in": 0, "io_out": 0, "mean_load": 0, "cpu_time": seconds}]).to_csv(path, sep="\t",
                                                                                          index=False)


def test_job_time_adds_the_stored_work_of_earlier_attempts(tmp_path):
    res = tmp_path / "results"
    (res / "audited").mkdir(parents=True)
    (res / "audited" / "puc.parquet").write_bytes(b"")
    audit = res / "audit" / "puc"
    audit.mkdir(parents=True)
    (audit / "reference_m2000.json").write_text(json.dumps({"resumed_seconds": 50.0}))
    (audit / "fairest_Matching.json").write_text(json.dumps({"resumed_seconds": 0.0}))
    # Table 2: one method stored by an earlier attempt (20 s), one computed now (30 s);
    # one older summary without resumed_seconds: the methods' sum bounds the job from below
    (audit / "Matching_m2000.json").write_text(json.dumps({"seconds": 20.0, "resumed_seconds": 20.0}))
    (audit / "SBS_m2000.json").write_text(json.dumps({"seconds": 30.0, "resumed_seconds": 0.0}))
    (audit / "SBS_m4000.json").write_text(json.dumps({"seconds": 300.0}))
    _bench(res / "benchmarks/audit/reference/puc_m2000.tsv", 100.0)
    _bench(res / "benchmarks/audit/fairest/puc_Matching.tsv", 7.0)
    _bench(res / "benchmarks/audit/detect/puc_m2000.tsv", 32.0)
    _bench(res / "benchmarks/audit/detect/puc_m4000.tsv", 40.0)
    jobs = _module().stage_times(res).set_index("job")
    assert jobs.loc["puc_m2000"].query("stage == 'reference'")["job s"].item() == 150.0
    assert jobs.loc["puc_Matching", "job s"] == 7.0
    detect = jobs[jobs["stage"] == "detect"]["job s"]
    assert detect.loc["puc_m2000"] == 52.0  # 32 s now + 20 s stored earlier
    assert detect.loc["puc_m4000"] == 300.0  # resumed by older code: its methods' sum
