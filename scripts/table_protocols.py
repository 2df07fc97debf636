"""Rule table_protocols: the protocols' table and figure of one data set."""

import sys

sys.stderr = open(snakemake.log[0], "w")

from fairwash.pipeline.protocols import comparison_stage

p = snakemake.params
comparison_stage(
    dataset=snakemake.wildcards.ds, audited_parquet=snakemake.input.audited,
    reference_jsons=dict(zip(p.sizes, snakemake.input.references, strict=True)),
    honest_jsons=list(snakemake.input.honest),
    fairest_jsons=dict(zip(p.methods, snakemake.input.fairest, strict=True)),
    detections=p.jobs, tau=p.tau, grid_points=p.grid_points,
    out_csv=snakemake.output.csv, out_md=snakemake.output.md, out_png=snakemake.output.png,
)
