"""End to end: the Snakemake workflow on a tiny config, reruns, and config errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]
PAPER_METHODS = ["Grad_p", "Grad_b", "Grad_p_1D", "Grad_b_1D", "Replace", "Entropic_b", "Entropic_p",
                 "Matching", "SBS"]


def _snakemake(workdir: Path, configfile: Path, *extra: str) -> subprocess.CompletedProcess:
    cmd = [
        *SNAKEMAKE,
        "-s",
        str(REPO / "Snakefile"),
        "-d",
        str(workdir),
        "--configfile",
        str(configfile),
        "--cores",
        "2",
        *extra,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("pipeline")
    config = work / "tiny.yaml"
    shutil.copy(REPO / "tests" / "config" / "tiny.yaml", config)
    proc = _snakemake(work, config)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return work, config


@pytest.mark.slow
def test_outputs_exist(tiny_run):
    work, _ = tiny_run
    for ds in ("simtiny", "loantiny"):
        for rel in (
            f"results/data/{ds}.parquet",
            f"results/models/{ds}/model.safetensors",
            f"results/models/{ds}/predictions.parquet",
            f"results/audited/{ds}.parquet",
        ):
            assert (work / rel).stat().st_size > 0, rel
    table = pd.read_csv(work / "results/tables/datasets.csv")
    assert sorted(table["data set"]) == ["loantiny", "simtiny"]
    assert table["DI model"].between(0, 2).all()
    audited = pd.read_parquet(work / "results/audited/simtiny.parquet")
    assert len(audited) == 500 and {"S", "Y", "Y_hat"} <= set(audited.columns)
    assert (work / "results/tables/datasets.md").read_text().count("\n|") >= 3


@pytest.mark.slow
def test_second_run_does_nothing(tiny_run):
    work, config = tiny_run
    proc = _snakemake(work, config, "-n")
    assert proc.returncode == 0
    assert "Nothing to be done" in proc.stdout + proc.stderr


@pytest.mark.slow
def test_changing_one_dataset_reruns_only_its_chain(tiny_run, tmp_path):
    work, config = tiny_run
    cfg = yaml.safe_load(config.read_text())
    cfg["datasets"]["simtiny"]["params"]["n"] = 3100
    changed = tmp_path / "changed.yaml"
    changed.write_text(yaml.safe_dump(cfg))
    proc = _snakemake(work, changed, "-n", "--quiet", "rules")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "load_data" in out and "train_model" in out
    # only simtiny's chain: one load_data and one train_model job
    dry = _snakemake(work, changed, "-n")
    text = dry.stdout + dry.stderr
    assert "wildcards: ds=simtiny" in text
    assert "wildcards: ds=loantiny" not in text


@pytest.mark.slow
def test_same_seed_same_bytes(tiny_run, tmp_path):
    work, config = tiny_run
    other = tmp_path / "again"
    other.mkdir()
    proc = _snakemake(
        other, config, "results/audited/loantiny.parquet", "results/models/loantiny/metrics.json"
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    for rel in (
        "results/audited/loantiny.parquet",
        "results/models/loantiny/model.safetensors",
        "results/models/loantiny/metrics.json",
    ):
        assert (other / rel).read_bytes() == (work / rel).read_bytes(), rel


@pytest.mark.slow
def test_table2_per_method_jobs_write_the_same_bytes(tiny_run, tmp_path):
    """`battery.detect_jobs: per_method` splits Table 2 into a job per method, nothing else."""
    work, config = tiny_run
    cfg = yaml.safe_load(config.read_text())
    cfg["battery"]["detect_jobs"] = "per_method"
    split = tmp_path / "split.yaml"
    split.write_text(yaml.safe_dump(cfg))
    other = tmp_path / "split"
    for rel in ("results/audited", "results/manipulated", "results/models"):  # upstream, kept as is
        shutil.copytree(work / rel, other / rel)
    (other / "results/audit/simtiny").mkdir(parents=True)
    for ref in (work / "results/audit/simtiny").glob("reference_m*.json"):
        shutil.copy2(ref, other / "results/audit/simtiny" / ref.name)
    outputs = sorted(p.relative_to(work) for p in (work / "results/audit/simtiny").glob("*_m*.*")
                     if not p.name.startswith(("reference_", "fairest_")))
    assert len(outputs) == 2 * 2 * len(PAPER_METHODS)  # parquet + json per (method, m)
    proc = _snakemake(other, split, *map(str, outputs))
    assert proc.returncode == 0, proc.stderr[-3000:]
    jobs = {line.split()[-1].rstrip(":") for line in proc.stderr.splitlines() if "rule detect_" in line}
    assert jobs == {f"detect_simtiny_{me}_m{m}" for me in PAPER_METHODS for m in (50, 100)}
    timing = {"seconds", "resumed_seconds"}
    for rel in outputs:
        if rel.suffix == ".parquet":
            assert (other / rel).read_bytes() == (work / rel).read_bytes(), rel
        else:
            a, b = (json.loads((d / rel).read_text()) for d in (other, work))
            assert {k: v for k, v in a.items() if k not in timing} == {
                k: v for k, v in b.items() if k not in timing}, rel


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda c: c.update(sed=1), "sed"),
        (lambda c: c["datasets"]["simtiny"].update(source="nosuch"), "nosuch"),
        (lambda c: c["datasets"]["simtiny"].update(n_audit=-5), "-5"),
        (lambda c: c["datasets"]["simtiny"]["model"].update(widht=3), "widht"),
        (lambda c: c.update(run_datasets=["simtiny", "nosuchset"]), "nosuchset"),
    ],
)
def test_bad_config_names_the_key(tmp_path, mutate, needle):
    cfg = yaml.safe_load((REPO / "tests" / "config" / "tiny.yaml").read_text())
    mutate(cfg)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(cfg))
    proc = _snakemake(tmp_path, path, "-n")
    assert proc.returncode != 0
    assert needle in proc.stdout + proc.stderr
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize("name", ["paper.yaml", "paper_raw.yaml"])
def test_paper_configs_run_only_the_papers_sets(tmp_path, name):
    """--configfile merges into config/config.yaml; run_datasets keeps the default sets out."""
    # The Snakefile's `configfile: config/config.yaml` is relative to the working directory
    # and skipped when absent there: put it where a run inside the repository finds it.
    (tmp_path / "config").mkdir()
    shutil.copy(REPO / "config" / "config.yaml", tmp_path / "config" / "config.yaml")
    proc = _snakemake(tmp_path, REPO / "config" / name, "-n")
    assert "config/config.yaml is extended" in proc.stdout + proc.stderr
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    listing = proc.stdout
    for ds in ("adult", "inc", "tra", "mob", "emp", "puc", "baf"):
        assert f"detect_{ds}_m" in listing, ds
    for ds in ("loan", "sim_di03", "sim_di06"):
        assert f"ds={ds}" not in listing and f"detect_{ds}_" not in listing, ds
    # Tables 3 and 15 search every method of the paper on every set (Grad included).
    jobs = [block.split("\n\n")[0] for block in listing.split("rule fairest:")[1:]]
    fairest = {line.split("wildcards: ")[1].strip() for job in jobs
               for line in job.splitlines() if "wildcards: " in line}
    for ds in ("adult", "inc", "tra", "mob", "emp", "puc", "baf"):
        for method in PAPER_METHODS:
            assert f"ds={ds}, method={method}" in fairest, (ds, method)
    assert not (tmp_path / "results").exists()


def test_cluster_overlay_splits_table2_per_method(tmp_path):
    """`--configfile config/paper.yaml config/cluster.yaml`: one Table 2 job per (set, method, m)."""
    proc = _snakemake(tmp_path, REPO / "config" / "paper.yaml", "-n")
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    cluster = subprocess.run([*SNAKEMAKE, "-s", str(REPO / "Snakefile"), "-d", str(tmp_path), "-n",
                              "--configfile", str(REPO / "config" / "paper.yaml"),
                              str(REPO / "config" / "cluster.yaml")],
                             capture_output=True, text=True, timeout=900)
    assert cluster.returncode == 0, (cluster.stdout + cluster.stderr)[-4000:]

    def detect_jobs(listing: str) -> set[str]:
        return {line.split()[-1].rstrip(":") for line in listing.splitlines() if "rule detect_" in line}

    grouped, split = detect_jobs(proc.stdout), detect_jobs(cluster.stdout)
    assert len(grouped) == 14 and "detect_inc_m4000" in grouped  # 7 sets x 2 sizes
    assert len(split) == 14 * len(PAPER_METHODS)
    assert {f"detect_inc_{me}_m4000" for me in PAPER_METHODS} <= split


def _key_paths(tree: dict, prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    out = set()
    for key, value in tree.items():
        out.add((*prefix, key))
        if isinstance(value, dict):
            out |= _key_paths(value, (*prefix, key))
    return out


@pytest.mark.parametrize("name", ["paper.yaml", "paper_raw.yaml"])
def test_paper_configs_inherit_nothing_from_the_default(name):
    """Snakemake merges --configfile into config/config.yaml: a protocol key the paper config
    leaves out silently takes the default's scaled-down value (39 draws, no Grad search)."""
    default = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    paper = yaml.safe_load((REPO / "config" / name).read_text())
    shared = {k: v for k, v in default.items() if k != "datasets"}
    shared["datasets"] = {ds: block for ds, block in default["datasets"].items()
                          if ds in paper["run_datasets"]}
    unused = {("datasets", ds, "model") for ds, block in paper["datasets"].items()
              if block["source"] == "authors"}  # the authors' models are loaded, not trained
    missing = sorted(p for p in _key_paths(shared) - _key_paths(paper) if p[:3] not in unused)
    assert not missing, f"{name} inherits {missing} from config/config.yaml"
    assert paper["battery"]["n_draws"] == 99 and paper["battery"]["w_method"] == "exact"
    assert paper["battery"]["fairest_methods"] == PAPER_METHODS == paper["methods"]


def test_metrics_are_json(tiny_run):
    work, _ = tiny_run
    met = json.loads((work / "results/models/loantiny/metrics.json").read_text())
    assert 0.5 < met["accuracy_test"] <= 1.0


def test_lint_reports_nothing():
    proc = subprocess.run([*SNAKEMAKE, "-s", str(REPO / "Snakefile"), "-d", str(REPO), "--lint"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Lints for" not in proc.stdout + proc.stderr
