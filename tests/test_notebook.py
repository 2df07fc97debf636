"""The walkthrough notebook runs headless on a small pipeline run and agrees with the library;
the run's tables carry their paper columns; its CI logs carry no progress bars."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from tqdm import tqdm

from fairwash import results
from fairwash.data.base import AuditData
from fairwash.detect.battery import run_battery
from fairwash.detect.shift import distribution_shift
from fairwash.fairness import disparate_impact

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "notebooks" / "walkthrough.ipynb"
DS, METHOD, SEED = "loantiny", "Matching", 3

#: What a tqdm bar leaves in a log: carriage returns, rates, a "| 3/5 [" counter.
BAR = re.compile(r"\r|\d+(\.\d+)?(it/s|s/it)|\|\s*\d+/\d+ \[")


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    """One data set of the tiny config through data, model, two methods, the references, the
    fairest search and the twin audit, with progress bars asked for (as config/paper.yaml does)
    in a CI environment (``CI`` set, stderr not a terminal)."""
    work = tmp_path_factory.mktemp("notebook")
    cfg = yaml.safe_load((REPO / "tests" / "config" / "tiny.yaml").read_text())
    cfg["datasets"] = {DS: cfg["datasets"][DS]}
    cfg["methods"] = ["Grad_p", METHOD]
    cfg["progress"] = True
    cfg["battery"]["fairest_methods"] = [METHOD]
    cfg["replicates"] = {"k": 0, "reference_k": 0}  # the replicates have their own test
    (work / "config.yaml").write_text(yaml.safe_dump(cfg))
    m1, m2 = cfg["datasets"][DS]["sizes"]
    targets = ["results/tables/datasets.csv", f"results/manipulated/{DS}/Grad_p.json",
               f"results/manipulated/{DS}/{METHOD}.json", f"results/audit/{DS}/reference_m{m1}.json",
               f"results/audit/{DS}/fairest_{METHOD}.json", f"results/counterfactual/{DS}.json",
               "results/tables/cost.csv", "results/tables/shift.csv", "results/tables/detection.csv"]
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(work), "--configfile",
         str(work / "config.yaml"), "--cores", "2", *targets],
        capture_output=True, text=True, timeout=600, env={**os.environ, "CI": "1"},
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    (work / "snakemake.stderr").write_text(proc.stderr)
    return work


def _execute(work: Path) -> dict:
    # notebook tooling (a dev extra): imported where a test runs the notebook, not at collection
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOK, as_version=4)
    env = {results.RESULTS_ENV: str(work / "results"), "FAIRWASH_DATASET": DS, "FAIRWASH_METHOD": METHOD,
           "FAIRWASH_SEED": str(SEED)}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the kernel inherits the environment
    try:
        NotebookClient(nb, timeout=120, kernel_name="python3",
                       resources={"metadata": {"path": str(work)}}).execute()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    last = nb.cells[-1]
    text = "".join(o.get("text", "") for o in last.outputs if o.output_type == "stream")
    return json.loads(text)


def test_notebook_is_stored_without_outputs():
    import nbformat  # notebook tooling (a dev extra), as in _execute

    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code)


@pytest.mark.slow
def test_notebook_runs_headless_and_agrees_with_the_library(run):
    summary = _execute(run)
    res = run / "results"
    audited = AuditData.load(res / "audited" / f"{DS}.parquet")
    full = audited.joint()

    # 1. the model's DI (Table 1), recomputed from the audited decisions
    assert summary["di_model"] == pytest.approx(disparate_impact(audited.Y_hat, audited.S), abs=1e-12)

    # 2. the attack: Q's own weighted DI and its W from the original
    attack = results.load_attack(DS, METHOD, res)
    assert summary["di_after"] == pytest.approx(attack.manipulation.di, abs=1e-9)
    assert summary["di_after"] >= 0.8 - 1e-9
    shift = distribution_shift(full, attack.manipulation.joint(), attack.manipulation.weights)
    assert summary["W"] == pytest.approx(shift.w, rel=1e-12)

    # 3. the verdict: the same sample (same seed) through run_battery with the cached thresholds
    m = summary["m"]
    assert m == min(results.reference_sizes(DS, res), key=lambda k: abs(k - 0.1 * audited.n))
    sample = attack.manipulation.joint()[attack.manipulation.sample_indices(m, SEED)]
    thresholds = results.load_reference(DS, m, res)
    verdict = run_battery(full, sample, thresholds)
    assert summary["sample_passed"] == verdict.passed
    assert summary["statistics"] == pytest.approx({r.name: r.statistic for r in verdict.results}, rel=1e-12)
    assert summary["sample_di"] == pytest.approx(disparate_impact(sample[:, -1], sample[:, -2]), abs=1e-12)

    # 4. the counterfactual audit as cached
    cf = json.loads((res / "counterfactual" / f"{DS}.json").read_text())
    assert summary["flip_rate"] == cf[cf["primary"]]["flip_rate"]


@pytest.mark.slow
def test_table_rules_write_paper_columns_and_costs(run):
    res = run / "results" / "tables"
    cost = pd.read_csv(res / "cost.csv")
    assert sorted(cost["method"]) == ["Grad_p", METHOD] and (cost["n"] == 300).all()
    manip = {m: json.loads((run / "results" / "manipulated" / DS / f"{m}.json").read_text())["seconds"]
             for m in cost["method"]}
    assert np.allclose(cost["method ms"], [1e3 * manip[m] for m in cost["method"]])
    assert (cost["battery samples"] > 0).all() and (cost["audit peak MB"] > 0).all()
    assert cost.set_index("method").loc[METHOD, "paper time (T8)"] == "3–10 minutes"
    for name in ("shift", "detection"):
        table = pd.read_csv(res / f"{name}.csv", keep_default_na=False)
        paper = [c for c in table.columns if c.startswith("paper")]
        assert paper and (table[paper] == "").all().all(), name  # no paper data set here: empty cells


def _logs(work: Path, pattern: str) -> list[Path]:
    found = sorted((work / "results" / "logs").glob(pattern))
    assert found, pattern
    return found


@pytest.mark.slow
def test_ci_logs_of_auto_detected_steps_have_no_bars(run):
    """Grad's bar follows the terminal and CI by itself: its CI log stays clean."""
    for log in _logs(run, f"manipulate/{DS}/Grad_p.log"):
        assert not BAR.search(log.read_text(errors="replace")), log
    assert not BAR.search((run / "snakemake.stderr").read_text())


@pytest.mark.slow
def test_ci_logs_have_no_bars_even_when_the_config_asks_for_them(run):
    for log in [*_logs(run, "train_model/*.log"), *_logs(run, f"audit/{DS}/fairest_*.log")]:
        assert not BAR.search(log.read_text(errors="replace")), log


def test_bar_pattern_recognises_tqdm_output():
    """The pattern the log checks rely on matches what tqdm writes, and not plain log lines."""
    buf = io.StringIO()
    for _ in tqdm(range(3), file=buf, desc="x", mininterval=0):
        pass
    assert BAR.search(buf.getvalue())
    assert not BAR.search("Matching: DI 0.25 -> 0.80 in 0.02 s\n{'50': {'seven': 1.0}}\n")
