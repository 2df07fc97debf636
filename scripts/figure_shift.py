"""Rule figure_shift: Fig. 4 (radar of W and KL per method) and the DI-gain vs W trade-off."""

import sys

sys.stderr = open(snakemake.log[0], "w")

import pandas as pd

from fairwash.figures import plot_shift_radar, plot_tradeoff, save_figure

shift = pd.read_csv(snakemake.input.shift)
datasets, o = snakemake.params.datasets, snakemake.output
print(save_figure(plot_shift_radar(shift, datasets=datasets), o.radar, o.radar_pdf), file=sys.stderr)
print(save_figure(plot_tradeoff(shift, datasets=datasets), o.tradeoff, o.tradeoff_pdf), file=sys.stderr)
