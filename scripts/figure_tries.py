"""Rule figure_tries: Figs. 9 and 11 of one data set (rejection and success against the number of tries)."""

import sys

sys.stderr = open(snakemake.log[0], "w")

from fairwash.figures import (
    detection_frame,
    detection_tries,
    fairest_tries,
    plot_detection_tries,
    plot_fairest_tries,
    read_fairest,
    save_figure,
)
from fairwash.tables import search_not_run

ds, p, o = snakemake.wildcards.ds, snakemake.params, snakemake.output
keys = [(me, int(m)) for me, m in p.verdict_keys]
verdicts = detection_frame(dict(zip(keys, snakemake.input.verdicts, strict=True)))
fig = plot_detection_tries(detection_tries(verdicts), dataset=ds)
print(save_figure(fig, o.fig9, o.fig9_pdf), file=sys.stderr)
fairest = read_fairest(dict(zip(p.fairest_methods, snakemake.input.fairest, strict=True)))
not_run = [me for me, run in fairest.items()  # the rule of Table 3's "n/a", at every size
           if all(search_not_run(by_set["seven"]) for by_set in run["sizes"].values())]
fig = plot_fairest_tries(fairest_tries(fairest), dataset=ds, sizes=p.sizes, methods=list(fairest),
                         not_run=not_run)
print(save_figure(fig, o.fig11, o.fig11_pdf), file=sys.stderr)
