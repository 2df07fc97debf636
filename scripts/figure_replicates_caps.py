"""Rule figure_replicates_caps: the cell cap's spread per (data set, m), the paper, the optimal cap."""

import sys

sys.stderr = open(snakemake.log[0], "w")

from fairwash.figures.cap_replicates import plot_cap_replicates
from fairwash.figures.style import save_figure
from fairwash.pipeline.cap_replicates import caps_table, read_caps

p, o = snakemake.params, snakemake.output
values = read_caps(snakemake.input.caps)
fig = plot_cap_replicates(values, caps_table(values, specs=p.specs, n_audit=p.n_audit))
print(save_figure(fig, o.png, o.pdf), file=sys.stderr)
