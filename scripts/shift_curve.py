"""Rule shift_curve: Fig. 7's simulated family, every method to the target, exact shifts."""

import sys

sys.stderr = open(snakemake.log[0], "w")

from fairwash.pipeline.shift_curve import shift_curve_stage

spec = dict(snakemake.params.spec)
summary = shift_curve_stage(
    label_di=spec["label_di"],
    methods=spec["methods"],
    target=snakemake.params.target,
    n_audit=spec["n_audit"],
    n_features=spec["n_features"],
    p_s1=spec["p_s1"],
    p_y1_s1=spec["p_y1_s1"],
    model=spec["model"],
    options=snakemake.params.options,
    random_state=snakemake.params.seed,
    threads=snakemake.threads,
    progress=snakemake.params.progress,
    out_parquet=snakemake.output.parquet,
    out_json=snakemake.output.json,
)
print(summary, file=sys.stderr)
