"""Rule table_replicates_reference: thresholds and cell caps over independent sets of honest draws."""

import sys

sys.stderr = open(snakemake.log[0], "w")

from fairwash.pipeline.audit import authors_thresholds
from fairwash.pipeline.replicates import reference_values, replicates_reference_table
from fairwash.tables import write_table

p, i, o = snakemake.params, snakemake.input, snakemake.output
values = reference_values(dict(zip([tuple(k) for k in p.index], i.references, strict=True)),
                          audited=dict(zip(p.datasets, i.audited, strict=True)), ablation=p.ablation)
theirs = authors_thresholds(p.authors_dir) if p.authors else None
table = replicates_reference_table(values, specs=p.specs, authors_thresholds=theirs)
write_table(table, csv=o.csv, md=o.md, tex=o.tex, digits=4,
            title="Reference thresholds and cell caps over independent sets of honest draws")
print(table.to_string(), file=sys.stderr)
