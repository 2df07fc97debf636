"""Rule table_detection: Table 2 (does some sample with DI > 0.8 pass every test?)."""

import sys

sys.stderr = open(snakemake.log[0], "w")

from fairwash.tables import detection_table, write_table

keys = [tuple(k) for k in snakemake.params.index]
table = detection_table(dict(zip(keys, snakemake.input.summaries, strict=True)), specs=snakemake.params.specs)
write_table(table, csv=snakemake.output.csv, md=snakemake.output.md, tex=snakemake.output.tex,
            title="Table 2. Detection: samples with DI > 0.8 that pass the seven tests; "
                  "paper = the paper's verdict (Section 7)", digits=2)
