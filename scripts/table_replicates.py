"""Rule table_replicates: our spread over K replicates of Tables 3 and 15 beside the paper's values."""

import sys

sys.stderr = open(snakemake.log[0], "w")

from fairwash.pipeline.replicates import reference_values, replicate_values, replicates_table
from fairwash.tables import write_table

p, i, o = snakemake.params, snakemake.input, snakemake.output
values = replicate_values(dict(zip([tuple(k) for k in p.index], i.results, strict=True)), specs=p.specs,
                          n_audit=p.n_audit)
caps = None
if p.reference_index:
    caps = reference_values(dict(zip([tuple(k) for k in p.reference_index], i.references, strict=True)),
                            audited=dict(zip(p.reference_datasets, i.audited, strict=True)),
                            ablation=p.ablation)
table = replicates_table(values, caps)
write_table(table, csv=o.csv, md=o.md, tex=o.tex, digits=3,
            title="Fairest undetected DI over K replicates (median, 10–90 % range) beside the paper's value")
print(table.to_string(), file=sys.stderr)
