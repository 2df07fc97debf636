"""The SLURM profile: it parses, a dry run needs no cluster and shows each rule's declared resources,
and, where a cluster answers (``bash ci/slurm/start-cluster.sh``), the tiny config's
data -> model -> table chain run through ``sbatch`` gives the same bytes as the local run,
while sbatch and SLURM see the declared threads, memory and runtime."""

from __future__ import annotations

import fnmatch
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile")]
PROFILE = REPO / "workflow" / "profiles" / "slurm"
LOCAL_PROFILE = REPO / "workflow" / "profiles" / "default"
TINY = REPO / "tests" / "config" / "tiny.yaml"
SLURM_TOOLS = ("sinfo", "squeue", "sbatch", "srun", "sacct", "scontrol", "sacctmgr", "sshare", "scancel")
RESOURCE_KEYS = ("threads", "mem_mb", "runtime")
def _local_rules() -> set[str]:
    text = (Path(__file__).resolve().parents[1] / "Snakefile").read_text()
    block = re.search(r"^localrules:\n((?:    \w+,?\n)+)", text, re.M)
    return set(re.findall(r"\w+", block.group(1))) if block else set()


LOCAL_RULES = _local_rules()

# the cluster test's targets: data -> model -> table, every kind of job the chain has, in ~1.5 min
TARGETS = ("results/tables/datasets.csv", "results/tables/datasets.md")


# ----------------------------------------------------------------------------- helpers
def declared_resources() -> dict[str, dict[str, int]]:
    """Threads, mem_mb and runtime as written in ``workflow/rules/*.smk`` (integer literals).

    An independent reading of the rule files, to compare with what Snakemake and sbatch report.
    Rules without a ``resources:`` block (only ``all``, which runs nothing) are left out.
    """
    out: dict[str, dict[str, int]] = {}
    for smk in sorted((REPO / "workflow" / "rules").glob("*.smk")):
        # `rule name:` at the top level, or an anonymous `rule:` in a loop whose `name:` is an
        # f-string (detect_{_ds}_m{_m}): its jobs are matched by the name's pattern
        blocks = re.split(r"^\s*rule( \w+)?:\s*$", smk.read_text(), flags=re.M)
        for name, body in zip(blocks[1::2], blocks[2::2], strict=True):
            if name is None:
                fstring = re.search(r"^\s+name:\s*\n?\s*f\"([^\"]+)\"", body, flags=re.M)
                assert fstring, f"an anonymous rule in {smk.name} has no f-string name"
                name = re.sub(r"\{[^}]+\}", "*", fstring.group(1))
            name = name.strip()
            if "resources:" not in body:
                continue
            found = {
                "threads": re.search(r"^\s+threads:\s*(\d+)\s*$", body, flags=re.M),
                "mem_mb": re.search(r"\bmem_mb\s*=\s*(\d+)", body),
                "runtime": re.search(r"\bruntime\s*=\s*(\d+)", body),
            }
            missing = [k for k, m in found.items() if m is None]
            assert not missing, f"rule {name} in {smk.name} declares no integer {missing}"
            out[name] = {k: int(m.group(1)) for k, m in found.items()}
    return out


def declared_for(rule: str, declared: dict[str, dict[str, int]]) -> dict[str, int] | None:
    """The declared resources of ``rule``, matching loop-defined rules by their name pattern."""
    if rule in declared:
        return declared[rule]
    found = [res for name, res in declared.items() if "*" in name and fnmatch.fnmatchcase(rule, name)]
    return found[0] if len(found) == 1 else None


def parse_dry_run(text: str) -> list[dict]:
    """One dict per job of a ``snakemake -n`` listing: rule, wildcards, threads and resources."""
    jobs = []
    for block in re.split(r"^(?:local)?rule ", text, flags=re.M)[1:]:
        rule = block.split(":", 1)[0].strip()
        job = {"rule": rule, "threads": 1}
        if m := re.search(r"^\s+wildcards:\s*(.+)$", block, flags=re.M):
            job["wildcards"] = m.group(1).strip()
        if m := re.search(r"^\s+threads:\s*(\d+)", block, flags=re.M):
            job["threads"] = int(m.group(1))
        if m := re.search(r"^\s+resources:\s*(.+)$", block, flags=re.M):
            for item in m.group(1).split(", "):
                key, _, value = item.partition("=")
                job[key.strip()] = int(value) if value.strip().isdigit() else value.strip()
        jobs.append(job)
    return jobs


