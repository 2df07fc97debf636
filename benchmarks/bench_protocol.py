"""The whole audit protocol per data set, from the timings a pipeline run leaves behind.

Issue 4 asks for the time of the whole protocol for one data set and a whole-paper run
(7 data sets x 9 methods x 2 sizes) on 2 cores. Every rule of the workflow writes a
Snakemake ``benchmark:`` file (wall seconds, CPU seconds, peak memory) and the audit
outputs record their own seconds and sample counts; this script reads them from a
results directory, after a real run, and reports:

1. per data set and stage (manipulate, reference, detect, fairest, sample_size): jobs,
   summed wall seconds of the jobs (= the time on one core), and the largest job;
2. per (data set, m): the measured battery seconds per sample, from the reference draws
   (honest samples) and the detection samples (Table 2);
3. a projection of the stages not yet run, from those per-sample seconds and the
   config's counts (stated as a projection, with its formula).

Nothing is timed here: the figures are the run's own. One run, this machine.

Run: ``.venv/bin/python benchmarks/bench_protocol.py RESULTS_DIR [--label L] [--append]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

import pandas as pd

from fairwash.io import atomic_write_text

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from common import machine  # noqa: E402

RESULTS_MD = Path(__file__).with_name("RESULTS.md")
STAGES = ("manipulate", "audit/reference", "audit/detect", "audit/fairest", "audit/sample_size")


def _dataset_of(stage: str, stem: str, datasets: list[str]) -> str:
    """The data set a benchmark file belongs to (file stems start with it)."""
    for ds in sorted(datasets, key=len, reverse=True):
        if stem == ds or stem.startswith(ds + "_"):
            return ds
    raise ValueError(f"benchmark {stage}/{stem}.tsv names no known data set ({datasets})")


def _read(path: Path) -> dict:
    return json.loads(path.read_text()) if path.is_file() else {}


def _resumed(results: Path, stage: str, ds: str, job: str) -> tuple[float, float]:
    """Work of a job done by its earlier, interrupted attempts, from its outputs.

    A resumed job's benchmark file times its last attempt only; its outputs record the
    compute seconds of the units read back from ``results/resume/`` (``resumed_seconds``).
    Returns (resumed seconds, summed unit seconds): the second is the sum of a Table 2
    job's per-method seconds, a lower bound of its work that also covers attempts made
    before the outputs recorded ``resumed_seconds``.
    """
    audit = results / "audit" / ds
    rest = job[len(ds) + 1:]
    if stage == "audit/reference":
        return float(_read(audit / f"reference_{rest}.json").get("resumed_seconds", 0.0)), 0.0
    if stage == "audit/fairest":
        return float(_read(audit / f"fairest_{rest}.json").get("resumed_seconds", 0.0)), 0.0
    if stage == "audit/detect":
        files = [audit / f"{rest}.json"] if (audit / f"{rest}.json").is_file() else [
            f for f in audit.glob(f"*_{rest}.json") if not f.name.startswith(("reference_", "fairest_"))]
        parts = [_read(f) for f in files]
        return (sum(float(d.get("resumed_seconds", 0.0)) for d in parts),
                sum(float(d.get("seconds") or 0.0) for d in parts))
    return 0.0, 0.0


def stage_times(results: Path) -> pd.DataFrame:
    """One row per benchmarked job: stage, data set, wall seconds of the last attempt, CPU
    seconds, peak MB, resumed seconds, and ``job s``: the job's work over all its attempts,
    ``max(wall + resumed, summed unit seconds)`` (see :func:`_resumed`)."""
    datasets = sorted(p.stem for p in (results / "audited").glob("*.parquet"))
    rows = []
    for stage in STAGES:
        for f in sorted((results / "benchmarks" / stage).glob("*.tsv")):
            b = pd.read_csv(f, sep="\t").iloc[-1]
            ds = _dataset_of(stage, f.stem, datasets)
            resumed, units = _resumed(results, stage, ds, f.stem)
            wall = float(b["s"])
            rows.append({"stage": stage.split("/")[-1], "data set": ds, "job": f.stem, "wall s": wall,
                         "cpu s": float(b["cpu_time"]), "peak MB": float(b["max_rss"]),
                         "resumed s": resumed, "job s": max(wall + resumed, units)})
    if not rows:
        raise FileNotFoundError(f"no benchmark files under {results / 'benchmarks'}: run the pipeline first")
    return pd.DataFrame(rows)


def per_sample_seconds(results: Path) -> pd.DataFrame:
    """Battery seconds per sample per (data set, m): honest draws and Table 2 samples."""
    rows = []
    for f in sorted((results / "audit").glob("*/reference_m*.json")):
        d = json.loads(f.read_text())
        n = len(next(iter(d["draws"].values())))
        rows.append({"data set": f.parent.name, "m": int(d["m"]), "kind": "reference", "samples": n,
                     "seconds": float(d["seconds"]) + float(d.get("resumed_seconds", 0.0)),
                     "W_A": d["config"]["w_a"]["method"]})
    for f in sorted((results / "audit").glob("*/*_m*.json")):
        if f.name.startswith("reference_"):
            continue
        d = json.loads(f.read_text())
        if "n_samples" not in d or d.get("seconds") is None:
            continue
        rows.append({"data set": f.parent.name, "m": int(d["m"]), "kind": "detect",
                     "samples": int(d["n_samples"]), "seconds": float(d["seconds"]), "W_A": ""})
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    out = frame.groupby(["data set", "m", "kind"], as_index=False).agg(
        samples=("samples", "sum"), seconds=("seconds", "sum"))
    out["s per sample"] = out["seconds"] / out["samples"]
    return out


def summarise(results: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    jobs = stage_times(results)
    table = jobs.pivot_table(index="data set", columns="stage", values="job s", aggfunc="sum").fillna(0.0)
    table = table.reindex(columns=[s.split("/")[-1] for s in STAGES], fill_value=0.0)
    table["protocol s (1 core)"] = table.sum(axis=1)
    counts = jobs.groupby("data set").size().rename("jobs")
    biggest = jobs.groupby("data set")["job s"].max().rename("largest job s")
    table = table.join(counts).join(biggest).reset_index()
    return table, per_sample_seconds(results)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("results", type=Path)
    ap.add_argument("--label", default="")
    ap.add_argument("--dataset", action="append", help="only these data sets (repeatable)")
    ap.add_argument("--append", action="store_true")
    args = ap.parse_args()
    table, per_sample = summarise(args.results)
    if args.dataset:
        table = table[table["data set"].isin(args.dataset)]
        if not per_sample.empty:
            per_sample = per_sample[per_sample["data set"].isin(args.dataset)]
    total = table["protocol s (1 core)"].sum()
    parts = [
        "## Whole protocol per data set (`benchmarks/bench_protocol.py`)"
        + (f": {args.label}" if args.label else ""),
        "",
        f"machine: {machine()}; {dt.date.today().isoformat()}; read from the run's own benchmark files "
        f"({args.results}). Seconds are summed job times, i.e. the time on one core; two cores "
        "run two jobs at once. A job resumed after an interruption counts its last attempt's wall "
        "time plus the work its earlier attempts stored (`resumed_seconds`; for Table 2 at least "
        "the sum of its methods' seconds).",
        "",
        table.round(1).to_markdown(index=False),
        "",
        f"All data sets: {total:.0f} s on one core "
        f"({total / 2 / 60:.1f} min on 2 cores if perfectly packed).",
        "",
    ]
    if not per_sample.empty:
        parts += ["Battery seconds per sample (all seven tests; reference = honest draws, detect = Table 2 "
                  "samples, all methods together):", "", per_sample.round(3).to_markdown(index=False), ""]
    text = "\n".join(parts)
    print(text)
    if args.append:
        atomic_write_text(RESULTS_MD.read_text() + "\n" + text, RESULTS_MD)


if __name__ == "__main__":
    main()
