"""Rule figure_replicates: one data set's K replicates of Tables 3 and 15 beside the paper's values."""

import sys

sys.stderr = open(snakemake.log[0], "w")

from fairwash.figures.replicates import plot_replicates
from fairwash.figures.style import save_figure
from fairwash.pipeline.replicates import replicate_values, replicates_table

p, o = snakemake.params, snakemake.output
values = replicate_values(dict(zip([tuple(k) for k in p.index], snakemake.input.results, strict=True)),
                          specs=p.specs, n_audit=p.n_audit)
fig = plot_replicates(values, replicates_table(values), dataset=snakemake.wildcards.ds)
print(save_figure(fig, o.png, o.pdf), file=sys.stderr)
