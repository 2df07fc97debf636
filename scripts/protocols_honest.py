"""Rule protocol_honest: every protocol on honest samples of one size (the comparison's false alarms)."""

import sys

sys.stderr = open(snakemake.log[0], "w")

from fairwash.pipeline.protocols import honest_stage

p = snakemake.params
out = honest_stage(audited_parquet=snakemake.input.audited, reference_json=snakemake.input.reference,
                   n_honest=p.n_honest, n_honest_optimal=p.n_honest_optimal, seed=p.seed,
                   out_parquet=snakemake.output.parquet, out_json=snakemake.output.json)
print(out["rates"], file=sys.stderr)
