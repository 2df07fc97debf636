"""Rule cap_replicates: the cell cap of one data set over independent sets of honest cell-test draws."""

import sys

sys.stderr = open(snakemake.log[0], "w")

from fairwash.pipeline.cap_replicates import cap_replicates_stage

p = snakemake.params
frame = cap_replicates_stage(audited_parquet=snakemake.input.audited, dataset=snakemake.wildcards.ds,
                             sets=p.sets, n_draws=p.n_draws, level=p.level, rule=p.rule, ablation=p.ablation,
                             out_parquet=snakemake.output.parquet)
print(frame.to_string(), file=sys.stderr)
