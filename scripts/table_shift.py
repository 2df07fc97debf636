"""Rule table_shift: W and KL of every manipulation from its original (Tables 4, 11-14)."""

import sys

sys.stderr = open(snakemake.log[0], "w")

from fairwash.pipeline.manipulate import shift_table
from fairwash.tables import shift_with_paper, write_table

audited = dict(zip(snakemake.params.datasets, snakemake.input.audited, strict=True))
manipulated = {
    tuple(pair): (parquet, summary)
    for pair, parquet, summary in zip(
        snakemake.params.pairs, snakemake.input.parquets, snakemake.input.summaries, strict=True
    )
}
table = shift_with_paper(shift_table(audited=audited, manipulated=manipulated), specs=snakemake.params.specs)
write_table(table, csv=snakemake.output.csv, md=snakemake.output.md, tex=snakemake.output.tex,
            title="Tables 4, 11-14. Distribution shift of each method (W: Wasserstein, KL); "
                  "paper = the paper's value", digits=3)
