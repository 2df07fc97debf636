"""Rule reference_replicate: thresholds of one (data set, m) from an independent set r of honest draws."""

import sys

sys.stderr = open(snakemake.log[0], "w")

from fairwash.pipeline.audit import reference_stage

p = snakemake.params
out = reference_stage(
    audited_parquet=snakemake.input.audited, m=int(snakemake.wildcards.m), n_draws=p.n_draws, level=p.level,
    rule=p.rule, w_method=p.w_method, subref_size=p.subref_size, subref_seed=p.subref_seed, seed=p.seed,
    out_json=snakemake.output.json, resume_dir=p.resume,
)
print({k: out[k] for k in ("m", "n", "rule", "thresholds", "seconds")}, file=sys.stderr)
