"""Rule table_cost: measured time and memory of each method, beside the paper's Tables 8 and 10."""

import sys

sys.stderr = open(snakemake.log[0], "w")

from fairwash.tables import cost_table, write_table

p = snakemake.params
pairs = [tuple(k) for k in p.pairs]
table = cost_table(
    manipulated=dict(zip(pairs, snakemake.input.summaries, strict=True)),
    audited_meta=dict(zip(p.datasets, snakemake.input.audited, strict=True)),
    detect=dict(zip([tuple(k) for k in p.detect_index], snakemake.input.detect, strict=True)),
    fairest=dict(zip([tuple(k) for k in p.fairest_index], snakemake.input.fairest, strict=True)),
    method_benchmarks=dict(zip(pairs, p.method_benchmarks, strict=True)),
    audit_benchmarks=dict(zip(pairs, p.audit_benchmarks, strict=True)),
)
write_table(table, csv=snakemake.output.csv, md=snakemake.output.md, tex=snakemake.output.tex, digits=2,
            title="Table 8 (ours). Measured cost of each method; paper = its Tables 8 and 10")
