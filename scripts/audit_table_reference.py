"""Rule table_reference: our reference thresholds (beside the authors' for their data sets)."""

import sys

sys.stderr = open(snakemake.log[0], "w")

from fairwash.pipeline.audit import authors_thresholds, code_mode_for
from fairwash.tables import thresholds_table, write_table

p = snakemake.params
refs = dict(zip([tuple(k) for k in p.index], snakemake.input.references, strict=True))
theirs = authors_thresholds(p.authors_dir) if p.authors else None
audited = dict(zip(p.authors_sets, snakemake.input.audited, strict=True))
code = {(ds, m): code_mode_for(path, audited[ds]) for (ds, m), path in refs.items() if ds in audited}
table = thresholds_table(refs, specs=p.specs, authors_thresholds=theirs, code_mode=code)
write_table(table, csv=snakemake.output.csv, md=snakemake.output.md, tex=snakemake.output.tex, digits=4,
            title="Reference thresholds of the battery (eq. 3)")