def cluster_missing() -> str | None:
    """None when a SLURM cluster answers with a usable node, else what is missing."""
    if shutil.which("sinfo") is None or shutil.which("sbatch") is None:
        return "no SLURM client on PATH (sinfo/sbatch); start one with `sudo bash ci/slurm/start-cluster.sh`"
    try:
        proc = subprocess.run(["sinfo", "-h", "-o", "%a %T"], capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        return "sinfo did not answer within 20 s (slurmctld down?)"
    if proc.returncode != 0:
        return f"sinfo failed (slurmctld down?): {proc.stderr.strip()[:300]}"
    states = proc.stdout.split()
    if not any(s.startswith(("idle", "mixed", "allocated")) for s in states[1::2]):
        return f"no usable SLURM node: sinfo says {proc.stdout.strip()!r}"
    return None


def node_capacity() -> tuple[int, int]:
    """CPUs and memory (MB) of the smallest node of the default partition."""
    out = subprocess.run(["sinfo", "-h", "-o", "%P %c %m"], capture_output=True, text=True,
                         timeout=20, check=True).stdout.split("\n")
    rows = [line.split() for line in out if line.strip()]
    row = next((r for r in rows if r[0].endswith("*")), rows[0])
    return int(row[1].rstrip("+")), int(row[2].rstrip("+"))


def env_without_slurm(tmp: Path) -> dict[str, str]:
    """The environment with a PATH in which no SLURM command exists (a machine with no cluster)."""
    shadow = tmp / "bin"
    shadow.mkdir()
    seen = set()
    for d in os.environ.get("PATH", "").split(os.pathsep):
        p = Path(d)
        if not p.is_dir():
            continue
        for exe in p.iterdir():
            if exe.name in seen or exe.name in SLURM_TOOLS:
                continue
            seen.add(exe.name)
            (shadow / exe.name).symlink_to(exe)
    env = dict(os.environ, PATH=str(shadow))
    for key in list(env):
        if key.startswith("SLURM_"):
            env.pop(key)
    return env


# ----------------------------------------------------------------------------- no cluster needed
def test_profile_parses_and_is_cluster_neutral():
    prof = yaml.safe_load((PROFILE / "config.yaml").read_text())
    assert prof["executor"] == "slurm"
    assert isinstance(prof["jobs"], int) and prof["jobs"] >= 1
    assert prof["latency-wait"] >= 10
    # per-rule resources come from the rules; accounts and partitions belong to the user's cluster
    assert "set-resources" not in prof and "set-threads" not in prof
    text = (PROFILE / "config.yaml").read_text()
    assert "slurm_account:" not in text and "slurm_partition:" not in text


def test_declared_resources_cover_every_rule_that_runs():
    declared = declared_resources()
    assert {"load_data", "train_model", "table_datasets"} <= set(declared)
    for rule, res in declared.items():
        assert res["threads"] >= 1 and res["mem_mb"] >= 100 and res["runtime"] >= 1, (rule, res)


def test_dry_run_with_slurm_executor_needs_no_cluster(tmp_path):
    """``--executor slurm -n`` with every SLURM command off PATH lists the jobs with the rules' resources."""
    env = env_without_slurm(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    # -n alone caps threads at --cores=1 in the listing; a large --cores shows what sbatch would get
    proc = subprocess.run([*SNAKEMAKE, "-d", str(work), "--configfile", str(TINY), "--workflow-profile",
                           str(PROFILE), "-n", "--cores", "1000"],
                          capture_output=True, text=True, timeout=300, env=env)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert not (work / "results").exists()
    jobs = [j for j in parse_dry_run(out) if j["rule"] != "all"]
    declared = declared_resources()
    undeclared = {j["rule"] for j in jobs if declared_for(j["rule"], declared) is None}
    assert not undeclared, f"rules without declared threads/mem_mb/runtime: {undeclared}"
    counts = {r: sum(j["rule"] == r for j in jobs) for r in ("load_data", "train_model", "table_datasets")}
    assert counts == {"load_data": 2, "train_model": 2, "table_datasets": 1}, counts
    for job in jobs:
        assert {k: job.get(k) for k in RESOURCE_KEYS} == declared_for(job["rule"], declared), job
    assert any(j["rule"].startswith("detect_") for j in jobs)  # the loop-defined rules were checked


# ----------------------------------------------------------------------------- a real cluster
def _sbatch_calls(log: str) -> list[str]:
    return [line.split("sbatch call: ", 1)[1] for line in log.splitlines() if "sbatch call: " in line]


def _slurm_job_ids(log: str) -> dict[str, str]:
    """SLURM job id -> the plugin's log path for that job (rule and wildcards in the path)."""
    return dict(re.findall(r"submitted with SLURM jobid (\d+) \(log: ([^)]+)\)", log))


def _scontrol_job(jobid: str) -> dict[str, str]:
    proc = subprocess.run(["scontrol", "-o", "show", "job", jobid],
                          capture_output=True, text=True, timeout=20)
    assert proc.returncode == 0, f"scontrol show job {jobid}: {proc.stderr}"
    return dict(kv.split("=", 1) for kv in proc.stdout.split() if "=" in kv)


def _comparable_files(root: Path) -> list[str]:
    """Every output under results/ except logs (a log could hold host names or timings)."""
    return sorted(str(p.relative_to(root)) for p in (root / "results").rglob("*")
                  if p.is_file() and "logs" not in p.relative_to(root).parts)


@pytest.mark.slow
def test_tiny_config_through_slurm_equals_local_run(tmp_path):
    reason = cluster_missing()
    if reason:
        pytest.skip(reason)
    cpus, mem = node_capacity()
    declared = declared_resources()
    # a CI node smaller than a rule's request: cap that rule (and say so) instead of queueing forever
    expected, caps = {}, []
    for rule, res in declared.items():
        if "*" in rule:  # loop-defined rules (detection) are not among this test's targets
            continue
        eff = dict(res, threads=min(res["threads"], cpus), mem_mb=min(res["mem_mb"], mem))
        expected[rule] = eff
        if eff["threads"] != res["threads"]:
            caps += ["--set-threads", f"{rule}={eff['threads']}"]
        if eff["mem_mb"] != res["mem_mb"]:
            caps += ["--set-resources", f"{rule}:mem_mb={eff['mem_mb']}"]
    if caps:
        print(f"node has {cpus} CPUs / {mem} MB: capped {caps}")

    slurm_dir, local_dir = tmp_path / "slurm", tmp_path / "local"
    slurm_dir.mkdir()
    local_dir.mkdir()
    dry = subprocess.run([*SNAKEMAKE, "-d", str(tmp_path), "--configfile", str(TINY), "--workflow-profile",
                          str(PROFILE), "-n", "--cores", "1000", *TARGETS],
                         capture_output=True, text=True, timeout=300)
    assert dry.returncode == 0, (dry.stdout + dry.stderr)[-4000:]
    dry_jobs = parse_dry_run(dry.stdout + dry.stderr)
    n_jobs = len(dry_jobs)
    # the Snakefile's localrules (the table rules) run beside the scheduler, not through sbatch
    n_local = sum(j["rule"] in LOCAL_RULES for j in dry_jobs)
    slurm_cmd = [*SNAKEMAKE, "-d", str(slurm_dir), "--configfile", str(TINY),
                 "--workflow-profile", str(PROFILE),
                 # no slurmdbd on the loopback cluster: squeue (MinJobAge=900) reports finished jobs
                 "--slurm-status-command", "squeue",
                 "--slurm-init-seconds-before-status-checks", "1",
                 "--slurm-keep-successful-logs", "--verbose", *caps, *TARGETS]
    local_cmd = [*SNAKEMAKE, "-d", str(local_dir), "--configfile", str(TINY),
                 "--workflow-profile", str(LOCAL_PROFILE), *TARGETS]
    # the SLURM run mostly waits on its status polls: run the local reference meanwhile
    with subprocess.Popen(slurm_cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as sp:
        local = subprocess.run(local_cmd, capture_output=True, text=True, timeout=600)
        try:
            slurm_log, _ = sp.communicate(timeout=600)
        except subprocess.TimeoutExpired:
            sp.kill()
            slurm_log, _ = sp.communicate()
            pytest.fail(f"SLURM run did not finish in 600 s:\n{slurm_log[-4000:]}")
    assert local.returncode == 0, (local.stdout + local.stderr)[-4000:]
    assert sp.returncode == 0, slurm_log[-6000:]

    # every job went through sbatch with the rule's threads, memory and runtime
    calls = _sbatch_calls(slurm_log)
    assert n_jobs == 5 and n_local == 1 and len(calls) == n_jobs - n_local, (n_jobs, n_local, calls)
    for call in calls:
        rule = re.search(r"--comment '?rule_([a-z_]+?)(?:_wildcards_\w+)?'?\s", call).group(1)
        want = expected[rule]
        assert f" -t {want['runtime']} " in call, (rule, call)
        assert f" --mem {want['mem_mb']} " in call, (rule, call)
        assert f" --cpus-per-task={want['threads']} " in call, (rule, call)
        assert " -p " in call  # the default partition, found with sinfo

    # ... and SLURM itself ran them with those limits
    jobs = _slurm_job_ids(slurm_log)
    assert len(jobs) == n_jobs - n_local, jobs
    for jobid, logpath in jobs.items():
        rule = re.search(r"/rule_([a-z_]+)/", logpath).group(1)
        info = _scontrol_job(jobid)
        assert info["JobState"] == "COMPLETED", info
        assert int(info["NumCPUs"]) == expected[rule]["threads"], (rule, info)
        assert info["MinMemoryNode"] == f"{expected[rule]['mem_mb']}M", (rule, info)
        h, m, s = (int(x) for x in info["TimeLimit"].split("-")[-1].split(":"))
        assert h * 60 + m + s / 60 == expected[rule]["runtime"], (rule, info)
        assert Path(logpath).exists(), logpath

    # same outputs, same bytes
    files = _comparable_files(local_dir)
    assert files == _comparable_files(slurm_dir)
    assert {"results/audited/simtiny.parquet", "results/models/loantiny/metrics.json",
            "results/tables/datasets.csv"} <= set(files)
    differ = [f for f in files if (local_dir / f).read_bytes() != (slurm_dir / f).read_bytes()]
    assert not differ, differ
