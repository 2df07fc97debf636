"""Rule figure_sample_size: Fig. 8 (fairest undetected DI against the sample size)."""

import sys

sys.stderr = open(snakemake.log[0], "w")

import pandas as pd

from fairwash.figures import plot_sample_size, save_figure
from fairwash.store import read_audit_frame

study = pd.concat([read_audit_frame(p) for p in snakemake.input.parquets], ignore_index=True)
datasets = pd.read_csv(snakemake.input.datasets)
original = dict(zip(datasets["data set"], datasets["DI model"], strict=True))
fig = plot_sample_size(study, target=snakemake.params.target, original_di=original)
print(save_figure(fig, snakemake.output.png, snakemake.output.pdf), file=sys.stderr)
