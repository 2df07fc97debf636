"""Rule figure_shift_curve: Fig. 7 (shift against the original DI, simulated data)."""

import sys

sys.stderr = open(snakemake.log[0], "w")

import pandas as pd

from fairwash.figures import plot_shift_curve, save_figure

curve = pd.read_parquet(snakemake.input.parquet)
fig = plot_shift_curve(curve, target=snakemake.params.target)
print(save_figure(fig, snakemake.output.png, snakemake.output.pdf), file=sys.stderr)
