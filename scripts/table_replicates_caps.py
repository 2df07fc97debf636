"""Rule table_replicates_caps: the cell cap's spread per (data set, m) beside the paper's fairest DI."""

import sys

sys.stderr = open(snakemake.log[0], "w")

from fairwash.pipeline.cap_replicates import caps_table, read_caps
from fairwash.tables import write_table

p, o = snakemake.params, snakemake.output
table = caps_table(read_caps(snakemake.input.caps), specs=p.specs, n_audit=p.n_audit)
write_table(table, csv=o.csv, md=o.md, tex=o.tex, digits=3,
            title="The battery's cell cap over independent honest draws beside the paper's fairest DI")
print(table.to_string(), file=sys.stderr)
