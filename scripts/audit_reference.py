"""Rule reference: honest reference draws and thresholds of the battery for one (data set, m)."""

import sys

sys.stderr = open(snakemake.log[0], "w")

from fairwash.pipeline.audit import reference_stage

out = reference_stage(
    audited_parquet=snakemake.input.audited,
    m=int(snakemake.wildcards.m),
    n_draws=snakemake.params.n_draws,
    level=snakemake.params.level,
    rule=snakemake.params.rule,
    w_method=snakemake.params.w_method,
    subref_size=snakemake.params.subref_size,
    subref_seed=snakemake.params.subref_seed,
    seed=snakemake.params.seed,
    out_json=snakemake.output.json,
    resume_dir=snakemake.params.resume,
    workers=snakemake.threads,
)
print({k: out[k] for k in ("m", "n", "rule", "thresholds", "seconds")}, file=sys.stderr)
